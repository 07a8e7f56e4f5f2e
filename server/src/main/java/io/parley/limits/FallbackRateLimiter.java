package io.parley.limits;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
 * is logged (warn when degrading, info when shared again) at most once a minute, failed calls
 * only at debug.
 */
public final class FallbackRateLimiter implements RateLimiter {
  private static final Logger LOG = LoggerFactory.getLogger(FallbackRateLimiter.class);
  /** Longest silence between two logged switches (see {@link #logSwitch}). */
  static final long LOG_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
  private static final long NEVER = Long.MIN_VALUE;

  private final Vertx vertx;
  private final RateLimiter primary;
  private final RateLimiter fallback;
  private final long timeoutMs;
  private final long retryAfterNanos;
  private final LongSupplier nanoClock;
  private final AtomicBoolean degraded = new AtomicBoolean();
  private volatile long primaryRetryAt;
  private final AtomicLong lastSwitchLogged = new AtomicLong(NEVER);
  private final AtomicInteger unloggedSwitches = new AtomicInteger();
  private final AtomicLong fallbacks = new AtomicLong();

  /**
   * @param timeoutMs longest wait for the primary's answer ({@code limits.redis_timeout_ms})
   * @param retryAfterMs how long the primary is left alone after a failure ({@code limits.redis_retry_ms})
   */
  public FallbackRateLimiter(Vertx vertx, RateLimiter primary, RateLimiter fallback, long timeoutMs, long retryAfterMs) {
    this(vertx, primary, fallback, timeoutMs, retryAfterMs, System::nanoTime);
  }

  public FallbackRateLimiter(Vertx vertx, RateLimiter primary, RateLimiter fallback, long timeoutMs,
      long retryAfterMs, LongSupplier nanoClock) {
    if (timeoutMs < 1 || retryAfterMs < 1) {
      throw new IllegalArgumentException("timeoutMs and retryAfterMs must be at least 1: " + timeoutMs + ", " + retryAfterMs);
    }
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

  /** Checks decided by the local limiter since start: the primary failed, timed out, or was being left alone. */
  public long fallbacks() {
    return fallbacks.get();
  }

  @Override
  public Future<Boolean> tryAcquire(LimitKey key, double ratePerSecond, int burst) {
    if (degraded.get() && nanoClock.getAsLong() - primaryRetryAt < 0) {
      fallbacks.incrementAndGet();
      return fallback.tryAcquire(key, ratePerSecond, burst);
    }
    return withTimeout(primary.tryAcquire(key, ratePerSecond, burst))
        .andThen(ar -> {
          if (ar.succeeded() && degraded.compareAndSet(true, false)) {
            logSwitch(false, "rate limits are shared again");
          }
        })
        .recover(e -> {
          primaryRetryAt = nanoClock.getAsLong() + retryAfterNanos;
          if (degraded.compareAndSet(false, true)) {
            logSwitch(true, "shared rate limiter failed (" + e + "); limiting per node until it answers again");
          } else {
            LOG.debug("shared rate limiter failed: {}", e.toString());
          }
          fallbacks.incrementAndGet();
          return fallback.tryAcquire(key, ratePerSecond, burst);
        });
  }

  /**
   * Logs a switch (warn when degrading, info when shared again), at most one line per
   * {@link #LOG_EVERY_NANOS}: a loaded Redis that answers late now and then would otherwise flip
   * the limiter, and fill the log, several times a second. Switches in between go to debug and
   * are counted in the next line.
   */
  private void logSwitch(boolean degrading, String what) {
    long now = nanoClock.getAsLong();
    long last = lastSwitchLogged.get();
    if ((last == NEVER || now - last >= LOG_EVERY_NANOS) && lastSwitchLogged.compareAndSet(last, now)) {
      int quiet = unloggedSwitches.getAndSet(0);
      String line = quiet == 0 ? what : what + " (" + quiet + " switches not logged since the last line)";
      if (degrading) {
        LOG.warn(line);
      } else {
        LOG.info(line);
      }
    } else {
      unloggedSwitches.incrementAndGet();
      LOG.debug(what);
    }
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
