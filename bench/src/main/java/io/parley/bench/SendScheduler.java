package io.parley.bench;

import io.vertx.core.Vertx;
import io.vertx.core.json.Json;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Open-loop sender: message {@code k} becomes due at its scheduled time and is written as soon as
 * possible after it, regardless of whether earlier messages were acknowledged. Each of the
 * generator's event loops sends the messages of the connections it owns, from a 1 ms timer on that
 * loop: a send is written on the connection's own thread, with no hand-off between threads and no
 * wake-up of a sleeping loop per message. Lateness of the generator itself is tracked as "lag"
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
}
