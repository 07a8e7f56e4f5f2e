package io.parley.limits;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.storage.embedded.InMemoryRateLimiter;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link FallbackRateLimiter} fails open: the primary's answers are used while it gives them; a
 * failed or silent primary (past the timeout) hands the decision to the local limiter, which then
 * decides alone until the retry interval has passed; then the primary is asked again, and its
 * answers are used again once it is back.
 */
class FallbackRateLimiterTest {
  private static final long MS = 1_000_000;
  private final AtomicLong clock = new AtomicLong();
  private final AtomicInteger primaryCalls = new AtomicInteger();
  private Vertx vertx;
  /** What the primary does: answer, fail, or never answer. */
  private volatile String mode = "deny";

  private final RateLimiter primary = (key, rate, burst) -> {
    primaryCalls.incrementAndGet();
    return switch (mode) {
      case "deny" -> Future.succeededFuture(false);
      case "fail" -> Future.failedFuture(new IllegalStateException("connection refused"));
      default -> Promise.<Boolean>promise().future(); // hangs
    };
  };

  private FallbackRateLimiter limiter;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    limiter = new FallbackRateLimiter(vertx, primary, new InMemoryRateLimiter(100, clock::get), 50, 1_000, clock::get);
  }

  @AfterEach
  void tearDown() throws Exception {
    Await.result(vertx.close());
  }

  private boolean take() throws Exception {
    return Await.result(limiter.tryAcquire(LimitKey.send("alice"), 0.001, 2));
  }

  @Test
  void usesThePrimaryWhileItAnswers() throws Exception {
    assertThat(take()).as("the primary denies, though the local bucket is full").isFalse();
    assertThat(limiter.degraded()).isFalse();
    assertThat(primaryCalls).hasValue(1);
  }

  @Test
  void aFailingPrimaryHandsOverToTheLocalLimiterUntilTheRetryInterval() throws Exception {
    mode = "fail";
    assertThat(take()).as("decided locally").isTrue();
    assertThat(limiter.degraded()).isTrue();
    assertThat(take()).isTrue();
    assertThat(take()).as("the local bucket of 2 is empty").isFalse();
    assertThat(primaryCalls).as("not asked again within the retry interval").hasValue(1);

    mode = "deny";
    clock.addAndGet(1_000 * MS);
    assertThat(take()).as("asked again after the interval, and its answer used").isFalse();
    assertThat(primaryCalls).hasValue(2);
    assertThat(limiter.degraded()).isFalse();
  }

  @Test
  void aSilentPrimaryTimesOutToTheLocalLimiter() throws Exception {
    mode = "hang";
    long start = System.nanoTime();
    assertThat(take()).isTrue();
    assertThat((System.nanoTime() - start) / MS).as("after the 50 ms timeout").isGreaterThanOrEqualTo(50);
    assertThat(limiter.degraded()).isTrue();
    assertThat(take()).as("straight to the local limiter").isTrue();
    assertThat(primaryCalls).hasValue(1);
  }
}
