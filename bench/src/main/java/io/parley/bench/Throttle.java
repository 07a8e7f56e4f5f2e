package io.parley.bench;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Runs {@code count} asynchronous tasks with at most {@code concurrency} of them in flight.
 * Task {@code i} is started on event-loop context {@code i % contexts}, which spreads the
 * resulting connections (and their handlers) evenly over the generator's event loops.
 * Failed tasks do not stop the run; callers count failures themselves.
 */
final class Throttle {
  private final Context[] contexts;

  Throttle(Vertx vertx, int eventLoops) {
    contexts = new Context[eventLoops];
    for (int i = 0; i < eventLoops; i++) {
      // called from a non-Vert.x thread: every call yields a fresh context on the next event loop
      contexts[i] = vertx.getOrCreateContext();
    }
  }

  int size() {
    return contexts.length;
  }

  /** Context that task / connection {@code i} runs on. */
  Context contextFor(long i) {
    return contexts[(int) (i % contexts.length)];
  }

  /** Completes (never fails) once all tasks have completed. */
  Future<Void> forEach(int count, int concurrency, IntFunction<Future<?>> task) {
    Promise<Void> done = Promise.promise();
    if (count == 0) {
      done.complete();
      return done.future();
    }
    AtomicInteger next = new AtomicInteger();
    AtomicInteger finished = new AtomicInteger();
    Runnable[] worker = new Runnable[1];
    worker[0] = () -> {
      int i = next.getAndIncrement();
      if (i >= count) {
        return;
      }
      contextFor(i).runOnContext(v -> {
        Future<?> f;
        try {
          f = task.apply(i);
        } catch (RuntimeException e) {
          f = Future.failedFuture(e);
        }
        f.onComplete(ar -> {
          if (finished.incrementAndGet() == count) {
            done.tryComplete();
          } else {
            worker[0].run();
          }
        });
      });
    };
    for (int w = 0; w < Math.min(concurrency, count); w++) {
      worker[0].run();
    }
    return done.future();
  }
}
