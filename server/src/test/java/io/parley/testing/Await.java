package io.parley.testing;

import io.vertx.core.Context;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waiting in tests, from the test's own thread, always with a deadline: for a Vert.x future's
 * outcome ({@link #result}, {@link #failure}) or for an observable condition ({@link #until},
 * {@link #value}). A failed future surfaces as a {@link CompletionException} whose cause is the
 * future's failure; a deadline passed is an {@link AssertionError} that says what was waited for
 * (the description given, or else the calling line) and, for a polled condition, why its last
 * attempt failed. Conditions are polled at a short interval: the interval is only how often to
 * look, never what the test relies on. Refused on an event loop, which it would block.
 *
 * <p>To have a failure thrown inside a handler reported instead of a timeout, wait through a
 * {@link HandlerFailures} (same methods).
 */
public final class Await {
  /** Deadline of one asynchronous step when none is given ({@code -Dparley.test.await_s}, default 10). */
  public static final Duration TIMEOUT = Duration.ofSeconds(Long.getLong("parley.test.await_s", 10));
  /** How often {@link #until} looks at its condition when not told otherwise. */
  public static final Duration EVERY = Duration.ofMillis(10);
  /** How often a wait through {@link HandlerFailures} looks for a handler's failure. */
  static final Duration SLICE = Duration.ofMillis(20);
  static final Runnable NO_CHECK = () -> { };

  private Await() {}

  /** The future's result within {@link #TIMEOUT}. */
  public static <T> T result(Future<T> future) {
    return result(caller(), future, TIMEOUT, NO_CHECK);
  }

  /** The future's result within {@code timeout}. */
  public static <T> T result(Future<T> future, Duration timeout) {
    return result(caller(), future, timeout, NO_CHECK);
  }

  /** The future's result within {@code timeout}; {@code what} names it in a failure. */
  public static <T> T result(String what, Future<T> future, Duration timeout) {
    return result(what, future, timeout, NO_CHECK);
  }

  /** The failure of a future that must fail within {@link #TIMEOUT}; an {@link AssertionError} if it succeeds. */
  public static Throwable failure(Future<?> future) {
    return failure(caller(), future, TIMEOUT);
  }

  /** The failure of a future that must fail within {@code timeout}; an {@link AssertionError} if it succeeds. */
  public static Throwable failure(Future<?> future, Duration timeout) {
    return failure(caller(), future, timeout);
  }

  private static Throwable failure(String what, Future<?> future, Duration timeout) {
    Object value;
    try {
      value = result(what, future, timeout, NO_CHECK);
    } catch (CompletionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected " + what + " to fail, but it succeeded with " + value);
  }

  /**
   * Polls {@code condition} every {@link #EVERY} until it holds; how long that took. A condition
   * that throws has not held yet (its last exception is the cause of the timeout).
   */
  public static Duration until(String what, BooleanSupplier condition, Duration timeout) {
    return until(what, condition, timeout, EVERY);
  }

  /** {@link #until(String, BooleanSupplier, Duration)}, polling every {@code every}. */
  public static Duration until(String what, BooleanSupplier condition, Duration timeout, Duration every) {
    long start = System.nanoTime();
    value(what, () -> condition.getAsBoolean() ? Boolean.TRUE : null, timeout, every, NO_CHECK);
    return Duration.ofNanos(System.nanoTime() - start);
  }

  /** Polls {@code probe} every {@code every} until it returns a value (null: not yet); that value. */
  public static <T> T value(String what, Supplier<T> probe, Duration timeout, Duration every) {
    return value(what, probe, timeout, every, NO_CHECK);
  }

  /**
   * Polls {@code probe} every {@code every} until it returns a value (null: not yet); that value,
   * or null once {@code timeout} has passed, for a caller that describes the failure itself.
   */
  public static <T> T valueOrNull(Supplier<T> probe, Duration timeout, Duration every) {
    try {
      return value("", probe, timeout, every, NO_CHECK);
    } catch (TimedOut e) {
      return null;
    }
  }

  // --- the two loops, shared with HandlerFailures (check runs at every look and throws what a handler threw)

  static <T> T result(String what, Future<T> future, Duration timeout, Runnable check) {
    refuseOnEventLoop(what);
    CountDownLatch done = new CountDownLatch(1);
    future.onComplete(ar -> done.countDown());
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (true) {
        long left = deadline - System.nanoTime();
        long slice = check == NO_CHECK ? left : Math.min(left, SLICE.toNanos());
        boolean completed = done.await(slice, TimeUnit.NANOSECONDS);
        check.run();
        if (completed) {
          break;
        }
        if (System.nanoTime() - deadline >= 0) {
          throw new TimedOut("timed out after " + format(timeout) + " waiting for " + what, null);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for " + what, e);
    }
    if (future.failed()) {
      throw new CompletionException(what + " failed: " + future.cause(), future.cause());
    }
    return future.result();
  }

  static <T> T value(String what, Supplier<T> probe, Duration timeout, Duration every, Runnable check) {
    refuseOnEventLoop(what);
    long deadline = System.nanoTime() + timeout.toNanos();
    Throwable last = null;
    while (true) {
      check.run();
      try {
        T v = probe.get();
        if (v != null) {
          return v;
        }
        last = null;
      } catch (RuntimeException | AssertionError e) {
        last = e;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new TimedOut("timed out after " + format(timeout) + " waiting until " + what
            + (last == null ? "" : "; the last attempt failed: " + last), last);
      }
      try {
        Thread.sleep(Math.max(1, Math.min(every.toMillis(), TimeUnit.NANOSECONDS.toMillis(left)))); // polling interval
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting until " + what, e);
      }
    }
  }

  /** A deadline passed. */
  static final class TimedOut extends AssertionError {
    TimedOut(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private static void refuseOnEventLoop(String what) {
    if (Context.isOnEventLoopThread()) {
      throw new IllegalStateException("waiting for " + what + " on an event loop would block it");
    }
  }

  /** "the future awaited at Caller.method(File.java:42)": the first frame outside this package. */
  static String caller() {
    return StackWalker.getInstance().walk(frames -> frames
        .filter(f -> !f.getClassName().startsWith(Await.class.getPackageName() + ".")
            || f.getClassName().endsWith("Test"))
        .findFirst()
        .map(f -> "the future awaited at " + f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1)
            + "." + f.getMethodName() + "(" + f.getFileName() + ":" + f.getLineNumber() + ")")
        .orElse("a future"));
  }

  static String format(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }
}
