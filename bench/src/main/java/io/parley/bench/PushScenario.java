package io.parley.bench;

import io.parley.pushfakes.FakeFcmService;
import io.parley.pushfakes.Pacing;
import io.parley.pushfakes.PushFakes;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * {@code push}: send → provider accepted for offline devices. The FCM fake runs in this process
 * (answering after {@code --fake-delay-ms}); the server is one the bench launches with the fake's
 * environment ({@code --launch}), or one the user starts with the environment printed. U recipient
 * users each register one device with provider fcm and never connect; U senders connect, and
 * sender i sends its DM to recipient i on its own schedule, at R msgs/s in total (open loop,
 * measured from the scheduled time as in {@code dm}).
 *
 * <p>Matching: the ack gives each message's server_id; the fake logs each accepted push with its
 * time, conversation, server_id and count. A push carries the newest server_id of its conversation
 * and the number of messages it tells of (a coalesced follow-up: every message since the previous
 * push), so it covers the {@code count} newest messages of its conversation up to its server_id;
 * send → push of a message = the arrival of the first push covering it − the message's scheduled
 * send time. A message no push covers by the end of the drain is missing (its notification was
 * lost), and fails the run. Pushes whose count differs from the messages new since the previous
 * push are counted ({@code push_count_mismatches}), not failed.
 *
 * <p>Throttle drill ({@code --throttle-for-s S}): from the first send for S s the fake answers 429
 * with Retry-After beyond {@code --throttle-rate} pushes per second (0: all); reported is the time
 * from the throttle's end until the last message was covered.
 */
final class PushScenario {
  private static final String DEVICE = "phone";

  private final Common common;
  private final int users;
  private final double rate;
  private final double durationSeconds;
  private final int bodyBytes;
  private final Settings s;

  /** The push scenario's own options. */
  record Settings(long fakeDelayMs, int fakePort, int throttleForS, int throttleRate, int throttleRetryAfterS,
      Integer coalesceMs, boolean launch, Path serverJar, String serverCpus, List<String> serverJavaOpts,
      double serverWaitSeconds) {}

  PushScenario(Common common, int users, double rate, double durationSeconds, int bodyBytes, Settings settings) {
    if (users < 1 || rate <= 0 || durationSeconds <= 0) {
      throw new Options.UsageException("need --users >= 1, --rate and --duration > 0");
    }
    if (bodyBytes < 1 || bodyBytes > 1_000_000) {
      throw new Options.UsageException("body size must be 1..1000000 bytes");
    }
    this.common = common;
    this.users = users;
    this.rate = rate;
    this.durationSeconds = durationSeconds;
    this.bodyBytes = bodyBytes;
    this.s = settings;
  }

  Result run() throws Exception {
    Result r = new Result("push");
    r.put("recipients_offline", users).put("senders", users).put("target_rate_msgs_per_s", rate)
        .put("duration_s", durationSeconds).put("warmup_s", common.warmupSeconds).put("warmup_ramp_from", common.rampFrom)
        .put("drain_s", common.drainSeconds).put("body_bytes", bodyBytes).put("fake_delay_ms", s.fakeDelayMs())
        .put("coalesce_ms", s.coalesceMs() == null ? "server's" : String.valueOf(s.coalesceMs()));
    if (s.throttleForS() > 0) {
      r.put("throttle_for_s", s.throttleForS()).put("throttle_rate_per_s", s.throttleRate())
          .put("throttle_retry_after_s", s.throttleRetryAfterS());
    }
    try (FakeFcmService fcm = new FakeFcmService(System::currentTimeMillis, "127.0.0.1", s.fakePort())) {
      fcm.pacing.setDelayMs(s.fakeDelayMs());
      Path account = PushFakes.writeServiceAccount(fcm, common.outDir.resolve("push-" + common.runId).toAbsolutePath());
      Map<String, String> env = new LinkedHashMap<>(PushFakes.env(account, fcm));
      if (s.coalesceMs() != null) {
        env.put("PARLEY_PUSH_COALESCE_MS", String.valueOf(s.coalesceMs()));
      }
      if (s.launch()) {
        Path log = common.outDir.resolve("push-" + common.runId + "-server.log").toAbsolutePath();
        Bench.log("push: launching %s (log %s)", s.serverJar(), log);
        try (ServerProcess server = ServerProcess.start(s.serverJar(), env, s.serverCpus(), s.serverJavaOpts(), log)) {
          r.put("server", "launched, pid " + server.pid() + ", port " + server.port).put("server_log", log.toString());
          return measure(r, fcm, server.port, 120);
        }
      }
      Bench.log("push: start Parley (embedded profile) with this environment, then it is used on port %d:", common.port);
      env.forEach((k, v) -> Bench.log("  export %s=%s", k, v));
      r.put("server", "port " + common.port);
      return measure(r, fcm, common.port, s.serverWaitSeconds());
    }
  }

