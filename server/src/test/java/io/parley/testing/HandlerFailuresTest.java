package io.parley.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A failure inside a handler on an event loop reaches the waiting test thread with its message,
 * promptly, instead of the wait running into its deadline.
 */
class HandlerFailuresTest {
  /** Far longer than any of these tests may take: reaching it would mean the failure was swallowed. */
  private static final Duration LONG = Duration.ofSeconds(30);

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    Await.result(vertx.close());
  }

  @Test
  void anAssertionFailedInAnEventBusConsumerSurfacesWithItsMessage() {
    HandlerFailures failures = HandlerFailures.watch(vertx);
    AtomicBoolean handled = new AtomicBoolean();
    vertx.eventBus().<String>consumer("greetings", m -> {
      assertThat(m.body()).as("the greeting").isEqualTo("hello");
      handled.set(true);
    });
    vertx.eventBus().send("greetings", "goodbye");

    long t0 = System.nanoTime();
    Throwable t = catchThrowable(() -> failures.until("the greeting is handled", handled::get, LONG));

    assertThat(t).isInstanceOf(AssertionError.class)
        .hasMessageContaining("a handler failed on vert.x-eventloop-thread-")
        .hasMessageContaining("[the greeting]").hasMessageContaining("goodbye").hasMessageContaining("hello");
    assertThat(t.getCause()).isInstanceOf(AssertionError.class).hasMessageContaining("goodbye");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("reported, not timed out").isLessThan(Duration.ofSeconds(10));
    assertThat(handled).isFalse();
  }

  @Test
  void aFailureInATimerSurfacesFromAWaitForAFutureThatNeverCompletes() {
    HandlerFailures failures = HandlerFailures.watch(vertx);
    Promise<String> never = Promise.promise();
    vertx.setTimer(20, id -> {
      throw new IllegalStateException("the timer broke");
    });

    Throwable t = catchThrowable(() -> failures.result("a reply", never.future(), LONG));

    assertThat(t).isInstanceOf(AssertionError.class).hasMessageContaining("the timer broke")
        .hasCauseInstanceOf(IllegalStateException.class);
  }

  @Test
  void aWrappedFutureListenerIsRecordedAndTheFirstFailureWins() {
    HandlerFailures failures = new HandlerFailures();
    Promise<String> p = Promise.promise();
    p.future().onSuccess(failures.handler(v -> {
      throw new AssertionError("first: " + v);
    }));
    p.future().onSuccess(failures.handler(v -> {
      throw new AssertionError("second");
    }));
    vertx.runOnContext(v -> p.complete("value"));

    Throwable t = catchThrowable(() -> failures.until("never", () -> false, LONG));

    assertThat(t).hasMessageContaining("first: value").hasMessageNotContaining("second");
    assertThat(failures.first()).hasMessage("first: value");
  }

  @Test
  void withoutAFailureEveryWaitBehavesLikeAwait() {
    HandlerFailures failures = HandlerFailures.watch(vertx);
    Promise<Integer> p = Promise.promise();
    vertx.setTimer(20, id -> p.complete(42));
    assertThat(failures.result(p.future())).isEqualTo(42);
    failures.check();
    Throwable t = catchThrowable(() -> failures.until("never", () -> false, Duration.ofMillis(50)));
    assertThat(t).hasMessage("timed out after 50 ms waiting until never");
  }
}
