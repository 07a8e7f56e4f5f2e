package io.parley.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.testing.Await;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Contract of the {@link RateLimiter} port, run against every adapter by subclassing and supplying
 * {@link #limiter()}. Covers what does not depend on time passing (rates are so small that refill
 * during a test is negligible: 0.001/s is one token in 17 minutes): a bucket starts full and
 * allows exactly {@code burst} calls, then denies; buckets of other users and other buckets of the
 * same user are independent; concurrent callers never get more than the burst between them; bad
 * limits are refused. Refill over time is each runner's own test (a fake clock in memory, a
 * bounded poll against Redis).
 */
public abstract class RateLimiterContract {
  /** Negligible refill over a test's duration. */
  protected static final double TINY_RATE = 0.001;

  /** The adapter under test, ready for use and empty. */
  protected abstract RateLimiter limiter();

  protected boolean take(LimitKey key, int burst) throws Exception {
    return Await.result(limiter().tryAcquire(key, TINY_RATE, burst));
  }

  @Test
  void aBucketStartsFullAllowsTheBurstThenDenies() throws Exception {
    LimitKey key = LimitKey.send("alice");
    for (int i = 0; i < 5; i++) {
      assertThat(take(key, 5)).as("call %d of a burst of 5", i + 1).isTrue();
    }
    assertThat(take(key, 5)).as("6th").isFalse();
    assertThat(take(key, 5)).as("a denied call takes nothing, and gives nothing back").isFalse();
  }

  @Test
  void aBurstOfOneAllowsOneCall() throws Exception {
    LimitKey key = LimitKey.typing("alice", 7);
    assertThat(take(key, 1)).isTrue();
    assertThat(take(key, 1)).isFalse();
  }

  @Test
  void bucketsOfOtherUsersAndOtherBucketsAreIndependent() throws Exception {
    assertThat(take(LimitKey.send("alice"), 1)).isTrue();
    assertThat(take(LimitKey.send("alice"), 1)).isFalse();
    assertThat(take(LimitKey.send("bob"), 1)).as("another user").isTrue();
    assertThat(take(LimitKey.typing("alice", 1), 1)).as("another bucket of the same user").isTrue();
    assertThat(take(LimitKey.typing("alice", 2), 1)).as("typing in another conversation").isTrue();
    assertThat(take(LimitKey.typing("alice", 1), 1)).isFalse();
    assertThat(take(LimitKey.send("alice"), 1)).as("still empty").isFalse();
  }

  @Test
  void concurrentCallersNeverGetMoreThanTheBurst() throws Exception {
    LimitKey key = LimitKey.send("crowd");
    List<Future<Boolean>> calls = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      calls.add(limiter().tryAcquire(key, TINY_RATE, 50));
    }
    Await.result(Future.all(calls));
    assertThat(calls.stream().filter(Future::result).count()).isEqualTo(50);
  }

  @Test
  void badLimitsAreRefused() {
    LimitKey key = LimitKey.send("alice");
    assertThatThrownBy(() -> limiter().tryAcquire(key, 0, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> limiter().tryAcquire(key, -1, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> limiter().tryAcquire(key, Double.NaN, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> limiter().tryAcquire(key, 1, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
