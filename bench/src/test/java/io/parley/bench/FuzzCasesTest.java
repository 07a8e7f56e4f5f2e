package io.parley.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The generator is deterministic for a seed, covers every family of case, and frames bytes as RFC 6455 lays them out. */
class FuzzCasesTest {
  private static final FuzzCases.Target TARGET = new FuzzCases.Target("fz0", "fz1", "11", "12", "token");

  private static List<FuzzCases.Case> cases(long seed, int n) {
    FuzzCases gen = new FuzzCases(new Random(seed), TARGET, 262_144);
    List<FuzzCases.Case> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(gen.next());
    }
    return out;
  }

  @Test
  void aSeedGivesTheSameBytesAgainAndAnotherSeedOthers() {
    List<FuzzCases.Case> a = cases(18, 300);
    List<FuzzCases.Case> b = cases(18, 300);
    List<FuzzCases.Case> c = cases(19, 300);
    boolean differs = false;
    for (int i = 0; i < a.size(); i++) {
      assertThat(a.get(i).kind()).isEqualTo(b.get(i).kind());
      assertThat(a.get(i).frames()).hasSameSizeAs(b.get(i).frames());
      for (int f = 0; f < a.get(i).frames().size(); f++) {
        assertThat(a.get(i).frames().get(f)).isEqualTo(b.get(i).frames().get(f));
      }
      differs |= !a.get(i).kind().equals(c.get(i).kind());
    }
    assertThat(differs).isTrue();
  }

  @Test
  void everyFamilyOfCaseComesUp() {
    Set<String> families = new HashSet<>();
    for (FuzzCases.Case c : cases(7, 5_000)) {
      families.add(c.kind().substring(0, c.kind().indexOf('.') < 0 ? c.kind().length() : c.kind().indexOf('.')));
    }
    assertThat(families).contains("json", "fragments", "control", "binary", "bad_utf8", "framing", "close", "oversized");
  }

  @Test
  void framesFollowSection52() {
    byte[] f = FuzzClient.frame(true, 0, FuzzClient.OP_TEXT, true, "hi".getBytes(), 0, new Random(1));
    assertThat(f).hasSize(2 + 4 + 2);
    assertThat(f[0] & 0xFF).isEqualTo(0x81);
    assertThat(f[1] & 0xFF).isEqualTo(0x80 | 2);
    assertThat((byte) (f[6] ^ f[2])).isEqualTo((byte) 'h');
    byte[] longForm = FuzzClient.frame(false, 5, FuzzClient.OP_CONT, false, new byte[3], 64, new Random(1));
    assertThat(longForm[0] & 0xFF).isEqualTo(0x50);
    assertThat(longForm[1] & 0xFF).isEqualTo(127);
    assertThat(longForm).hasSize(2 + 8 + 3);
    assertThat(longForm[9]).isEqualTo((byte) 3);
  }

  @Test
  void aSendWithAUsableMsgIdExpectsItsReplyAndMalformedJsonAnError() {
    int sends = 0;
    int malformed = 0;
    for (FuzzCases.Case c : cases(3, 3_000)) {
      if (c.kind().equals("json.send")) {
        assertThat(c.msgIds()).hasSize(1);
        sends++;
      }
      if (c.kind().equals("json.not_an_object")) {
        assertThat(c.syncError()).isEqualTo("bad_request");
        malformed++;
      }
      if (c.close() != null) {
        assertThat(c.msgIds()).as("a case that ends the connection waits for no ack").isEmpty();
      }
    }
    assertThat(sends).isPositive();
    assertThat(malformed).isPositive();
  }
}
