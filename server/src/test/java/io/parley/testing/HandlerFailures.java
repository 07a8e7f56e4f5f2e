package io.parley.testing;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * What handlers threw, kept for the test thread. Vert.x hands an exception a handler throws on one
 * of its threads (an event-bus consumer, a socket or timer handler, a {@code runOnContext} task) to
 * the Vert.x instance's exception handler, and without one only logs it: a failed assertion there
 * is lost and the test waiting for the handler's outcome reports a timeout instead. {@link
 * #watch(Vertx)} records every such throwable of one instance; {@link #handler(Handler)} and
 * {@link #record(Throwable)} record those thrown where Vert.x does not see them. The first one
 * recorded is thrown again, as the cause of an {@link AssertionError} naming the thread, by
 * {@link #check()} and by every wait of this object, which look for it while they wait instead of
 * running into their deadline.
 */
public final class HandlerFailures {
  private final AtomicReference<Throwable> first = new AtomicReference<>();
  private volatile String where;

  /** Records every throwable a handler of {@code vertx} lets escape (replaces its exception handler). */
  public static HandlerFailures watch(Vertx vertx) {
    HandlerFailures failures = new HandlerFailures();
    vertx.exceptionHandler(failures::record);
    return failures;
  }

  /** Records {@code t} (the first one recorded is the one reported) and returns it, for {@code throw record(e)}. */
  public <T extends Throwable> T record(T t) {
    if (first.compareAndSet(null, t)) {
      where = Thread.currentThread().getName();
    }
    return t;
  }

  /** {@code handler}, recording what it throws before letting it go on as before. */
  public <E> Handler<E> handler(Handler<E> handler) {
    return event -> {
      try {
        handler.handle(event);
      } catch (RuntimeException e) {
        throw record(e);
      } catch (Error e) {
        throw record(e);
      }
    };
  }

  /** The first throwable recorded, or null. */
  public Throwable first() {
    return first.get();
  }

  /** Throws the first recorded throwable (as the cause of an {@link AssertionError}) if there is one. */
  public void check() {
    Throwable t = first.get();
    if (t != null) {
      throw new AssertionError("a handler failed on " + where + ": " + t, t);
    }
  }

  /** {@link Await#result(Future)}, failing as soon as a handler has failed. */
  public <T> T result(Future<T> future) {
    return Await.result(Await.caller(), future, Await.TIMEOUT, this::check);
  }

  /** {@link Await#result(String, Future, Duration)}, failing as soon as a handler has failed. */
  public <T> T result(String what, Future<T> future, Duration timeout) {
    return Await.result(what, future, timeout, this::check);
  }

  /** {@link Await#until(String, BooleanSupplier, Duration)}, failing as soon as a handler has failed. */
  public Duration until(String what, BooleanSupplier condition, Duration timeout) {
    long start = System.nanoTime();
    Await.value(what, () -> condition.getAsBoolean() ? Boolean.TRUE : null, timeout, Await.EVERY, this::check);
    return Duration.ofNanos(System.nanoTime() - start);
  }

  /** {@link Await#value(String, Supplier, Duration, Duration)}, failing as soon as a handler has failed. */
  public <T> T value(String what, Supplier<T> probe, Duration timeout, Duration every) {
    return Await.value(what, probe, timeout, every, this::check);
  }
}
