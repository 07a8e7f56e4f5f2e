package io.parley.bench;

import io.netty.channel.EventLoop;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.Json;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Open-loop sender: message {@code k} becomes due at its scheduled time and is written as soon as
 * possible after it, regardless of whether earlier messages were acknowledged. Each of the
 * generator's event loops ("lane") sends the messages of the connections it owns, on the
 * connection's own thread with no hand-off between threads. With tick arrivals it does so from a
 * 1 ms timer on that loop, with no wake-up of a sleeping loop per message; with Poisson arrivals
 * ({@link MessageTracker#poisson}) from a one-shot timer set for the exact due time of the lane's
 * next message (nanosecond delay on the loop's Netty event loop, whose io_uring/epoll timers are
 * sub-millisecond), one frame per send. Lateness of the generator itself is tracked as "lag"
 * and, since latencies are measured from the scheduled time, cannot hide server queueing.
 */
final class SendScheduler {
  private static final long TICK_MS = 1;

  private final MessageTracker tracker;
  private final WsConn[] conns;
  private final Throttle throttle;
  private final int lanes;
  /** frame prefix per conversation; the frame is prefix + k + "\"}". */
  private final String[] framePrefix;
  private static final boolean FIRST = Boolean.parseBoolean(System.getProperty("parley.bench.first", "true"));
  private final CountDownLatch lanesDone;
  private final AtomicLong sentUpTo = new AtomicLong();
  private final AtomicLong maxLagNanos = new AtomicLong();
  private final AtomicLong recentLagNanos = new AtomicLong();
  private volatile boolean stopped;

  SendScheduler(MessageTracker tracker, WsConn[] conns, Throttle throttle, String[] convIds, String body) {
    this.tracker = tracker;
    this.conns = conns;
    this.throttle = throttle;
    this.lanes = throttle.size();
    this.lanesDone = new CountDownLatch(lanes);
    this.framePrefix = new String[convIds.length];
    for (int c = 0; c < convIds.length; c++) {
      // each message is sent once, never retried: flagged as its first attempt (routing skips its dedupe
      // read); -Dparley.bench.first=false (BENCH_JAVA_OPTS) sends unflagged, as clients before the flag
      framePrefix[c] = "{\"op\":\"send\"," + (FIRST ? "\"first\":true," : "") + "\"conv\":" + Json.encode(convIds[c]) + ",\"body\":\"" + body + "\",\"msg_id\":\"";
    }
  }

  /** Starts one sending lane per event loop. */
  void start(Vertx vertx) {
    for (int lane = 0; lane < lanes; lane++) {
      if (tracker.poisson()) {
        ArrivalLane l = new ArrivalLane(lane, (ContextInternal) throttle.contextFor(lane));
        throttle.contextFor(lane).runOnContext(v -> l.begin());
        continue;
      }
      Lane l = new Lane(lane);
      throttle.contextFor(lane).runOnContext(v -> l.timer = vertx.setPeriodic(TICK_MS, id -> l.tick(vertx)));
    }
  }

  /** Waits until every lane has sent its last message (or was stopped). */
  void await() throws InterruptedException {
    while (!lanesDone.await(1, TimeUnit.SECONDS)) {
      // keep waiting: the run's length is bounded by its schedule
    }
  }

  void stop() {
    stopped = true;
  }

  /** Number of messages handed to connections so far (messages 0..n-1). */
  long sentUpTo() {
    return sentUpTo.get();
  }

  /** The largest lag since the previous call, for progress lines. */
  double recentLagMs() {
    return recentLagNanos.getAndSet(0) / 1e6;
  }

  double maxLagMs() {
    return maxLagNanos.get() / 1e6;
  }

  /** Index of message k's sender connection (it lives on event loop index % lanes: see {@link Throttle}). */
  private int senderOf(long k) {
    return tracker.convOf(k) * tracker.groupSize + tracker.senderOf(k);
  }

  /** The messages whose sender lives on one event loop; only ever touched on that loop. */
  private final class Lane {
    private final int lane;
    private long next;
    long timer = -1;

    Lane(int lane) {
      this.lane = lane;
    }

    void tick(Vertx vertx) {
      long total = tracker.total;
      long now = System.nanoTime();
      boolean first = true;
      while (next < total && !stopped && tracker.scheduledNanos(next) <= now) {
        long k = next++;
        int s = senderOf(k);
        if (s % lanes != lane) {
          continue;
        }
        if (first) {
          first = false;
          long lag = now - tracker.scheduledNanos(k);
          maxLagNanos.accumulateAndGet(lag, Math::max);
          recentLagNanos.accumulateAndGet(lag, Math::max);
        }
        int c = tracker.convOf(k);
        tracker.markSent(k);
        if (!conns[s].send(framePrefix[c] + k + "\"}")) {
          tracker.markSendFailed(k);
        }
        sentUpTo.accumulateAndGet(k + 1, Math::max);
      }
      if (next >= total || stopped) {
        vertx.cancelTimer(timer);
        lanesDone.countDown();
      }
    }
  }

  /**
   * Poisson arrivals: the messages whose sender lives on one event loop, each written at its own due
   * time; only ever touched on that loop. Vert.x's public timers count whole milliseconds, hence
   * the Netty event loop of the lane's context (Vert.x internal API, the bench's only use of it).
   */
  private final class ArrivalLane {
    private final int lane;
    private final ContextInternal context;
    private final EventLoop loop;
    /** The lane's next message to send (tracker.total when none is left). */
    private long next;

    ArrivalLane(int lane, ContextInternal context) {
      this.lane = lane;
      this.context = context;
      this.loop = context.nettyEventLoop();
    }

    void begin() {
      next = nextOfLane(0);
      schedule();
    }

    /** The first message from k on whose sender lives on this lane. */
    private long nextOfLane(long k) {
      long total = tracker.total;
      while (k < total && senderOf(k) % lanes != lane) {
        k++;
      }
      return k;
    }

    private void schedule() {
      if (next >= tracker.total || stopped) {
        lanesDone.countDown();
        return;
      }
      long delay = Math.max(0, tracker.scheduledNanos(next) - System.nanoTime());
      // run as a Vert.x task of the lane's context, as a Vert.x timer's handler would be
      loop.schedule(() -> context.emit(v -> fire()), delay, TimeUnit.NANOSECONDS);
    }

    /** Writes every message of the lane that is due now, each as a frame of its own, then waits for the next. */
    private void fire() {
      long total = tracker.total;
      long now = System.nanoTime();
      boolean first = true;
      while (next < total && !stopped && tracker.scheduledNanos(next) <= now) {
        long k = next;
        next = nextOfLane(k + 1);
        int s = senderOf(k);
        if (first) {
          first = false;
          long lag = now - tracker.scheduledNanos(k);
          maxLagNanos.accumulateAndGet(lag, Math::max);
          recentLagNanos.accumulateAndGet(lag, Math::max);
        }
        tracker.markSent(k);
        if (!conns[s].send(framePrefix[tracker.convOf(k)] + k + "\"}")) {
          tracker.markSendFailed(k);
        }
        sentUpTo.accumulateAndGet(k + 1, Math::max);
      }
      schedule();
    }
  }
}
