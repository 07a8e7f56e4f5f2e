package io.parley.limits;

import io.vertx.core.Future;

/**
 * Token buckets by key: a bucket holds at most {@code burst} tokens, starts full, and refills
 * continuously at {@code ratePerSecond}; each allowed call takes one token. A bucket that is full
 * again is the same as one never used, so adapters may forget it.
 *
 * <p>Rate and burst are given with each call (they come from configuration) and should be the same
 * for every call on one key. Adapters are safe for use from several event loops at once and never
 * block; the returned future may complete on another thread than the caller's.
 */
public interface RateLimiter {

  /**
   * Takes one token from the bucket of {@code key} when it has one.
   *
   * @param ratePerSecond refill rate, greater than 0
   * @param burst capacity, at least 1
   * @return true when allowed (a token was taken), false when the caller is over the limit; fails
   *     only when the adapter's backing service does (see {@link FallbackRateLimiter})
   */
  Future<Boolean> tryAcquire(LimitKey key, double ratePerSecond, int burst);

  /** Checks the arguments every adapter accepts. */
  static void checkLimits(double ratePerSecond, int burst) {
    if (!(ratePerSecond > 0) || Double.isInfinite(ratePerSecond)) {
      throw new IllegalArgumentException("ratePerSecond must be a positive finite number: " + ratePerSecond);
    }
    if (burst < 1) {
      throw new IllegalArgumentException("burst must be at least 1: " + burst);
    }
  }
}
