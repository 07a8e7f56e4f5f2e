package io.parley.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The meters of one kind of call to a backend, resolved once: its latency timer, its error counter
 * (or none) and the backend's {@code parley_backend_up} value, which each outcome sets (1 after a
 * success, 0 after a failure). {@link #NONE} counts nothing.
 */
public final class IoMeter {
  /** Counts nothing (an adapter nobody metered: tests). */
  public static final IoMeter NONE = new IoMeter(null, null, null);

  private final Timer latency;
  private final Counter errors;
  private final AtomicLong up;

  IoMeter(Timer latency, Counter errors, AtomicLong up) {
    this.latency = latency;
    this.errors = errors;
    this.up = up;
  }

  /** A call succeeded, {@code startNanos} ({@link System#nanoTime()}) after it began. */
  public void succeeded(long startNanos) {
    if (latency != null) {
      latency.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    }
    if (up != null) {
      up.lazySet(1);
    }
  }

  /** A call failed. */
  public void failed() {
    if (errors != null) {
      errors.increment();
    }
    if (up != null) {
      up.lazySet(0);
    }
  }
}
