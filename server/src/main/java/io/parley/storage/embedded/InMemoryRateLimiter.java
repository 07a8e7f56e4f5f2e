package io.parley.storage.embedded;

import io.parley.limits.LimitKey;
import io.parley.limits.RateLimiter;
import io.vertx.core.Future;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Token buckets in this process's memory: the embedded profile's limiter, and the cluster
 * profile's fallback while Redis is unreachable. Safe for several event loops at once: each
 * bucket is an immutable value replaced atomically per key, so two threads taking from one bucket
 * never both get its last token. Answers synchronously (the future is already complete).
 *
 * <p>Bounded: beyond {@code maxBuckets} keys, a sweep first forgets buckets that have refilled
 * (a full bucket is the same as a new one), and if that is not enough, arbitrary others — which
 * only ever errs towards allowing — until a tenth of the room is free again, so sweeps are rare.
 */
public final class InMemoryRateLimiter implements RateLimiter {
  private static final Future<Boolean> ALLOWED = Future.succeededFuture(true);
  private static final Future<Boolean> DENIED = Future.succeededFuture(false);

  private final Map<LimitKey, Bucket> buckets = new ConcurrentHashMap<>();
  private final int maxBuckets;
  private final LongSupplier nanoClock;
  private final AtomicBoolean sweeping = new AtomicBoolean();

  /**
   * A bucket after a call: its tokens at {@code at} (nanos of the clock), whether that call got
   * one, and the limits it was given (so a sweep can tell when it is full again).
   */
  private record Bucket(double tokens, long at, boolean allowed, double ratePerSecond, int burst) {
    double tokensAt(long now) {
      long elapsed = now - at;
      return elapsed <= 0 ? tokens : Math.min(burst, tokens + elapsed * ratePerSecond / 1e9);
    }
  }

  public InMemoryRateLimiter(int maxBuckets) {
    this(maxBuckets, System::nanoTime);
  }

  /** @param nanoClock a monotonic clock in nanoseconds ({@link System#nanoTime} outside tests) */
  public InMemoryRateLimiter(int maxBuckets, LongSupplier nanoClock) {
    if (maxBuckets < 1) {
      throw new IllegalArgumentException("maxBuckets must be at least 1: " + maxBuckets);
    }
    this.maxBuckets = maxBuckets;
    this.nanoClock = nanoClock;
  }

  @Override
  public Future<Boolean> tryAcquire(LimitKey key, double ratePerSecond, int burst) {
    RateLimiter.checkLimits(ratePerSecond, burst);
    long now = nanoClock.getAsLong();
    Bucket b = buckets.compute(key, (k, old) -> {
      double tokens = old == null ? burst : Math.min(burst, old.tokensAt(now));
      long at = old == null ? now : Math.max(old.at(), now);
      boolean allowed = tokens >= 1;
      return new Bucket(allowed ? tokens - 1 : tokens, at, allowed, ratePerSecond, burst);
    });
    if (buckets.size() > maxBuckets) {
      sweep(now);
    }
    return b.allowed() ? ALLOWED : DENIED;
  }

  /** Number of buckets held (for tests of the bound). */
  int size() {
    return buckets.size();
  }

  /** Forgets full buckets, then others, until at most 90 % of {@code maxBuckets} remain. */
  private void sweep(long now) {
    if (!sweeping.compareAndSet(false, true)) {
      return; // another thread is at it
    }
    try {
      int target = maxBuckets - Math.max(1, maxBuckets / 10);
      // conditional removal: a bucket updated meanwhile is a new value and stays
      buckets.entrySet().removeIf(e -> e.getValue().tokensAt(now) >= e.getValue().burst());
      Iterator<Map.Entry<LimitKey, Bucket>> it = buckets.entrySet().iterator();
      while (buckets.size() > target && it.hasNext()) {
        it.next();
        it.remove();
      }
    } finally {
      sweeping.set(false);
    }
  }
}
