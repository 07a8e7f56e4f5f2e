package io.parley.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DrainScheduleTest {

  @Test
  void everyMomentFallsInTheWindowAscendingAndNoSecondHoldsMoreThanItsShare() {
    for (int n : new int[] {1, 7, 1_000, 50_000}) {
      for (long window : new long[] {1_500, 30_000, 60_000}) {
        long[] at = DrainSchedule.offsets(n, window, new Random(n * 31L + window));
        assertThat(at).hasSize(n);
        for (int i = 0; i < n; i++) {
          assertThat(at[i]).isBetween(0L, window - 1);
          if (i > 0) {
            assertThat(at[i]).isGreaterThanOrEqualTo(at[i - 1]);
          }
        }
        long bound = (n * 1_000L + window - 1) / window + 1;
        int busiest = 0;
        for (int i = 0, j = 0; i < n; i++) {
          while (at[i] - at[j] >= 1_000) {
            j++;
          }
          busiest = Math.max(busiest, i - j + 1);
        }
        assertThat((long) busiest).as("n %d, window %d ms", n, window).isLessThanOrEqualTo(bound);
      }
    }
  }

  @Test
  void jitteredNotEvenlySpacedAndAWindowOfZeroIsAllAtOnce() {
    long[] a = DrainSchedule.offsets(100, 10_000, new Random(1));
    long[] b = DrainSchedule.offsets(100, 10_000, new Random(2));
    assertThat(a).isNotEqualTo(b);
    assertThat(Arrays.stream(DrainSchedule.offsets(5, 0, new Random(3))).distinct()).containsExactly(0L);
  }
}
