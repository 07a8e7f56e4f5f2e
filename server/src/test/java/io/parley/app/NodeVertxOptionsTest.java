package io.parley.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.config.ConfigLoader;
import io.vertx.core.VertxOptions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code vertx.max_event_loop_execute_ms} reaches Vert.x's blocked-thread checker, checked often enough to see it. */
class NodeVertxOptionsTest {
  private static VertxOptions options(String maxMs) {
    return Node.vertxOptions(ConfigLoader.load(Map.of("PARLEY_VERTX_MAX_EVENT_LOOP_EXECUTE_MS", maxMs), Map.of()));
  }

  @Test
  void theLimitIsInMillisecondsAndCheckedAtHalfOfIt() {
    VertxOptions o = options("100");
    assertThat(TimeUnit.MILLISECONDS.convert(o.getMaxEventLoopExecuteTime(), o.getMaxEventLoopExecuteTimeUnit())).isEqualTo(100);
    assertThat(TimeUnit.MILLISECONDS.convert(o.getBlockedThreadCheckInterval(), o.getBlockedThreadCheckIntervalUnit()))
        .isEqualTo(50);
    assertThat(TimeUnit.MILLISECONDS.convert(o.getWarningExceptionTime(), o.getWarningExceptionTimeUnit()))
        .as("a warning shows where the thread is stuck").isEqualTo(100);
  }

  @Test
  void theCheckIntervalStaysBetweenTenMillisecondsAndOneSecond() {
    VertxOptions fine = options("4");
    assertThat(TimeUnit.MILLISECONDS.convert(fine.getBlockedThreadCheckInterval(), fine.getBlockedThreadCheckIntervalUnit()))
        .isEqualTo(10);
    VertxOptions coarse = options("2000");
    assertThat(TimeUnit.MILLISECONDS.convert(coarse.getMaxEventLoopExecuteTime(), coarse.getMaxEventLoopExecuteTimeUnit()))
        .isEqualTo(2000);
    assertThat(TimeUnit.MILLISECONDS.convert(coarse.getBlockedThreadCheckInterval(), coarse.getBlockedThreadCheckIntervalUnit()))
        .isEqualTo(1000);
  }
}
