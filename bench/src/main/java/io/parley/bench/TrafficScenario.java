package io.parley.bench;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The open-loop messaging scenarios. {@code dm}: U users in U/2 DM pairs; {@code group}: N groups
 * of G members. Every user has one websocket; a {@link SendScheduler} emits sends at the target
 * aggregate rate, round-robin over conversations and then over their members (tick arrivals) or
 * each to a random member at Poisson arrival times (see {@link Arrivals}), and a
 * {@link MessageTracker} measures send->ack and send->deliver latency and checks that every
 * other member's connection receives every accepted message exactly once.
 */
final class TrafficScenario {
  /** CPU time of this process so far (all threads), or 0 where the JVM does not tell. */
  static long processCpuNanos() {
    return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os ? Math.max(0, os.getProcessCpuTime()) : 0;
  }

  private static final int MAX_MEMBERS_PER_CREATE = 4999;
  private static final int ADD_MEMBERS_CHUNK = 1000;

  private final Common common;
  private final String kind;
  private final int convs;
  private final int groupSize;
  private final double rate;
  private final double durationSeconds;
  private final int bodyBytes;
  private final Arrivals arrivals;
  /** Where {@code --timeline} writes send→deliver per second, or null. */
  private java.nio.file.Path timeline;

  /**
   * How sends are scheduled: ticks (message k due at k / rate, conversations round-robin, written
   * from a 1 ms timer per event loop) or Poisson (independent per connection, one frame per send at
   * its own time; {@link MessageTracker#poisson}) from {@code seed}.
   */
  record Arrivals(boolean poisson, long seed) {
    static final Arrivals TICKS = new Arrivals(false, 0);

    String name() {
      return poisson ? "poisson" : "ticks";
    }
  }

  TrafficScenario(Common common, String kind, int convs, int groupSize, double rate, double durationSeconds,
      int bodyBytes, Arrivals arrivals) {
    if (convs < 1 || groupSize < 2) {
      throw new Options.UsageException("need at least one conversation of at least 2 members");
    }
    if (rate <= 0 || durationSeconds <= 0) {
      throw new Options.UsageException("--rate and --duration must be > 0");
    }
    if (bodyBytes < 1 || bodyBytes > 1_000_000) {
      throw new Options.UsageException("body size must be 1..1000000 bytes");
    }
    this.common = common;
    this.kind = kind;
    this.convs = convs;
    this.groupSize = groupSize;
    this.rate = rate;
    this.durationSeconds = durationSeconds;
    this.bodyBytes = bodyBytes;
    this.arrivals = arrivals;
  }

  /** Writes send→deliver per second of the schedule to {@code file} as CSV ({@link LatencyTimeline}). */
  TrafficScenario withTimeline(java.nio.file.Path file) {
    this.timeline = file;
    return this;
  }

