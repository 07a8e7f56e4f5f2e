package io.parley.presence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.limits.RateLimiter;
import io.parley.storage.embedded.InMemoryRateLimiter;
import io.vertx.core.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The typing throttle over the in-memory limiter with a clock the test moves: one signal per user,
 * conversation and period; none dropped without a throttle; dropped, never failed, while the
 * limiter fails. (The in-memory limiter answers at once, so every future here is complete.)
 */
class TypingThrottleTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final InMemoryRateLimiter limiter = new InMemoryRateLimiter(100, nanos::get);
  private final TypingThrottle throttle = new TypingThrottle(limiter, 250);

  private static boolean admitted(Future<Boolean> f) {
    assertThat(f.succeeded()).as("complete and successful").isTrue();
    return f.result();
  }

  private void advanceMs(long ms) {
    nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
  }

  @Test
  void oneSignalPerPeriodPerUserAndConversation() {
    assertThat(admitted(throttle.admit("alice", 7))).isTrue();
    assertThat(admitted(throttle.admit("alice", 7))).as("again at once").isFalse();
    advanceMs(249);
    assertThat(admitted(throttle.admit("alice", 7))).as("just before the period is over").isFalse();
    advanceMs(1);
    assertThat(admitted(throttle.admit("alice", 7))).as("a period later").isTrue();
    assertThat(admitted(throttle.admit("alice", 7))).isFalse();
  }

  @Test
  void otherConversationsAndUsersHaveTheirOwnBuckets() {
    assertThat(admitted(throttle.admit("alice", 7))).isTrue();
    assertThat(admitted(throttle.admit("alice", 8))).as("alice in another conversation").isTrue();
    assertThat(admitted(throttle.admit("bob", 7))).as("bob in the same conversation").isTrue();
    assertThat(admitted(throttle.admit("alice", 7))).isFalse();
  }

  @Test
  void aQuietPeriodDoesNotSaveUpABurst() {
    assertThat(admitted(throttle.admit("alice", 7))).isTrue();
    advanceMs(10_000);
    assertThat(admitted(throttle.admit("alice", 7))).isTrue();
    assertThat(admitted(throttle.admit("alice", 7))).as("burst 1: a long silence buys one signal").isFalse();
  }

  @Test
  void withoutAThrottleEverySignalGoesOnAndNoLimiterIsNeeded() {
    TypingThrottle off = new TypingThrottle(null, 0);
    for (int i = 0; i < 5; i++) {
      assertThat(admitted(off.admit("alice", 7))).isTrue();
    }
  }

  @Test
  void aFailingLimiterDropsTheSignalWithoutFailing() {
    RateLimiter down = (key, rate, burst) -> Future.failedFuture(new IllegalStateException("redis down"));
    assertThat(admitted(new TypingThrottle(down, 250).admit("alice", 7))).isFalse();
  }

  @Test
  void aThrottleNeedsALimiter() {
    assertThatThrownBy(() -> new TypingThrottle(null, 250)).isInstanceOf(IllegalArgumentException.class);
  }
}
