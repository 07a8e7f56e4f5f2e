package io.parley.storage.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.limits.LimitKey;
import io.parley.limits.RateLimiter;
import io.parley.limits.RateLimiterContract;
import io.parley.testing.Await;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link RateLimiterContract} against {@link InMemoryRateLimiter}, plus its own guarantees,
 * timed by a fake clock: buckets refill at the rate up to the burst and never beyond, a clock
 * that steps back refills nothing, the number of buckets stays bounded (refilled ones forgotten
 * first, without letting a drained bucket's user start over), and threads racing for one bucket
 * never get more than its tokens.
 */
class InMemoryRateLimiterTest extends RateLimiterContract {
  private static final long MS = 1_000_000;
  private final AtomicLong clock = new AtomicLong(1_000 * MS);
  private InMemoryRateLimiter limiter;
  private ExecutorService pool;

  @BeforeEach
  void setUp() {
    limiter = new InMemoryRateLimiter(10_000, clock::get);
  }

  @AfterEach
  void tearDown() {
    if (pool != null) {
      pool.shutdownNow();
    }
  }

  @Override
  protected RateLimiter limiter() {
    return limiter;
  }

  private boolean take(LimitKey key, double rate, int burst) throws Exception {
    return Await.result(limiter.tryAcquire(key, rate, burst));
  }

  @Test
  void refillsAtTheRateUpToTheBurst() throws Exception {
    LimitKey key = LimitKey.send("alice");
    for (int i = 0; i < 3; i++) {
      assertThat(take(key, 10, 3)).isTrue();
    }
    assertThat(take(key, 10, 3)).isFalse();
    clock.addAndGet(99 * MS);
    assertThat(take(key, 10, 3)).as("0.99 of a token after 99 ms at 10/s").isFalse();
    clock.addAndGet(MS);
    assertThat(take(key, 10, 3)).as("one token after 100 ms").isTrue();
    assertThat(take(key, 10, 3)).isFalse();

    clock.addAndGet(3_600_000 * MS);
    for (int i = 0; i < 3; i++) {
      assertThat(take(key, 10, 3)).as("an hour later: full, but no more than the burst").isTrue();
    }
    assertThat(take(key, 10, 3)).isFalse();
  }

  @Test
  void typingThrottleForwardsOncePerPeriod() throws Exception {
    LimitKey key = LimitKey.typing("alice", 5);
    double rate = 1000.0 / 1000; // typing.throttle_ms = 1000
    assertThat(take(key, rate, 1)).isTrue();
    clock.addAndGet(999 * MS);
    assertThat(take(key, rate, 1)).isFalse();
    clock.addAndGet(MS);
    assertThat(take(key, rate, 1)).isTrue();
  }

  @Test
  void aClockSteppingBackRefillsNothing() throws Exception {
    LimitKey key = LimitKey.send("alice");
    assertThat(take(key, 10, 1)).isTrue();
    clock.addAndGet(-10_000 * MS);
    assertThat(take(key, 10, 1)).isFalse();
    clock.addAndGet(10_099 * MS);
    assertThat(take(key, 10, 1)).as("time is counted from the latest reading").isFalse();
    clock.addAndGet(MS);
    assertThat(take(key, 10, 1)).isTrue();
  }

  @Test
  void bucketsAreBoundedForgettingRefilledOnesFirst() throws Exception {
    InMemoryRateLimiter small = new InMemoryRateLimiter(100, clock::get);
    LimitKey drained = LimitKey.send("drained");
    assertThat(Await.result(small.tryAcquire(drained, TINY_RATE, 1))).isTrue();
    clock.addAndGet(MS);
    for (int i = 0; i < 99; i++) {
      Await.result(small.tryAcquire(LimitKey.send("u" + i), 1_000, 1));
    }
    assertThat(small.size()).isEqualTo(100);
    clock.addAndGet(10 * MS); // the u* buckets refill (1 token per ms); "drained" does not
    Await.result(small.tryAcquire(LimitKey.send("one-more"), 1_000, 1));
    assertThat(small.size()).as("refilled buckets forgotten").isLessThanOrEqualTo(90);
    assertThat(Await.result(small.tryAcquire(drained, TINY_RATE, 1))).as("a drained bucket is kept").isFalse();

    for (int i = 0; i < 1_000; i++) {
      Await.result(small.tryAcquire(LimitKey.send("busy" + i), TINY_RATE, 5));
    }
    assertThat(small.size()).as("bounded even when no bucket has refilled").isLessThanOrEqualTo(100);
  }

  @Test
  void threadsRacingForOneBucketNeverGetMoreThanItsTokens() throws Exception {
    InMemoryRateLimiter real = new InMemoryRateLimiter(10_000);
    pool = Executors.newFixedThreadPool(8);
    CountDownLatch go = new CountDownLatch(1);
    List<Callable<Integer>> tasks = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      tasks.add(() -> {
        go.await();
        int allowed = 0;
        for (int i = 0; i < 5_000; i++) {
          if (Await.result(real.tryAcquire(LimitKey.send("shared"), TINY_RATE, 1_000))) {
            allowed++;
          }
        }
        return allowed;
      });
    }
    List<Future<Integer>> results = new ArrayList<>();
    for (Callable<Integer> task : tasks) {
      results.add(pool.submit(task));
    }
    go.countDown();
    int allowed = 0;
    for (Future<Integer> f : results) {
      allowed += f.get(30, TimeUnit.SECONDS);
    }
    assertThat(allowed).as("a burst of 1000 at 0.001/s, 40,000 calls on 8 threads").isBetween(1_000, 1_001);
  }
}
