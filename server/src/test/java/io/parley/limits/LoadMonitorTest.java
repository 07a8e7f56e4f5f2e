package io.parley.limits;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.testing.Await;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The overload signal: a watched event loop is behind while work holds it past the bound, seen
 * from other threads while it is still held (not only once its timer finally runs), and no longer
 * once it caught up; a stopped loop and a monitor that is off are never behind.
 */
class LoadMonitorTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    Await.result(vertx.close());
  }

  /** Occupies {@code context}'s event loop until {@code release} opens, as one long task would. */
  private static void hold(Context context, CountDownLatch held, CountDownLatch release) {
    context.runOnContext(v -> {
      held.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
  }

  /**
   * Keeps {@code context}'s event loop saturated until {@code release} opens: task after task of
   * {@code taskMs} each, as a backlog of work would, so its timers keep firing late. Each next task
   * is a timer, not a task queued at once: Netty runs queued tasks up to 64 at a time before it
   * looks at its due timers, so tasks that queue their successor would hold the timers off for 64
   * tasks (9.6 s), not one.
   */
  static void saturate(Context context, long taskMs, CountDownLatch release) {
    context.runOnContext(v -> busy(context, taskMs, release));
  }

  private static void busy(Context context, long taskMs, CountDownLatch release) {
    try {
      if (!release.await(taskMs, TimeUnit.MILLISECONDS)) {
        context.owner().setTimer(1, id -> busy(context, taskMs, release));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void aSaturatedLoopIsBehindAndOverloadsTheNodeUntilItCaughtUp() {
    LoadMonitor monitor = new LoadMonitor(100);
    Context busy = vertx.getOrCreateContext();
    LoadMonitor.Loop busyLoop = monitor.watch(busy);
    assertThat(monitor.overloaded()).isFalse();

    CountDownLatch release = new CountDownLatch(1);
    saturate(busy, 150, release);
    try {
      Await.until("the saturated loop overloads the node", monitor::overloaded, Await.TIMEOUT);
      assertThat(busyLoop.behind()).isTrue();
      assertThat(monitor.lagNanos()).isGreaterThan(TimeUnit.MILLISECONDS.toNanos(100));
    } finally {
      release.countDown();
    }
    Await.until("the loop caught up", () -> !monitor.overloaded() && !busyLoop.behind(), Await.TIMEOUT);
  }

  @Test
  void theLastLagCountsUntilTheNextTimerAndAnOverdueTimerCountsAtOnce() throws Exception {
    AtomicLong now = new AtomicLong(1_000_000_000L);
    LoadMonitor monitor = new LoadMonitor(100, now::get);
    // the loop is held throughout, so its own timer never runs: the test plays the timer's part
    Context context = vertx.getOrCreateContext();
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    hold(context, held, release);
    assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
    try {
      played(monitor, monitor.watch(context), now);
    } finally {
      release.countDown();
    }
  }

  private static void played(LoadMonitor monitor, LoadMonitor.Loop loop, AtomicLong now) {
    long ms = TimeUnit.MILLISECONDS.toNanos(1);
    assertThat(loop.behind()).as("no timer armed yet").isFalse();

    // due in 25 ms, the last two fired on time
    loop.set(now.get() + 25 * ms, 0, 0);
    assertThat(loop.behind()).isFalse();
    // overdue by 100 ms: at the bound, not past it
    now.addAndGet(125 * ms);
    assertThat(loop.behind()).isFalse();
    now.addAndGet(ms);
    assertThat(loop.behind()).as("overdue past the bound").isTrue();
    assertThat(monitor.overloaded()).as("one late timer is a pause, not a backlog").isFalse();

    // the last fired 150 ms late, the one before on time: behind, not yet overloaded
    loop.set(now.get() + 25 * ms, 0, 150 * ms);
    assertThat(loop.behind()).isTrue();
    assertThat(monitor.overloaded()).isFalse();
    // ... and the next is overdue too: two in a row
    loop.set(now.get() - 110 * ms, 0, 150 * ms);
    assertThat(monitor.overloaded()).isTrue();
    // the last two fired late
    loop.set(now.get() + 25 * ms, 150 * ms, 120 * ms);
    assertThat(monitor.overloaded()).isTrue();
    // caught up: the last fired on time
    loop.set(now.get() + 25 * ms, 150 * ms, 10 * ms);
    assertThat(loop.behind()).isFalse();
    assertThat(monitor.overloaded()).isFalse();

    // stopped (its verticle undeployed): its timer never fires again, and that is not a lag
    loop.set(now.get() - 10_000 * ms, 10_000 * ms, 10_000 * ms);
    assertThat(monitor.overloaded()).isTrue();
    loop.stop();
    assertThat(loop.behind()).isFalse();
    assertThat(monitor.overloaded()).isFalse();
  }

  @Test
  void aMonitorThatIsOffIsNeverBehindAndSetsNoTimer() throws Exception {
    LoadMonitor monitor = LoadMonitor.off();
    Context context = vertx.getOrCreateContext();
    LoadMonitor.Loop loop = monitor.watch(context);
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    hold(context, held, release);
    try {
      assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
      AtomicLong probes = new AtomicLong();
      // asked many times while the loop is held for longer than any bound
      Await.until("probed", () -> {
        assertThat(monitor.overloaded()).isFalse();
        assertThat(loop.behind()).isFalse();
        return probes.incrementAndGet() > 30;
      }, Duration.ofSeconds(10));
      assertThat(monitor.enabled()).isFalse();
      assertThat(monitor.lagNanos()).isZero();
    } finally {
      release.countDown();
    }
  }
}
