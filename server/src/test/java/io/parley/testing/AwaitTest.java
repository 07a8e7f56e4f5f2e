package io.parley.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AwaitTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    Await.result(vertx.close());
  }

  @Test
  void resultGivesTheValueOfAFutureCompletedLater() {
    Promise<String> p = Promise.promise();
    vertx.setTimer(30, t -> p.complete("done"));
    assertThat(Await.result(p.future())).isEqualTo("done");
    assertThat(Await.result(Future.succeededFuture(7), Duration.ofMillis(1))).isEqualTo(7);
  }

  @Test
  void aFailedFutureSurfacesWithItsCauseAndWhereItWasAwaited() {
    IllegalStateException boom = new IllegalStateException("boom");
    Throwable t = catchThrowable(() -> Await.result(Future.failedFuture(boom)));
    assertThat(t).isInstanceOf(CompletionException.class).hasCause(boom)
        .hasMessageStartingWith("the future awaited at AwaitTest.").hasMessageContaining("(AwaitTest.java:")
        .hasMessageEndingWith(" failed: java.lang.IllegalStateException: boom");

    Throwable named = catchThrowable(() -> Await.result("the token", Future.failedFuture(boom), Duration.ofSeconds(1)));
    assertThat(named).hasMessage("the token failed: java.lang.IllegalStateException: boom");
  }

  @Test
  void aTimeoutSaysHowLongAndWhatForInTime() {
    long t0 = System.nanoTime();
    Throwable t = catchThrowable(() -> Await.result(Promise.promise().future(), Duration.ofMillis(100)));
    assertThat(t).isInstanceOf(AssertionError.class)
        .hasMessageStartingWith("timed out after 100 ms waiting for the future awaited at AwaitTest.")
        .hasMessageContaining("(AwaitTest.java:");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(100), Duration.ofSeconds(5));

    Throwable named = catchThrowable(() -> Await.result("the reply", Promise.promise().future(), Duration.ofMillis(200)));
    assertThat(named).hasMessage("timed out after 200 ms waiting for the reply");
  }

  @Test
  void failureGivesTheCauseAndFailsWhenTheFutureSucceeds() {
    IllegalArgumentException cause = new IllegalArgumentException("bad");
    assertThat(Await.failure(Future.failedFuture(cause))).isSameAs(cause);
    Throwable t = catchThrowable(() -> Await.failure(Future.succeededFuture("fine")));
    assertThat(t).isInstanceOf(AssertionError.class).hasMessageContaining("to fail, but it succeeded with fine");
  }

  @Test
  void untilWaitsForTheConditionAndSaysHowLongItTook() {
    AtomicBoolean flag = new AtomicBoolean();
    vertx.setTimer(100, t -> flag.set(true));
    Duration took = Await.until("the flag is set", flag::get, Duration.ofSeconds(10));
    assertThat(flag).isTrue();
    assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(50)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void untilTreatsAThrowingConditionAsNotYetAndReportsItsLastFailure() {
    AtomicInteger calls = new AtomicInteger();
    Duration took = Await.until("the third call", () -> {
      if (calls.incrementAndGet() < 3) {
        throw new IllegalStateException("not yet");
      }
      return true;
    }, Duration.ofSeconds(10), Duration.ofMillis(1));
    assertThat(calls).hasValue(3);
    assertThat(took).isLessThan(Duration.ofSeconds(10));

    Throwable t = catchThrowable(() -> Await.until("never", () -> {
      throw new IllegalStateException("still broken");
    }, Duration.ofMillis(50)));
    assertThat(t).isInstanceOf(AssertionError.class)
        .hasMessage("timed out after 50 ms waiting until never; the last attempt failed: java.lang.IllegalStateException: still broken")
        .hasCauseInstanceOf(IllegalStateException.class);
  }

  @Test
  void valueGivesTheFirstAnswerAndValueOrNullNullWhenTimeIsUp() {
    AtomicInteger n = new AtomicInteger();
    assertThat(Await.value("the 3rd look", () -> n.incrementAndGet() == 3 ? "three" : null, Duration.ofSeconds(10),
        Duration.ofMillis(1))).isEqualTo("three");
    assertThat(Await.<String>valueOrNull(() -> null, Duration.ofMillis(30), Duration.ofMillis(5))).isNull();
    Throwable t = catchThrowable(() -> Await.value("an answer", () -> null, Duration.ofMillis(30), Duration.ofMillis(5)));
    assertThat(t).isInstanceOf(AssertionError.class).hasMessage("timed out after 30 ms waiting until an answer");
  }

  @Test
  void waitingOnAnEventLoopIsRefused() {
    AtomicReference<Throwable> seen = new AtomicReference<>();
    Promise<Void> done = Promise.promise();
    vertx.runOnContext(v -> {
      seen.set(catchThrowable(() -> Await.result(Promise.promise().future())));
      done.complete();
    });
    Await.result(done.future());
    assertThat(seen.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("would block it");
  }
}
