package io.parley.bench;

import io.vertx.core.json.Json;
import java.util.concurrent.locks.LockSupport;

/**
 * Open-loop sender on its own thread (never an event loop): message {@code k} becomes due at
 * its scheduled time and is written as soon as possible after it, regardless of whether earlier
 * messages were acknowledged. Lateness of the generator itself is tracked as "lag" and, since
 * latencies are measured from the scheduled time, cannot hide server queueing.
 */
final class SendScheduler implements Runnable {
  private final MessageTracker tracker;
  private final WsConn[] conns;
  /** frame prefix per conversation; the frame is prefix + k + "\"}". */
  private final String[] framePrefix;
  private volatile boolean stopped;
  private volatile long nextSeq;
  private volatile long maxLagNanos;

  SendScheduler(MessageTracker tracker, WsConn[] conns, String[] convIds, String body) {
    this.tracker = tracker;
    this.conns = conns;
    this.framePrefix = new String[convIds.length];
    for (int c = 0; c < convIds.length; c++) {
      framePrefix[c] = "{\"op\":\"send\",\"conv\":" + Json.encode(convIds[c]) + ",\"body\":\"" + body + "\",\"msg_id\":\"";
    }
  }

  @Override
  public void run() {
    long k = 0;
    long total = tracker.total;
    while (k < total && !stopped) {
      long now = System.nanoTime();
      long due = tracker.scheduledNanos(k);
      if (due > now) {
        LockSupport.parkNanos(Math.min(due - now, 1_000_000));
        continue;
      }
      long lag = now - due;
      if (lag > maxLagNanos) {
        maxLagNanos = lag;
      }
      // send everything that is due; re-read the clock only between batches
      while (k < total && tracker.scheduledNanos(k) <= now) {
        sendOne(k);
        k++;
        nextSeq = k;
      }
    }
  }

  private void sendOne(long k) {
    int c = tracker.convOf(k);
    WsConn sender = conns[c * tracker.groupSize + tracker.senderOf(k)];
    tracker.markSent(k);
    if (!sender.send(framePrefix[c] + k + "\"}")) {
      tracker.markSendFailed(k);
    }
  }

  void stop() {
    stopped = true;
  }

  /** Number of messages handed to connections so far (messages 0..n-1). */
  long sentUpTo() {
    return nextSeq;
  }

  double maxLagMs() {
    return maxLagNanos / 1e6;
  }
}
