package io.parley.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The open-loop schedule: a warm-up whose rate rises linearly, then the measured window at the rate;
 * with tick arrivals (message k at position k, conversations round-robin) and with Poisson arrivals.
 */
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

  static MessageTracker poisson(double rate, double warmup, double duration, double rampFrom, long seed) {
    MessageTracker t = MessageTracker.poisson(10, 2, rate, warmup, duration, rampFrom, seed);
    t.start(1_000 * S, (long) (warmup * S), (long) (duration * S), rampFrom);
    return t;
  }

  @Test
  void poissonArrivalsFollowTheRateProfileWithinTheSchedule() {
    // 1,000 msgs/s, 4 s warm-up rising from 100/s, 10 s window: 2,200 + 10,000 arrivals expected
    MessageTracker t = poisson(1000, 4, 10, 0.1, 42);
    assertThat(t.poisson()).isTrue();
    long windowStart = 1_004 * S;
    long firstHalf = 0;
    long secondHalf = 0;
    long window = 0;
    for (long k = 0; k < t.total; k++) {
      long at = t.scheduledNanos(k);
      if (k > 0) {
        assertThat(at).as("message %d", k).isGreaterThanOrEqualTo(t.scheduledNanos(k - 1));
      }
      assertThat(at).isGreaterThanOrEqualTo(1_000 * S).isLessThan(1_014 * S);
      if (at < 1_002 * S) {
        firstHalf++;
      } else if (at < windowStart) {
        secondHalf++;
      } else {
        window++;
      }
      assertThat(t.measured(k)).isEqualTo(at >= windowStart);
    }
    // Poisson counts: 10,000 +- 100 (one standard deviation) in the window; the ramp's first half
    // (100/s rising to 550/s: 650 expected) has far fewer arrivals than its second (1,550 expected)
    assertThat(window).isBetween(10_000L - 500, 10_000L + 500);
    assertThat(firstHalf).isBetween(650L - 130, 650L + 130);
    assertThat(secondHalf).isBetween(1_550L - 200, 1_550L + 200);
    assertThat(t.total).isEqualTo(firstHalf + secondHalf + window);
  }

  @Test
  void poissonArrivalsGoToEverySenderAtIrregularIntervalsWhereTicksAreRegular() {
    MessageTracker p = poisson(1000, 2, 10, 0.1, 7);
    assertThat(intervalVariation(p)).isBetween(0.8, 1.2);
    MessageTracker t = tracker(1000, 2, 10, 0.1);
    assertThat(intervalVariation(t)).isLessThan(0.1);
    // all 20 senders (10 conversations of 2) send, each about its share: 10,000 / 20 = 500 in the window
    long[] perSender = new long[20];
    for (long k = 0; k < p.total; k++) {
      assertThat(p.convOf(k)).isBetween(0, 9);
      assertThat(p.senderOf(k)).isBetween(0, 1);
      if (p.measured(k)) {
        perSender[p.convOf(k) * 2 + p.senderOf(k)]++;
      }
    }
    for (int s = 0; s < perSender.length; s++) {
      assertThat(perSender[s]).as("sender %d", s).isBetween(500L - 150, 500L + 150);
    }
  }

  @Test
  void aSeedRepeatsItsPoissonSchedule() {
    MessageTracker a = poisson(500, 1, 2, 0.5, 123);
    MessageTracker b = poisson(500, 1, 2, 0.5, 123);
    MessageTracker c = poisson(500, 1, 2, 0.5, 124);
    assertThat(b.total).isEqualTo(a.total);
    for (long k = 0; k < a.total; k++) {
      assertThat(b.scheduledNanos(k)).isEqualTo(a.scheduledNanos(k));
      assertThat(b.convOf(k) * 2 + b.senderOf(k)).isEqualTo(a.convOf(k) * 2 + a.senderOf(k));
    }
    boolean differs = c.total != a.total;
    for (long k = 0; !differs && k < a.total; k++) {
      differs = c.scheduledNanos(k) != a.scheduledNanos(k);
    }
    assertThat(differs).as("another seed, another schedule").isTrue();
  }

  /**
   * Coefficient of variation (standard deviation over mean) of the intervals between one sender's
   * consecutive sends in the measured window, pooled over all senders: 1 for a Poisson process, 0
   * for a regular beat.
   */
  static double intervalVariation(MessageTracker t) {
    List<List<Long>> times = new ArrayList<>();
    for (int s = 0; s < t.convs * t.groupSize; s++) {
      times.add(new ArrayList<>());
    }
    for (long k = 0; k < t.total; k++) {
      if (t.measured(k)) {
        times.get(t.convOf(k) * t.groupSize + t.senderOf(k)).add(t.scheduledNanos(k));
      }
    }
    double sum = 0;
    double sumSq = 0;
    long n = 0;
    for (List<Long> ts : times) {
      for (int i = 1; i < ts.size(); i++) {
        double gap = ts.get(i) - ts.get(i - 1);
        sum += gap;
        sumSq += gap * gap;
        n++;
      }
    }
    assertThat(n).isPositive();
    double mean = sum / n;
    return Math.sqrt(sumSq / n - mean * mean) / mean;
  }
}
