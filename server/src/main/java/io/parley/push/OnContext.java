package io.parley.push;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * Brings a future's completion onto a given context. A Vert.x future runs its callbacks where it
 * was completed, and a store's future may complete on another event loop (the one the store was
 * created on): push keeps its state on one context, so every answer it waits for comes back there.
 */
final class OnContext {
  private OnContext() {}

  static <T> Future<T> on(Context context, Future<T> future) {
    Promise<T> promise = Promise.promise();
    future.onComplete(ar -> {
      if (context.isEventLoopContext() && io.vertx.core.Vertx.currentContext() == context) {
        promise.handle(ar);
      } else {
        context.runOnContext(v -> promise.handle(ar));
      }
    });
    return promise.future();
  }
}