  private Result measure(Result r, FakeFcmService fcm, int port, double waitSeconds) throws Exception {
    long total = MessageTracker.totalMessages(rate, common.warmupSeconds, durationSeconds, common.rampFrom);
    // one member per "conversation" as far as the tracker knows: sender i is the only one who sends
    // in DM i, and nobody connected receives it (so no delivery is expected)
    MessageTracker tracker = new MessageTracker(users, 1, rate, total);
    AtomicLongArray serverIds = new AtomicLongArray((int) total);
    for (int k = 0; k < total; k++) {
      serverIds.set(k, -1);
    }

    try (Net net = new Net(common, 0, port)) {
      Throttle throttle = new Throttle(net.vertx, common.eventLoops);
      Api api = new Api(net.http);
      if (!waitReady(api, waitSeconds)) {
        r.fail("setup: the server on port " + port + " was not ready within " + waitSeconds + " s");
        return r;
      }
      Population senders = new Population(net, throttle, common, "ps", users, 0);
      Population recipients = new Population(net, throttle, common, "pr", users, 0);
      senders.usePorts(port);
      recipients.usePorts(port);
      senders.fetchTokens(api, "push: senders: ");
      recipients.fetchTokens(api, "push: recipients: ");
      if (senders.tokenFailures.sum() + recipients.tokenFailures.sum() > 0) {
        return setupFailed(r, senders, recipients, "token requests failed");
      }

      Bench.log("push: registering %d offline devices with provider fcm", users);
      LongAdder registered = new LongAdder();
      Bench.await(throttle.forEach(users, Math.min(common.concurrency, 64), i -> api.registerPush(recipients.token(i), DEVICE,
              new JsonObject().put("provider", "fcm").put("token", fcmToken(i)))
          .onSuccess(v -> registered.increment())
          .onFailure(e -> recipients.cause("register: " + e.getMessage()))), 600);
      r.put("devices_registered", registered.sum());
      if (registered.sum() < users) {
        return setupFailed(r, senders, recipients, (users - registered.sum()) + " push registrations failed (is FCM on? "
            + "the server needs the environment above)");
      }

      Bench.log("push: creating %d DMs", users);
      String[] convIds = new String[users];
      Bench.await(throttle.forEach(users, Math.min(common.concurrency, 64),
          i -> api.createDm(senders.token(i), recipients.names[i]).onSuccess(id -> convIds[i] = id)
              .onFailure(e -> senders.cause("conversation: " + e.getMessage()))), 600);
      Map<String, Integer> convIndex = new HashMap<>();
      for (int i = 0; i < users; i++) {
        if (convIds[i] == null) {
          return setupFailed(r, senders, recipients, "conversation creation failed");
        }
        convIndex.put(convIds[i], i);
      }

      WsConn.Listener listener = new WsConn.Listener() {
        @Override
        public void onFrame(WsConn conn, String op, Frame frame) {
          tracker.onFrame(conn, op, frame);
          if (op.equals("ack")) {
            long k = parseId(frame.str("msg_id"));
            long sid = parseId(frame.str("server_id"));
            if (k >= 0 && k < total && sid >= 0) {
              serverIds.set((int) k, sid);
            }
          }
        }

        @Override
        public void onUnexpectedClose(WsConn conn) {
          tracker.onUnexpectedClose(conn);
        }

        @Override
        public void onBadFrame(WsConn conn, String text) {
          tracker.onBadFrame(conn, text);
        }
      };
      senders.createConnections(listener);
      for (int i = 0; i < users; i++) {
        senders.conns[i].conv = convIds[i];
        senders.conns[i].memberIndex = 0;
      }
      Bench.log("push: connecting %d senders", users);
      Bench.await(senders.connectAll(common.concurrency), 600);
      if (senders.connectFailures.sum() > 0) {
        return setupFailed(r, senders, recipients, "websocket connects failed: " + senders.connectFailures.sum());
      }
      if (senders.pingAll(10) < users) {
        return setupFailed(r, senders, recipients, "some websockets did not answer a ping within 10 s");
      }

      System.gc();
      SendScheduler scheduler = new SendScheduler(tracker, senders.conns, throttle, convIds, "x".repeat(bodyBytes));
      long t0 = System.nanoTime() + 100_000_000L;
      // epoch nanos = nanoTime + offset: the fake stamps acceptance with the wall clock
      long offset = System.currentTimeMillis() * 1_000_000L - System.nanoTime();
      tracker.start(t0, (long) (common.warmupSeconds * 1e9), (long) (durationSeconds * 1e9), common.rampFrom);
      long throttleEndNanos = Long.MIN_VALUE;
      if (s.throttleForS() > 0) {
        fcm.pacing.throttle(s.throttleForS() * 1000L + 100, s.throttleRetryAfterS(), s.throttleRate());
        throttleEndNanos = fcm.pacing.throttleUntilMs() * 1_000_000L - offset;
      }
      Bench.log("push: sending %d messages at %.0f msgs/s (%.1f s warm-up + %.1f s measured)", total, rate,
          common.warmupSeconds, durationSeconds);
      long drainNanos;
      try (Progress p = new Progress("", () -> String.format(Locale.ROOT,
          "sent=%d acked=%d pushes=%d answered_429=%d other=%d not_pushed_yet=%d lag=%.1fms",
          tracker.sent.sum(), tracker.acked.sum(), fcm.pacing.acceptedCount(), fcm.pacing.throttledCount(),
          fcm.pacing.otherCount(), cover(tracker, scheduler.sentUpTo(), serverIds, fcm.pacing, convIndex, -1).missing,
          scheduler.recentLagMs()))) {
        scheduler.start(net.vertx);
        scheduler.await();
        long drainStart = System.nanoTime();
        long drainUntil = Math.max(drainStart, throttleEndNanos) + (long) (common.drainSeconds * 1e9);
        while (!(tracker.drained() && cover(tracker, scheduler.sentUpTo(), serverIds, fcm.pacing, convIndex, -1).missing == 0)
            && System.nanoTime() < drainUntil) {
          Thread.sleep(100);
        }
        drainNanos = System.nanoTime() - drainStart;
      }
      MessageTracker.Loss loss = tracker.loss(scheduler.sentUpTo());
      Bench.await(senders.closeAll(), 30);

      Coverage cov = cover(tracker, scheduler.sentUpTo(), serverIds, fcm.pacing, convIndex, offset);
      r.put("sent", tracker.sent.sum())
          .put("send_failed", tracker.sendFailed.sum())
          .put("acked", tracker.acked.sum())
          .put("unacked", loss.unacked)
          .put("errors", tracker.errorCount())
          .put("errors_by_code", new JsonObject(new LinkedHashMap<>(tracker.errorsByCode())))
          .put("pushes_accepted", cov.pushes)
          .put("messages_pushed", cov.covered)
          .put("messages_missing", cov.missing)
          .put("pushes_per_message", cov.covered == 0 ? 0.0 : Result.round((double) cov.pushes / cov.covered, 3))
          .put("pushes_covering_nothing_new", cov.repeats)
          .put("push_count_mismatches", cov.countMismatches)
          .put("pushes_foreign", cov.foreign)
          .put("fcm_answers_429", fcm.pacing.throttledCount())
          .put("fcm_answers_other", fcm.pacing.otherCount())
          .put("fcm_token_requests", fcm.tokenRequests.get())
          .put("generator_max_lag_ms", Result.round(scheduler.maxLagMs(), 2))
          .put("drain_ms", Result.round(drainNanos / 1e6, 1));
      if (s.throttleForS() > 0) {
        long endMs = fcm.pacing.throttleUntilMs();
        r.put("throttle_end_to_all_pushed_ms", cov.lastArrivalMs < 0 ? -1 : Math.max(0, cov.lastArrivalMs - endMs));
      }
      r.histogram("send->ack", tracker.ackLatency).histogram("send->push", cov.latency);
      if (cov.missing > 0) {
        r.fail("messages without a push: " + cov.missing + " (of " + (cov.covered + cov.missing) + " acked)");
      }
      if (loss.unacked > 0) {
        r.notes.add(loss.unacked + " messages were neither acked nor rejected within the drain");
      }
      if (cov.countMismatches > 0) {
        r.notes.add(cov.countMismatches + " pushes carried a count other than the number of messages they newly covered");
      }
      if (!fcm.errors.isEmpty()) {
        r.fail("the FCM fake refused " + fcm.errors.size() + " requests, first: " + fcm.errors.get(0));
      }
      if (tracker.errorCount() > 0) {
        r.notes.add(tracker.errorCount() + " error frames from the server (rejected messages are not counted as missing)");
      }
      if (scheduler.maxLagMs() > 100) {
        r.notes.add("the generator fell behind its schedule by up to " + Result.round(scheduler.maxLagMs(), 1)
            + " ms (latencies include that delay)");
      }
      if (tracker.unexpectedCloses.sum() > 0) {
        r.fail("server closed " + tracker.unexpectedCloses.sum() + " connections during the run");
      }
    }
    return r;
  }

