package io.parley.push;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Push's counters, per provider and outcome ({@code fcm.accepted}, {@code apns.throttled},
 * {@code webpush.retry}, {@code fcm.error} for a transport error, …) and overall
 * ({@code jobs} queued, {@code notifications} accepted, {@code coalesced} jobs that waited for a
 * slot's window or joined a notification still waiting for its provider, {@code spilled} and {@code expired} jobs, {@code digests} mailed,
 * {@code queue_failed} jobs that could not be queued). Written on push's context, readable from
 * any thread; the Prometheus endpoint (operations work) reads the same counters.
 */
public final class PushStats {
  private final Map<String, AtomicLong> counters = new ConcurrentHashMap<>();

  public void add(String name, long n) {
    counters.computeIfAbsent(name, k -> new AtomicLong()).addAndGet(n);
  }

  /** Sets a level rather than a count (e.g. {@code fcm.backlog_age_ms}). */
  public void set(String name, long value) {
    counters.computeIfAbsent(name, k -> new AtomicLong()).set(value);
  }

  public void inc(String name) {
    add(name, 1);
  }

  public void outcome(String provider, String kind) {
    inc(provider + "." + kind);
  }

  public long get(String name) {
    AtomicLong c = counters.get(name);
    return c == null ? 0 : c.get();
  }

  /** Every counter, sorted by name. */
  public Map<String, Long> snapshot() {
    Map<String, Long> out = new TreeMap<>();
    counters.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }
}
