package io.parley.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The open-loop schedule: a warm-up whose rate rises linearly, then the measured window at the rate. */
class MessageTrackerTest {
  static final long S = 1_000_000_000L;

  static MessageTracker tracker(double rate, double warmup, double duration, double rampFrom) {
    long total = MessageTracker.totalMessages(rate, warmup, duration, rampFrom);
    MessageTracker t = new MessageTracker(10, 2, rate, total);
    t.start(1_000 * S, (long) (warmup * S), (long) (duration * S), rampFrom);
    return t;
  }

  @Test
  void theWarmUpRampsFromAFractionOfTheRateAndTheWindowRunsAtTheRate() {
    // 1,000 msgs/s, 4 s warm-up rising from 100/s, 10 s window: 4 * (100 + 1000) / 2 = 2,200 warm-up messages
    MessageTracker t = tracker(1000, 4, 10, 0.1);
    assertThat(t.total).isEqualTo(2_200 + 10_000);
    assertThat(t.scheduledNanos(0)).isEqualTo(1_000 * S);
    assertThat(t.scheduledNanos(2_200)).isCloseTo(1_004 * S, within(1_000L));
    // at the start the gaps are those of about 100/s (the first one: 100 t + 112.5 t^2 = 1, t = 9.889 ms),
    // at the end of the warm-up those of 1,000/s
    assertThat((t.scheduledNanos(1) - t.scheduledNanos(0)) / 1e6).isCloseTo(9.889, within(0.001));
    assertThat((t.scheduledNanos(2_199) - t.scheduledNanos(2_198)) / 1e6).isCloseTo(1.0, within(0.01));
    // the window: 10,000 messages 1 ms apart, the last one due before it ends
    assertThat(t.scheduledNanos(2_201) - t.scheduledNanos(2_200)).isEqualTo(1_000_000L);
    assertThat(t.scheduledNanos(t.total - 1)).isLessThan(1_014 * S).isGreaterThanOrEqualTo(1_014 * S - 1_000_000L);
    for (long k = 1; k < t.total; k++) {
      assertThat(t.scheduledNanos(k)).as("message %d", k).isGreaterThanOrEqualTo(t.scheduledNanos(k - 1));
    }
  }

  @Test
  void rampFromOneIsAFlatSchedule() {
    MessageTracker t = tracker(500, 2, 3, 1);
    assertThat(t.total).isEqualTo(2_500);
    for (long k = 0; k < t.total; k++) {
      assertThat(t.scheduledNanos(k)).isCloseTo(1_000 * S + k * 2_000_000L, within(1L));
    }
  }
}
