package io.parley.pushfakes;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * How a fake provider answers its push requests, beyond the protocol checks: after an optional
 * fixed delay (answered from a timer, never blocking the event loop), and, while a throttle is on,
 * with {@code 429} and {@code Retry-After} (to every request, or to those beyond a rate cap per
 * second). Counts the answers (accepted, 429, other) and keeps, per accepted push, when it was
 * accepted ({@link System#currentTimeMillis()} as the answer is written) with its payload, for
 * whoever measures send → provider accepted. Shared by {@link FakePushService} and
 * {@link FakeFcmService}; safe to call from any thread.
 */
public final class Pacing {
  /** Accepted pushes kept in {@link #accepted}: the oldest go beyond this (a long-running fake). */
  static final int KEPT_MAX = 1_000_000;

  /**
   * A push a fake accepted: when (epoch millis, as its 2xx was written), the provider, the
   * device's address there (FCM token, Web Push subscription id) and the payload's
   * {@code server_id}, {@code conv} and {@code count} (1 when absent), and the whole payload.
   */
  public record Accepted(long atMs, String provider, String address, String serverId, String conv, int count,
      JsonObject payload) {

    static Accepted of(String provider, String address, JsonObject payload) {
      Object count = payload.getValue("count");
      int n = 1;
      try {
        n = count == null ? 1 : Integer.parseInt(String.valueOf(count));
      } catch (NumberFormatException e) {
        n = -1;
      }
      return new Accepted(System.currentTimeMillis(), provider, address, str(payload.getValue("server_id")),
          str(payload.getValue("conv")), n, payload);
    }

    private static String str(Object v) {
      return v == null ? null : String.valueOf(v);
    }
  }

  private final Vertx vertx;
  private final String provider;
  private volatile long delayMs;
  /** While now (epoch millis) is before this, the throttle is on. */
  private volatile long throttleUntilMs;
  private volatile int retryAfterS = 1;
  /** Requests per second let through while the throttle is on (0: none). */
  private volatile int throttleRatePerS;
  private long windowSecond = -1;
  private int windowCount;
  private final AtomicLong acceptedCount = new AtomicLong();
  private final AtomicLong throttledCount = new AtomicLong();
  private final AtomicLong otherCount = new AtomicLong();
  private final AtomicInteger kept = new AtomicInteger();
  /** Accepted pushes, oldest first (at most {@link #KEPT_MAX}). */
  public final Queue<Accepted> accepted = new ConcurrentLinkedQueue<>();
  private final List<Consumer<Accepted>> listeners = new CopyOnWriteArrayList<>();

  Pacing(Vertx vertx, String provider) {
    this.vertx = vertx;
    this.provider = provider;
  }

  /** Every push request is answered this many milliseconds after it arrived (0: at once). */
  public Pacing setDelayMs(long delayMs) {
    if (delayMs < 0) {
      throw new IllegalArgumentException("delay must be >= 0");
    }
    this.delayMs = delayMs;
    return this;
  }

  public long delayMs() {
    return delayMs;
  }

  /**
   * From now on for {@code forMs} milliseconds (0: until {@link #throttleOff()}), push requests get
   * {@code 429} with {@code Retry-After: retryAfterS}; with {@code ratePerS} &gt; 0 only those beyond
   * that many in the current second do, as a provider capping a sender does.
   */
  public Pacing throttle(long forMs, int retryAfterS, int ratePerS) {
    if (forMs < 0 || retryAfterS < 0 || ratePerS < 0) {
      throw new IllegalArgumentException("throttle: durations and rate must be >= 0");
    }
    this.retryAfterS = retryAfterS;
    this.throttleRatePerS = ratePerS;
    this.throttleUntilMs = forMs == 0 ? Long.MAX_VALUE : System.currentTimeMillis() + forMs;
    return this;
  }

  public Pacing throttleOff() {
    throttleUntilMs = 0;
    return this;
  }

  /** When the current throttle ends (epoch millis; 0 when none was set, MAX_VALUE when open-ended). */
  public long throttleUntilMs() {
    return throttleUntilMs;
  }

  /** Called with every accepted push, on the fake's event loop: keep it short. */
  public Pacing onAccepted(Consumer<Accepted> listener) {
    listeners.add(listener);
    return this;
  }

  public long acceptedCount() {
    return acceptedCount.get();
  }

  public long throttledCount() {
    return throttledCount.get();
  }

  /** Answers other than 2xx and 429: refused, unauthorized, scripted errors. */
  public long otherCount() {
    return otherCount.get();
  }

  /** The counters as JSON: {@code {"accepted","throttled","other"}}. */
  public JsonObject counters() {
    return new JsonObject().put("accepted", acceptedCount()).put("throttled", throttledCount()).put("other", otherCount());
  }

  /** The Retry-After (seconds) to answer now, or -1 when this request is not throttled. */
  synchronized int throttledNow() {
    long now = System.currentTimeMillis();
    if (now >= throttleUntilMs) {
      return -1;
    }
    int cap = throttleRatePerS;
    if (cap > 0) {
      long second = now / 1000;
      if (second != windowSecond) {
        windowSecond = second;
        windowCount = 0;
      }
      if (windowCount < cap) {
        windowCount++;
        return -1;
      }
    }
    return retryAfterS;
  }

  /** Runs {@code answer} after the configured delay (on a timer), or at once. */
  void later(Runnable answer) {
    long d = delayMs;
    if (d <= 0) {
      answer.run();
    } else {
      vertx.setTimer(d, id -> answer.run());
    }
  }

  /** Records an accepted push, just before its 2xx is written. */
  Accepted accepted(String address, JsonObject payload) {
    Accepted a = Accepted.of(provider, address, payload);
    acceptedCount.incrementAndGet();
    accepted.add(a);
    if (kept.incrementAndGet() > KEPT_MAX && accepted.poll() != null) {
      kept.decrementAndGet();
    }
    for (Consumer<Accepted> l : listeners) {
      l.accept(a);
    }
    return a;
  }

  void throttled() {
    throttledCount.incrementAndGet();
  }

  void other() {
    otherCount.incrementAndGet();
  }
}
