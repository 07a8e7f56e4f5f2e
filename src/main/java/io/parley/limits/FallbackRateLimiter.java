package io.parley.limits;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fails open: asks the shared {@code primary} limiter (Redis), and when it fails or does not answer
 * within {@code timeoutMs}, decides with the node-local {@code fallback} instead, so sends and
 * typing keep working through an outage of the shared store, limited per node rather than per
 * user (a user with devices on n nodes then gets up to n times the limit).
 *
 * <p>After a failure the primary is left alone for {@code retryAfterMs} (calls go straight to the
 * fallback, without waiting for another timeout), then the next call tries it again. The switch
 * is logged once each way (warn when degrading, info when shared again), failed calls only at debug.
 */
public final class FallbackRateLimiter implements RateLimiter {
  private static final Logger LOG = LoggerFactory.getLogger(FallbackRateLimiter.class);
  public static final long DEFAULT_TIMEOUT_MS = 500;
  public static final long DEFAULT_RETRY_AFTER_MS = 1_000;

  private final Vertx vertx;
  private final RateLimiter primary;
  private final RateLimiter fallback;
  private final long timeoutMs;
  private final long retryAfterNanos;
  private final LongSupplier nanoClock;
  private final AtomicBoolean degraded = new AtomicBoolean();
  private volatile long primaryRetryAt;

  public FallbackRateLimiter(Vertx vertx, RateLimiter primary, RateLimiter fallback) {
    this(vertx, primary, fallback, DEFAULT_TIMEOUT_MS, DEFAULT_RETRY_AFTER_MS, System::nanoTime);
  }

  public FallbackRateLimiter(Vertx vertx, RateLimiter primary, RateLimiter fallback, long timeoutMs,
      long retryAfterMs, LongSupplier nanoClock) {
    this.vertx = vertx;
    this.primary = primary;
    this.fallback = fallback;
    this.timeoutMs = timeoutMs;
    this.retryAfterNanos = retryAfterMs * 1_000_000;
    this.nanoClock = nanoClock;
  }

  /** True while decisions are node-local (the primary failed and has not answered since). */
  public boolean degraded() {
    return degraded.get();
  }

  @Override
  public Future<Boolean> tryAcquire(LimitKey key, double ratePerSecond, int burst) {
    if (degraded.get() && nanoClock.getAsLong() - primaryRetryAt < 0) {
      return fallback.tryAcquire(key, ratePerSecond, burst);
    }
    return withTimeout(primary.tryAcquire(key, ratePerSecond, burst))
        .andThen(ar -> {
          if (ar.succeeded() && degraded.compareAndSet(true, false)) {
            LOG.info("rate limits are shared again");
          }
        })
        .recover(e -> {
          primaryRetryAt = nanoClock.getAsLong() + retryAfterNanos;
          if (degraded.compareAndSet(false, true)) {
            LOG.warn("shared rate limiter failed ({}); limiting per node until it answers again", e.toString());
          } else {
            LOG.debug("shared rate limiter failed: {}", e.toString());
          }
          return fallback.tryAcquire(key, ratePerSecond, burst);
        });
  }

  private Future<Boolean> withTimeout(Future<Boolean> answer) {
    if (answer.isComplete()) {
      return answer;
    }
    Promise<Boolean> p = Promise.promise();
    long timer = vertx.setTimer(timeoutMs,
        id -> p.tryFail(new TimeoutException("no answer within " + timeoutMs + " ms")));
    answer.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        p.tryComplete(ar.result());
      } else {
        p.tryFail(ar.cause());
      }
    });
    return p.future();
  }
}
