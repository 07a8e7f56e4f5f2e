package io.parley.pushfakes;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Start-up and shut-down of a fake, from its caller's (non event-loop) thread. */
final class Listening {
  private static final long TIMEOUT_S = 30;

  private Listening() {}

  /**
   * The future's result within 30 s; when it fails or does not complete, {@code vertx} (if given)
   * is closed so that no thread lingers, and an {@link IllegalStateException} names {@code what}.
   */
  static <T> T await(Future<T> future, Vertx vertx, String what) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(TIMEOUT_S, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      if (vertx != null) {
        vertx.close();
      }
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new IllegalStateException(what + ": " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(what + ": interrupted", e);
    }
  }
}
