package io.parley.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A connection's last ids per conversation: kept up to the bound, the least recently updated forgotten first. */
class LastIdsTest {

  @Test
  void keepsUpToTheBoundAndForgetsTheLeastRecentlyUpdated() {
    LastIds last = new LastIds();
    assertThat(last.get(1)).isEqualTo(LastIds.UNKNOWN);
    for (long conv = 1; conv <= LastIds.MAX; conv++) {
      last.put(conv, conv * 10);
    }
    assertThat(last.size()).isEqualTo(LastIds.MAX);
    last.put(1, 11); // 1 is now the most recent, 2 the least
    last.put(LastIds.MAX + 1, 7);
    assertThat(last.size()).isEqualTo(LastIds.MAX);
    assertThat(last.get(2)).as("forgotten").isEqualTo(LastIds.UNKNOWN);
    assertThat(last.get(1)).isEqualTo(11);
    assertThat(last.get(3)).isEqualTo(30);
    assertThat(last.get(LastIds.MAX + 1)).isEqualTo(7);
    assertThat(last.get(LastIds.MAX)).isEqualTo(LastIds.MAX * 10);
  }

  @Test
  void zeroIsALastIdNotUnknown() {
    LastIds last = new LastIds();
    last.put(5, 0);
    assertThat(last.get(5)).isZero();
  }
}
