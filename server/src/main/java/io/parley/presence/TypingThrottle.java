package io.parley.presence;

import io.parley.limits.LimitKey;
import io.parley.limits.RateLimiter;
import io.vertx.core.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets a user's typing signal for a conversation through at most once per throttle period,
 * counted by the {@link RateLimiter} in the user's typing bucket for that conversation (burst 1,
 * one token per period): so over all of the user's devices, and on every node in the cluster
 * profile. Typing is best effort: the sender never hears either way, and while the limiter fails
 * the signal is dropped.
 */
public final class TypingThrottle {
  private static final Logger LOG = LoggerFactory.getLogger(TypingThrottle.class);
  private static final Future<Boolean> ALWAYS = Future.succeededFuture(true);

  private final RateLimiter limiter;
  private final long throttleMs;
  private final AtomicLong dropped = new AtomicLong();

  /**
   * @param limiter the shared limiter; unused (may be null) when {@code throttleMs} is 0
   * @param throttleMs the period (config {@code typing.throttle_ms}); 0 or less: no throttle
   */
  public TypingThrottle(RateLimiter limiter, long throttleMs) {
    if (throttleMs > 0 && limiter == null) {
      throw new IllegalArgumentException("a typing throttle of " + throttleMs + " ms needs a rate limiter");
    }
    this.limiter = limiter;
    this.throttleMs = throttleMs;
  }

  /** Whether this typing signal of {@code user} in {@code conv} goes on; never fails (a failing limiter drops it). */
  public Future<Boolean> admit(String user, long conv) {
    if (throttleMs <= 0) {
      return ALWAYS;
    }
    return limiter.tryAcquire(LimitKey.typing(user, conv), 1000.0 / throttleMs, 1).transform(ar -> {
      if (ar.failed()) {
        LOG.debug("typing of {} in {} dropped, rate limiter failed: {}", user, conv, ar.cause().toString());
        dropped.incrementAndGet();
        return Future.succeededFuture(false);
      }
      if (!ar.result()) {
        dropped.incrementAndGet();
      }
      return Future.succeededFuture(ar.result());
    });
  }

  /** Typing signals dropped since start (throttled, or the limiter failed). */
  public long dropped() {
    return dropped.get();
  }
}