  Result run() throws Exception {
    Result r = new Result(kind);
    int users = convs * groupSize;
    r.put("users", users).put("conversations", convs).put("members_per_conversation", groupSize)
        .put("target_rate_msgs_per_s", rate).put("duration_s", durationSeconds)
        .put("warmup_s", common.warmupSeconds).put("warmup_ramp_from", common.rampFrom).put("drain_s", common.drainSeconds).put("body_bytes", bodyBytes).put("ports", common.portsJson())
        .put("arrivals", arrivals.name());
    MessageTracker tracker;
    if (arrivals.poisson()) {
      r.put("seed", arrivals.seed());
      Bench.log("%s: poisson arrivals, seed %d (--seed %d repeats this schedule)", kind, arrivals.seed(), arrivals.seed());
      tracker = MessageTracker.poisson(convs, groupSize, rate, common.warmupSeconds, durationSeconds, common.rampFrom,
          arrivals.seed());
    } else {
      tracker = new MessageTracker(convs, groupSize, rate,
          MessageTracker.totalMessages(rate, common.warmupSeconds, durationSeconds, common.rampFrom));
    }
    long total = tracker.total;

    try (Net net = new Net(common, 0)) {
      Throttle throttle = new Throttle(net.vertx, common.eventLoops);
      Api api = new Api(net.http);
      Population pop = new Population(net, throttle, common, kind.equals("dm") ? "d" : "g", users, 0);
      if (common.ports.length > 1) {
        // user u connects to ports[u % n]: the two users of DM pair (2k, 2k+1) are on different
        // ports, group members are spread round-robin
        r.put("conversations_across_ports", conversationsAcrossPorts(pop));
      }

      pop.fetchTokens(api, kind + ": ");
      if (pop.tokenFailures.sum() > 0) {
        return setupFailed(r, pop, "token requests failed: " + pop.tokenFailures.sum());
      }

      Bench.log("%s: creating %d conversations", kind, convs);
      String[] convIds = new String[convs];
      Bench.await(throttle.forEach(convs, Math.min(common.concurrency, 64),
          c -> createConversation(api, pop, c).onSuccess(id -> convIds[c] = id)
              .onFailure(e -> pop.cause("conversation: " + e.getMessage()))), 600);
      for (String id : convIds) {
        if (id == null) {
          return setupFailed(r, pop, "conversation creation failed");
        }
      }

      pop.createConnections(tracker);
      for (int u = 0; u < users; u++) {
        pop.conns[u].conv = convIds[u / groupSize];
        pop.conns[u].memberIndex = u % groupSize;
      }
      Bench.log("%s: connecting %d websockets", kind, users);
      Bench.await(pop.connectAll(common.concurrency), 600);
      if (common.ports.length > 1) {
        r.put("connections_by_port", pop.connectsByPortJson());
      }
      if (pop.connectFailures.sum() > 0) {
        return setupFailed(r, pop, "websocket connects failed: " + pop.connectFailures.sum());
      }
      long alive = pop.pingAll(10);
      if (alive < users) {
        return setupFailed(r, pop, (users - alive) + " websockets did not answer a ping within 10 s");
      }

      // promote the set-up garbage and connection state now, not in a GC pause during the run
      System.gc();
      String body = "x".repeat(bodyBytes);
      SendScheduler scheduler = new SendScheduler(tracker, pop.conns, throttle, convIds, body);
      long t0 = System.nanoTime() + 100_000_000L;
      tracker.start(t0, (long) (common.warmupSeconds * 1e9), (long) (durationSeconds * 1e9), common.rampFrom);
      if (timeline != null) {
        LatencyTimeline tl = new LatencyTimeline((int) Math.ceil(common.warmupSeconds + durationSeconds + common.drainSeconds) + 2);
        tl.start(t0);
        tracker.timeline = tl;
      }
      Bench.log("%s: sending %d messages at %.0f msgs/s (%.1f s warm-up + %.1f s measured)", kind, total, rate,
          common.warmupSeconds, durationSeconds);
      long drainNanos;
      long cpu0 = processCpuNanos();
      long[] serverCpu0 = ServerRss.cpuSplitMicros(common.serverPid);
      long delivered0 = tracker.delivered.sum();
      long wall0 = System.nanoTime();
      try (Progress p = new Progress("", () -> String.format(java.util.Locale.ROOT,
          "sent=%d acked=%d delivered=%d/%d errors=%d dup=%d closes=%d lag=%.1fms",
          tracker.sent.sum(), tracker.acked.sum(), tracker.delivered.sum(), tracker.expectedDeliveries(),
          tracker.errorCount(), tracker.duplicates.sum(), tracker.unexpectedCloses.sum(), scheduler.recentLagMs()))) {
        scheduler.start(net.vertx);
        scheduler.await();
        long drainStart = System.nanoTime();
        long drainLimit = (long) (common.drainSeconds * 1e9);
        while (!tracker.drained() && System.nanoTime() - drainStart < drainLimit) {
          Thread.sleep(20);
        }
        drainNanos = System.nanoTime() - drainStart;
        // a short grace period to catch late duplicates
        Thread.sleep(200);
      }
      long generatorCpu = processCpuNanos() - cpu0;
      long[] serverCpu1 = ServerRss.cpuSplitMicros(common.serverPid);
      long deliveredInPhase = tracker.delivered.sum() - delivered0;
      long generatorWall = System.nanoTime() - wall0;
      MessageTracker.Loss loss = tracker.loss(scheduler.sentUpTo());
      Bench.await(pop.closeAll(), 30);

      double window = tracker.windowNanos() / 1e9;
      r.put("sent", tracker.sent.sum())
          .put("send_failed", tracker.sendFailed.sum())
          .put("acked", tracker.acked.sum())
          .put("unacked", loss.unacked)
          .put("errors", tracker.errorCount())
          .put("errors_by_code", new JsonObject(new java.util.LinkedHashMap<>(tracker.errorsByCode())))
          .put("acks_per_s", Result.round(tracker.windowAcks.sum() / window, 1))
          .put("deliveries_per_s", Result.round(tracker.windowDeliveries.sum() / window, 1))
          .put("expected_deliveries", tracker.expectedDeliveries())
          .put("delivered", tracker.delivered.sum())
          .put("lost_deliveries", loss.lostDeliveries)
          .put("lost_deliveries_of_acked", loss.lostAckedDeliveries)
          .put("lost_deliveries_of_unacked", loss.lostDeliveries - loss.lostAckedDeliveries)
          .put("lost_messages", loss.lostMessages)
          .put("lost_messages_no_recipient", loss.lostEntirely)
          .put("duplicated", tracker.duplicates.sum())
          .put("duplicate_acks", tracker.duplicateAcks.sum())
          .put("delivered_despite_error", loss.deliveredDespiteError)
          .put("own_echoes_not_counted", tracker.selfEchoes.sum())
          .put("foreign_frames", tracker.foreign.sum())
          .put("bad_frames", tracker.badFrames.sum())
          .put("unexpected_closes", tracker.unexpectedCloses.sum())
          .put("generator_max_lag_ms", Result.round(scheduler.maxLagMs(), 2))
          // the generator's own CPU over the send phase and drain, and the share of its CPUs that
          // is: near 1, the generator itself queues, and that delay shows in the latencies
          .put("generator_cpu_s", Result.round(generatorCpu / 1e9, 2))
          .put("generator_cpu_share", Result.round(
              (double) generatorCpu / generatorWall / Runtime.getRuntime().availableProcessors(), 3))
          .put("drain_ms", Result.round(drainNanos / 1e6, 1));
      if (serverCpu0 != null && serverCpu1 != null) {
        // --server-pid: the server's CPU over the send phase (warm-up, window, drain) per delivery made
        // in it, and the kernel's (system time) share of it
        long user = serverCpu1[0] - serverCpu0[0];
        long system = serverCpu1[1] - serverCpu0[1];
        double deliveries = Math.max(1, deliveredInPhase);
        r.put("server_cpu_s", Result.round((user + system) / 1e6, 2))
            .put("server_cpu_us_per_delivery", Result.round((user + system) / deliveries, 1))
            .put("server_system_cpu_us_per_delivery", Result.round(system / deliveries, 1));
      }
      if (timeline != null) {
        tracker.timeline.write(timeline);
        r.put("timeline", timeline.toString());
      }
      r.histogram("send->ack", tracker.ackLatency).histogram("send->deliver", tracker.deliverLatency);
      if (loss.lostDeliveries > 0) {
        r.fail("lost deliveries: " + loss.lostDeliveries + " (" + loss.lostMessages + " messages)");
      }
      if (loss.unacked > 0) {
        r.notes.add(loss.unacked + " messages were neither acked nor rejected within the " + common.drainSeconds
            + " s drain: the server fell behind the offered rate (their missing deliveries count as lost)");
      }
      if (tracker.duplicates.sum() > 0) {
        r.fail("duplicated deliveries: " + tracker.duplicates.sum());
      }
      if (tracker.errorCount() > 0) {
        r.notes.add(tracker.errorCount() + " error frames from the server (rejected messages are not counted as lost)");
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

  /** Number of conversations whose members do not all connect to the same port. */
  private int conversationsAcrossPorts(Population pop) {
    int across = 0;
    for (int c = 0; c < convs; c++) {
      int first = pop.portOf(c * groupSize);
      for (int m = 1; m < groupSize; m++) {
        if (pop.portOf(c * groupSize + m) != first) {
          across++;
          break;
        }
      }
    }
    return across;
  }

  private Future<String> createConversation(Api api, Population pop, int c) {
    int first = c * groupSize;
    String token = pop.token(first);
    if (groupSize == 2 && kind.equals("dm")) {
      return api.createDm(token, pop.names[first + 1]);
    }
    List<String> others = new ArrayList<>();
    for (int m = 1; m < groupSize; m++) {
      others.add(pop.names[first + m]);
    }
    List<String> initial = others.subList(0, Math.min(others.size(), MAX_MEMBERS_PER_CREATE));
    Future<String> created = api.createGroup(token, "bench-" + common.runId + "-" + c, initial);
    for (int from = initial.size(); from < others.size(); from += ADD_MEMBERS_CHUNK) {
      List<String> chunk = others.subList(from, Math.min(others.size(), from + ADD_MEMBERS_CHUNK));
      created = created.compose(id -> api.addMembers(token, id, chunk).map(id));
    }
    return created;
  }

  private static Result setupFailed(Result r, Population pop, String reason) {
    r.put("failure_causes", pop.causesJson());
    r.fail("setup: " + reason);
    return r;
  }
}