  /** What the pushes covered: see the class comment. */
  static final class Coverage {
    final Histogram latency = Population.newHistogram();
    long pushes;
    long covered;
    long missing;
    long repeats;
    long countMismatches;
    long foreign;
    long lastArrivalMs = -1;
  }

  /** Coverage so far; {@code offset} converts nanoTime to epoch nanos (-1: no latencies, a progress check). */
  private Coverage cover(MessageTracker tracker, long sentUpTo, AtomicLongArray serverIds, Pacing pacing,
      Map<String, Integer> convIndex, long offset) {
    Coverage cov = new Coverage();
    List<List<long[]>> pushesByConv = new ArrayList<>();
    for (int c = 0; c < users; c++) {
      pushesByConv.add(new ArrayList<>());
    }
    for (Pacing.Accepted a : pacing.accepted) {
      Integer c = a.conv() == null ? null : convIndex.get(a.conv());
      long sid = parseId(a.serverId());
      if (c != null && sid >= 0) {
        pushesByConv.get(c).add(new long[] {sid, a.atMs(), a.count()});
        cov.pushes++;
      } else {
        cov.foreign++;
      }
    }
    List<List<long[]>> msgsByConv = new ArrayList<>();
    for (int c = 0; c < users; c++) {
      msgsByConv.add(new ArrayList<>());
    }
    for (long k = 0; k < sentUpTo; k++) {
      long sid = serverIds.get((int) k);
      if (sid >= 0) {
        msgsByConv.get(tracker.convOf(k)).add(new long[] {sid, k});
      }
    }
    for (int c = 0; c < users; c++) {
      long[][] pushes = pushesByConv.get(c).toArray(new long[0][]);
      long[][] msgs = msgsByConv.get(c).toArray(new long[0][]);
      Arrays.sort(pushes, (x, y) -> Long.compare(x[0], y[0]));
      Arrays.sort(msgs, (x, y) -> Long.compare(x[0], y[0]));
      long[] sids = new long[msgs.length];
      long[] arrival = new long[msgs.length];
      for (int m = 0; m < msgs.length; m++) {
        sids[m] = msgs[m][0];
        arrival[m] = Long.MAX_VALUE;
      }
      long prevSid = -1;
      for (long[] push : pushes) {
        // a push covers the `count` newest messages up to its server_id
        int upTo = upperBound(sids, push[0]);
        int from = Math.max(0, upTo - (int) Math.max(1, push[2]));
        for (int m = from; m < upTo; m++) {
          arrival[m] = Math.min(arrival[m], push[1]);
        }
        int newly = upTo - upperBound(sids, prevSid);
        if (push[0] == prevSid || newly == 0) {
          cov.repeats++;
        } else if (push[2] != newly) {
          cov.countMismatches++;
        }
        prevSid = Math.max(prevSid, push[0]);
      }
      for (int m = 0; m < msgs.length; m++) {
        if (arrival[m] == Long.MAX_VALUE) {
          cov.missing++;
          continue;
        }
        cov.covered++;
        cov.lastArrivalMs = Math.max(cov.lastArrivalMs, arrival[m]);
        long k = msgs[m][1];
        if (offset != -1 && tracker.measured(k)) {
          Population.record(cov.latency, arrival[m] * 1000 - (tracker.scheduledNanos(k) + offset) / 1000);
        }
      }
    }
    return cov;
  }

  /** The number of values in sorted {@code a} that are at most {@code v}. */
  private static int upperBound(long[] a, long v) {
    int lo = 0;
    int hi = a.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (a[mid] <= v) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  private String fcmToken(int i) {
    return "bench-" + common.runId + "-" + i;
  }

  /** A decimal id, or -1. */
  static long parseId(String s) {
    if (s == null || s.isEmpty() || s.length() > 19) {
      return -1;
    }
    try {
      long v = Long.parseLong(s);
      return v >= 0 ? v : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private boolean waitReady(Api api, double seconds) throws Exception {
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    do {
      if (Bench.await(api.ready(), 10)) {
        return true;
      }
      Thread.sleep(250);
    } while (System.nanoTime() < deadline);
    return false;
  }

  private static Result setupFailed(Result r, Population senders, Population recipients, String reason) {
    JsonObject causes = senders.causesJson().mergeIn(recipients.causesJson());
    r.put("failure_causes", causes);
    r.fail("setup: " + reason);
    return r;
  }
}
