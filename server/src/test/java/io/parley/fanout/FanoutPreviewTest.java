package io.parley.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The preview routing hands push: at most 64 code points, never half of a surrogate pair. */
class FanoutPreviewTest {

  @Test
  void shortBodiesAreKeptWhole() {
    assertThat(Fanout.preview("hi")).isEqualTo("hi");
    assertThat(Fanout.preview("x".repeat(64))).isEqualTo("x".repeat(64));
  }

  @Test
  void longBodiesKeepTheirFirst64CodePoints() {
    assertThat(Fanout.preview("y".repeat(65))).isEqualTo("y".repeat(64));
  }

  @Test
  void aSurrogatePairAtTheCutIsKeptWhole() {
    String face = "\uD83D\uDE00"; // one code point, two chars
    String body = "a".repeat(63) + face + "tail";
    String preview = Fanout.preview(body);
    assertThat(preview).isEqualTo("a".repeat(63) + face);
    assertThat(preview.codePointCount(0, preview.length())).isEqualTo(64);
    assertThat(Character.isHighSurrogate(preview.charAt(preview.length() - 1))).isFalse();
  }

  @Test
  void bodiesOfPairsKeep64OfThem() {
    String face = "\uD83D\uDE00";
    assertThat(Fanout.preview(face.repeat(100))).isEqualTo(face.repeat(64));
  }
}
