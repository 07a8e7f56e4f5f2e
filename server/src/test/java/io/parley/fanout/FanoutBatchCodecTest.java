package io.parley.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The wire form of a hot conversation's part sent to another node's fan-out: every field of every
 * fan-out survives, in order; another version, or a truncated buffer, is refused with a reason.
 */
class FanoutBatchCodecTest {
  private final FanoutBatchCodec codec = new FanoutBatchCodec();

  @Test
  void aBatchCrossesTheWireWholeAndInOrder() {
    FanoutBatch sent = new FanoutBatch(List.of(
        new Fanout(7, 1025, "alice", "{\"op\":\"msg\",\"body\":\"héllo ✓\"}", List.of("alice", "bob"), "n1-3-phone",
            "héllo ✓", 1024),
        new Fanout(8, 0, "carol", "{\"op\":\"typing\"}", List.of("dave"), null, null, 0)));
    Buffer wire = Buffer.buffer().appendString("prefix");

    codec.encodeToWire(wire, sent);
    FanoutBatch got = codec.decodeFromWire("prefix".length(), wire);

    assertThat(got.fanouts()).hasSize(2);
    for (int i = 0; i < 2; i++) {
      Fanout a = sent.fanouts().get(i);
      Fanout b = got.fanouts().get(i);
      assertThat(List.copyOf(b.recipients())).containsExactlyElementsOf(a.recipients());
      assertThat(b).usingRecursiveComparison().ignoringFields("recipients").isEqualTo(a);
    }
    assertThat(wire.getByte("prefix".length())).isEqualTo(FanoutBatchCodec.VERSION);
    assertThat(codec.transform(sent)).as("by reference within a node").isSameAs(sent);
  }

  @Test
  void anotherVersionOrATruncatedBufferIsRefusedWithTheReason() {
    Buffer wire = Buffer.buffer();
    codec.encodeToWire(wire, FanoutBatch.of(new Fanout(1, 2, "a", "{}", List.of("a", "b"), null, "x")));
    Buffer other = wire.copy();
    other.setByte(0, (byte) (FanoutBatchCodec.VERSION + 1));
    assertThatThrownBy(() -> codec.decodeFromWire(0, other)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("wire version " + (FanoutBatchCodec.VERSION + 1));
    Buffer cut = wire.getBuffer(0, wire.length() - 3);
    assertThatThrownBy(() -> codec.decodeFromWire(0, cut)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("parley.fanouts");
  }
}
