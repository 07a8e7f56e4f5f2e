package io.parley.bench;

import io.parley.bench.ChaosHistory.Ack;
import io.parley.bench.ChaosHistory.Delivery;
import io.parley.bench.ChaosHistory.Event;
import io.parley.bench.ChaosHistory.Kind;
import io.parley.bench.ChaosHistory.Rejection;
import io.parley.bench.ChaosHistory.Send;
import io.parley.bench.ChaosHistory.Stored;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code chaos}: users with one to three devices each, in DMs and small groups, behaving as a
 * correct client while the cluster under them is being hurt (by {@code scripts/chaos}); every send,
 * ack, error and delivery goes into a {@link ChaosHistory} that {@link HistoryChecker} judges at
 * the end.
 *
 * <p>Each device: sends on its own (Poisson) schedule to one of its user's conversations, with a
 * fresh msg_id and a body tagged with sender, conversation and msg_id; keeps an outbox keyed by
 * msg_id and sends what is unacked again with the same msg_id and body 3 s after the last attempt
 * and on every (re)connect ({@code rate_limited} / {@code unavailable} stay in the outbox, any other
 * error takes the send out); drops its connection now and then on purpose; reconnects after a
 * close or failed connect with backoff, each time to the next port (another node); pings every
 * 5 s and treats 12 s without any frame as a dead connection (a stopped node); on every connect
 * sends {@code sync} with the last server_id it saw per conversation, and pages REST history back
 * from the oldest synced message while {@code synced} says {@code more}.
 *
 * <p>After the send phase: waits for the outboxes to empty (up to the settle time), a quiet
 * period, then a final sync of every device, reads every conversation's history (storage), and
 * checks.
 */
final class ChaosScenario {
  static final long RETRY_MS = 3_000;
  static final long PING_MS = 5_000;
  static final long DEAD_MS = 12_000;
  /** Error codes a correct client retries with the same msg_id. */
  static final Set<String> RETRYABLE = Set.of("rate_limited", "unavailable", "internal");

  record Settings(int users, int devicesMax, double rate, double durationS, int bodySize, double dropEveryS,
      double settleS, double quietS, String faultsFile, String verdictFile, String timelineFile, long seed,
      String statusFile, String historyFile) {
  }

  private final Common common;
  private final Settings s;
  private final ChaosHistory history = new ChaosHistory();
  private final List<Device> devices = new ArrayList<>();
  private final AtomicInteger outboxTotal = new AtomicInteger();
  private volatile boolean sending;
  private volatile boolean dropping;
  private Net net;
  private Api api;

  ChaosScenario(Common common, Settings settings) {
    if (settings.users() < 3) {
      throw new Options.UsageException("chaos needs --users >= 3");
    }
    if (settings.devicesMax() < 1 || settings.devicesMax() > 10) {
      throw new Options.UsageException("--devices must be 1..10");
    }
    if (!(settings.rate() > 0) || !(settings.durationS() > 0) || settings.bodySize() < 40) {
      throw new Options.UsageException("--rate and --duration must be > 0, --size >= 40");
    }
    this.common = common;
    this.s = settings;
  }

  Result run() throws Exception {
    Result r = new Result("chaos");
    r.put("users", s.users()).put("rate", s.rate()).put("duration_s", s.durationS()).put("ports", common.portsJson());
    try (Net n = new Net(common, 0)) {
      net = n;
      Throttle throttle = new Throttle(net.vertx, common.eventLoops);
      api = new Api(net.http);
      Population pop = new Population(net, throttle, common, "chaos", s.users(), 0);
      pop.fetchTokens(api, "chaos: ");
      if (pop.tokenFailures.sum() > 0) {
        r.put("failure_causes", pop.causesJson());
        r.fail("setup failed: tokens");
        return r;
      }
      Random rnd = new Random(s.seed());
      Map<Integer, List<String>> convsOf = createConversations(pop, rnd);
      int index = 0;
      for (int u = 0; u < s.users(); u++) {
        int count = 1 + rnd.nextInt(s.devicesMax());
        for (int d = 1; d <= count; d++) {
          Device dev = new Device(index, pop.names[u], "d" + d, pop.token(u), convsOf.get(u),
              throttle.contextFor(index), rnd.nextLong());
          devices.add(dev);
          history.device(dev.id, dev.user);
          index++;
        }
      }
      r.put("devices", devices.size()).put("conversations", history.members.size());
      Bench.log("chaos: %d users, %d devices, %d conversations; sending %.1f msgs/s for %.0f s over ports %s",
          s.users(), devices.size(), history.members.size(), s.rate(), s.durationS(), common.portList());
      long startMs = System.currentTimeMillis();
      sending = true;
      dropping = s.dropEveryS() > 0;
      for (Device d : devices) {
        d.ctx.runOnContext(v -> d.start());
      }
      try (Progress p = new Progress("chaos: ", this::progress)) {
        sleepMs((long) (s.durationS() * 1000));
        sending = false;
        awaitFaultEnd();
        long settleEnd = System.nanoTime() + (long) (s.settleS() * 1e9);
        while (outboxTotal.get() > 0 && System.nanoTime() < settleEnd) {
          sleepMs(250);
        }
        dropping = false;
        sleepMs((long) (s.quietS() * 1000));
      }
      long sendEndMs = startMs + (long) (s.durationS() * 1000);
      int unacked = outboxTotal.get();
      Bench.log("chaos: final sync of %d devices", devices.size());
      List<Future<Void>> syncs = new ArrayList<>();
      for (Device d : devices) {
        Promise<Void> p = Promise.promise();
        d.ctx.runOnContext(v -> d.finalSync().onComplete(p));
        syncs.add(p.future());
      }
      long incomplete = 0;
      try {
        Bench.await(Future.join(syncs), 180);
      } catch (Exception e) {
        r.notes.add("final sync: " + e.getMessage());
      }
      for (Future<Void> f : syncs) {
        if (!f.succeeded()) {
          incomplete++;
        }
      }
      Bench.log("chaos: reading the history of %d conversations", history.members.size());
      readStorage(pop);
      for (Device d : devices) {
        d.ctx.runOnContext(v -> d.stop());
      }
      HistoryChecker.Verdict v = HistoryChecker.check(history);
      JsonObject verdict = v.toJson();
      verdict.getJsonObject("counts").put("unacked_after_settle", unacked).put("final_sync_incomplete", incomplete);
      ChaosTimeline timeline = new ChaosTimeline(history, startMs, sendEndMs, s.faultsFile());
      verdict.put("conditions", new JsonObject().put("users", s.users()).put("devices", devices.size())
          .put("conversations", history.members.size()).put("rate", s.rate()).put("duration_s", s.durationS())
          .put("drop_every_s", s.dropEveryS()).put("settle_s", s.settleS()).put("quiet_s", s.quietS())
          .put("ports", common.portsJson()).put("seed", s.seed()).put("run", common.runId));
      verdict.put("fault", timeline.summary());
      timeline.write(s.timelineFile());
      if (s.historyFile() != null) {
        history.write(java.nio.file.Path.of(s.historyFile()));
      }
      if (s.verdictFile() != null) {
        java.nio.file.Path f = java.nio.file.Path.of(s.verdictFile());
        if (f.toAbsolutePath().getParent() != null) {
          java.nio.file.Files.createDirectories(f.toAbsolutePath().getParent());
        }
        java.nio.file.Files.writeString(f, verdict.encodePrettily() + "\n");
      }
      report(r, v, verdict, unacked, incomplete);
      return r;
    }
  }

  /**
   * A fault that started (a {@code fault_start} line in the faults file) ends before the settle
   * wait and the final sync start (its {@code fault_end} line), or after 300 s: the final checks
   * are about what the system did once it was whole again.
   */
  private void awaitFaultEnd() throws Exception {
    if (s.faultsFile() == null) {
      return;
    }
    java.nio.file.Path f = java.nio.file.Path.of(s.faultsFile());
    long deadline = System.nanoTime() + 300_000_000_000L;
    boolean logged = false;
    while (System.nanoTime() < deadline) {
      String text = java.nio.file.Files.exists(f) ? java.nio.file.Files.readString(f) : "";
      if (!text.contains("\tfault_start\t") || text.contains("\tfault_end\t")) {
        return;
      }
      if (!logged) {
        Bench.log("chaos: send phase over; waiting for the fault to end (%s)", f);
        logged = true;
      }
      sleepMs(500);
    }
    Bench.log("chaos: the fault did not end within 300 s of the send phase; checking anyway");
  }

  /**
   * The Kafka partition ({@code server_id & 1023}, docs/protocol.md) that carried the most acked
   * messages so far, so {@code scripts/chaos} can kill the node routing a busy partition.
   */
  private String busiestPartition() {
    Map<Long, Integer> byPartition = new HashMap<>();
    synchronized (history) {
      for (Ack a : history.acks) {
        byPartition.merge(a.serverId() & 1023, 1, Integer::sum);
      }
    }
    return byPartition.entrySet().stream().max(Map.Entry.comparingByValue())
        .map(e -> "partition=" + e.getKey() + " acks=" + e.getValue()).orElse("partition= acks=0");
  }

  private String progress() {
    if (s.statusFile() != null) {
      try {
        java.nio.file.Files.writeString(java.nio.file.Path.of(s.statusFile()), busiestPartition() + "\n");
      } catch (java.io.IOException e) {
        Bench.log("chaos: cannot write %s: %s", s.statusFile(), e);
      }
    }
    long acks;
    long deliveries;
    synchronized (history) {
      acks = history.acks.size();
      deliveries = history.deliveries.size();
    }
    long open = devices.stream().filter(d -> d.open).count();
    return "acks=" + acks + " deliveries=" + deliveries + " outbox=" + outboxTotal.get() + " connected=" + open + "/"
        + devices.size();
  }

  private void report(Result r, HistoryChecker.Verdict v, JsonObject verdict, int unacked, long incomplete) {
    v.counts.forEach(r::put);
    r.put("unacked_after_settle", unacked).put("final_sync_incomplete", incomplete);
    JsonObject fault = verdict.getJsonObject("fault");
    fault.forEach(e -> r.put("fault_" + e.getKey(), e.getValue()));
    for (HistoryChecker.Check c : v.checks.values()) {
      r.put("check_" + c.name, c.violations() == 0 ? "ok (" + c.checked + " checked)" : c.violations() + " violations " + c.kinds);
      for (String e : c.examples) {
        r.notes.add(c.name + ": " + e);
      }
      if (c.violations() > 0) {
        r.fail(c.name + ": " + c.violations() + " violations " + c.kinds);
      }
    }
    if (unacked > 0) {
      r.fail(unacked + " sends still unacked " + s.settleS() + " s after the send phase");
    }
    if (incomplete > 0) {
      r.fail(incomplete + " devices did not finish their final sync");
    }
  }

  /** DMs between neighbours (i, i+1) around the ring, and groups of 3 to 5 members: about 1 + users/4. */
  private Map<Integer, List<String>> createConversations(Population pop, Random rnd) throws Exception {
    Map<Integer, List<String>> convsOf = new HashMap<>();
    for (int u = 0; u < s.users(); u++) {
      convsOf.put(u, new ArrayList<>());
    }
    List<int[]> plans = new ArrayList<>();
    for (int u = 0; u < s.users(); u++) {
      plans.add(new int[] {u, (u + 1) % s.users()});
    }
    for (int g = 0; g < 1 + s.users() / 4; g++) {
      Set<Integer> m = new LinkedHashSet<>();
      int size = 3 + rnd.nextInt(3);
      while (m.size() < Math.min(size, s.users())) {
        m.add(rnd.nextInt(s.users()));
      }
      plans.add(m.stream().mapToInt(Integer::intValue).toArray());
    }
    Bench.log("chaos: creating %d conversations", plans.size());
    for (int[] plan : plans) {
      String owner = pop.token(plan[0]);
      List<String> others = new ArrayList<>();
      for (int i = 1; i < plan.length; i++) {
        others.add(pop.names[plan[i]]);
      }
      String conv = Bench.await(plan.length == 2 ? api.createDm(owner, others.get(0))
          : api.createGroup(owner, "chaos", others), 60);
      List<String> users = new ArrayList<>();
      for (int u : plan) {
        users.add(pop.names[u]);
        if (!convsOf.get(u).contains(conv)) {
          convsOf.get(u).add(conv);
        }
      }
      history.conversation(conv, users);
    }
    return convsOf;
  }

  /** Every conversation's whole history, newest first, paged with next_cursor; from any node that answers. */
  private void readStorage(Population pop) throws Exception {
    Map<String, String> tokenOf = new HashMap<>();
    for (int i = 0; i < pop.size(); i++) {
      tokenOf.put(pop.names[i], pop.token(i));
    }
    for (Map.Entry<String, List<String>> e : history.members.entrySet()) {
      String conv = e.getKey();
      String token = tokenOf.get(e.getValue().get(0));
      String before = null;
      int port = 0;
      int failures = 0;
      while (true) {
        String uri = "/v1/conversations/" + conv + "/messages?limit=200" + (before == null ? "" : "&before=" + before);
        JsonObject page;
        try {
          page = Bench.await(api.get(common.ports[port % common.ports.length], uri, token), 30);
        } catch (Exception ex) {
          if (++failures > 3 * common.ports.length) {
            throw new IllegalStateException("could not read the history of " + conv + ": " + ex.getMessage(), ex);
          }
          port++;
          continue;
        }
        for (Object o : page.getJsonArray("messages", new JsonArray())) {
          JsonObject m = (JsonObject) o;
          history.add(new Stored(conv, Long.parseLong(m.getString("server_id")), m.getString("from"),
              m.getString("msg_id"), m.getString("body"), m.getLong("ts", 0L)));
        }
        before = page.getString("next_cursor");
        if (before == null) {
          break;
        }
      }
    }
  }

  private static void sleepMs(long ms) throws InterruptedException {
    if (ms > 0) {
      TimeUnit.MILLISECONDS.sleep(ms);
    }
  }

  /** A message in a device's outbox. */
  private static final class Pending {
    final String conv;
    final String msgId;
    final String body;
    int attempts;
    long lastSentMs;
    /** Whether a copy was ever handed to a connection (even one whose send failed): later copies are retries. */
    boolean offered;

    Pending(String conv, String msgId, String body) {
      this.conv = conv;
      this.msgId = msgId;
      this.body = body;
    }
  }

  /** One device of a user: its connection, outbox, last seen ids and sync state; confined to {@link #ctx}. */
  private final class Device {
    final int index;
    final String user;
    final String param;
    final String id;
    final String token;
    final List<String> convs;
    final Context ctx;
    final Random rnd;
    final Map<String, Pending> outbox = new LinkedHashMap<>();
    final Map<String, Long> lastSeen = new HashMap<>();
    /** For the connection's sync: the last seen ids it started from, the lowest id it brought, what is still running. */
    final Map<String, Long> syncFrom = new HashMap<>();
    final Map<String, Long> syncMin = new HashMap<>();
    final Set<String> syncing = new HashSet<>();
    final List<Promise<Void>> syncWaiters = new ArrayList<>();
    int pagesInFlight;
    WsConn conn;
    volatile boolean open;
    int connNo;
    int portIdx;
    long seq;
    long lastFrameMs;
    long lastPingMs;
    long backoffMs = 250;
    boolean stopped;
    boolean connecting;

    Device(int index, String user, String param, String token, List<String> convs, Context ctx, long seed) {
      this.index = index;
      this.user = user;
      this.param = param;
      this.id = user + "/" + param;
      this.token = token;
      this.convs = List.copyOf(convs);
      this.ctx = ctx;
      this.rnd = new Random(seed);
      this.portIdx = index;
      for (String c : convs) {
        lastSeen.put(c, 0L);
      }
    }

    void start() {
      connect();
      scheduleSend();
      scheduleDrop();
      net.vertx.setPeriodic(500 + rnd.nextInt(500), 1_000, t -> {
        if (stopped) {
          net.vertx.cancelTimer(t);
        } else {
          tick();
        }
      });
    }

    void stop() {
      stopped = true;
      dropConnection();
    }

    private int port() {
      return common.ports[Math.floorMod(portIdx, common.ports.length)];
    }

    private void connect() {
      if (stopped || connecting || conn != null) {
        return;
      }
      connecting = true;
      int port = port();
      Link link = new Link();
      WsConn c = new WsConn(index, user, param, token, link);
      c.connect(net.vertx, net.wsClientFor(index), common.host, port).onComplete(ar -> {
        connecting = false;
        long now = System.currentTimeMillis();
        if (ar.failed()) {
          history.add(new Event(id, "connect_failed", port, now));
          reconnectLater();
          return;
        }
        if (stopped) {
          c.close(net.vertx);
          return;
        }
        conn = c;
        open = true;
        link.no = ++connNo;
        lastFrameMs = now;
        lastPingMs = now;
        backoffMs = 250;
        history.add(new Event(id, "connected", port, now));
        sync();
        for (Pending p : outbox.values()) {
          write(p, now);
        }
      });
    }

    /** After a close or failed connect: the next port (another node), with backoff and jitter. */
    private void reconnectLater() {
      portIdx++;
      long delay = backoffMs / 2 + rnd.nextLong(backoffMs / 2 + 1);
      backoffMs = Math.min(backoffMs * 2, 4_000);
      net.vertx.setTimer(Math.max(1, delay), t -> connect());
    }

    private void lost(String type) {
      history.add(new Event(id, type, port(), System.currentTimeMillis()));
      dropConnection();
      reconnectLater();
    }

    private void dropConnection() {
      WsConn c = conn;
      conn = null;
      open = false;
      syncing.clear();
      if (c != null) {
        c.close(net.vertx);
      }
      completeSyncWaiters();
    }

    private void scheduleSend() {
      double perDevice = s.rate() / devices.size();
      long delay = (long) Math.max(1, -Math.log(1 - rnd.nextDouble()) / perDevice * 1000);
      net.vertx.setTimer(delay, t -> {
        if (!sending || stopped) {
          return;
        }
        newMessage();
        scheduleSend();
      });
    }

    private void scheduleDrop() {
      if (!dropping) {
        return;
      }
      long delay = (long) Math.max(100, -Math.log(1 - rnd.nextDouble()) * s.dropEveryS() * 1000);
      net.vertx.setTimer(delay, t -> {
        if (!dropping || stopped) {
          return;
        }
        if (conn != null) {
          history.add(new Event(id, "dropped", port(), System.currentTimeMillis()));
          dropConnection();
          portIdx = rnd.nextInt(common.ports.length);
          net.vertx.setTimer(1 + rnd.nextInt(1_000), x -> connect());
        }
        scheduleDrop();
      });
    }

    private void newMessage() {
      String conv = convs.get(rnd.nextInt(convs.size()));
      String msgId = "c" + index + "-" + (++seq);
      Pending p = new Pending(conv, msgId, ChaosHistory.body(user, conv, msgId, s.bodySize()));
      outbox.put(msgId, p);
      outboxTotal.incrementAndGet();
      if (conn != null) {
        write(p, System.currentTimeMillis());
      }
    }

    private void write(Pending p, long now) {
      // "first": true only on the first copy ever offered to a connection; every later copy is a retry
      JsonObject f = new JsonObject().put("op", "send").put("msg_id", p.msgId).put("conv", p.conv).put("body", p.body)
          .put("first", !p.offered);
      p.offered |= conn != null;
      if (conn != null && conn.send(f.encode())) {
        history.add(new Send(user, id, p.conv, p.msgId, p.body, now, p.attempts > 0));
        p.attempts++;
        p.lastSentMs = now;
      }
    }

    private void tick() {
      long now = System.currentTimeMillis();
      if (conn == null) {
        if (!connecting) {
          connect();
        }
        return;
      }
      if (now - lastFrameMs > DEAD_MS) {
        lost("dead");
        return;
      }
      if (now - lastPingMs >= PING_MS) {
        lastPingMs = now;
        conn.send(WsConn.PING_FRAME);
      }
      for (Pending p : outbox.values()) {
        if (now - p.lastSentMs >= RETRY_MS) {
          write(p, now);
        }
      }
    }

    private void sync() {
      syncFrom.clear();
      syncMin.clear();
      syncing.clear();
      JsonObject convsJson = new JsonObject();
      for (String c : convs) {
        long last = lastSeen.get(c);
        convsJson.put(c, String.valueOf(last));
        syncFrom.put(c, last);
        syncing.add(c);
      }
      conn.send(new JsonObject().put("op", "sync").put("convs", convsJson).encode());
    }

    /** A sync of every conversation on an open connection (the next connect's if none is open); completes when it is done. */
    Future<Void> finalSync() {
      Promise<Void> p = Promise.promise();
      syncWaiters.add(p);
      if (conn != null) {
        sync();
      } else {
        connect();
      }
      return p.future().timeout(120, TimeUnit.SECONDS);
    }

    private void completeSyncWaiters() {
      if (conn == null) {
        return; // a closed connection's sync never completes; the next connection's will
      }
      if (syncing.isEmpty() && pagesInFlight == 0 && !syncWaiters.isEmpty()) {
        List<Promise<Void>> w = new ArrayList<>(syncWaiters);
        syncWaiters.clear();
        w.forEach(Promise::tryComplete);
      }
    }

    void onFrame(Link link, String op, Frame frame) {
      long now = System.currentTimeMillis();
      boolean current = conn != null && link.no == connNo;
      if (current) {
        lastFrameMs = now;
      }
      switch (op) {
        case "ack" -> {
          String msgId = frame.str("msg_id");
          history.add(new Ack(user, id, frame.str("conv"), msgId, Long.parseLong(frame.str("server_id")),
              Long.parseLong(frame.str("ts")), now));
          if (outbox.remove(msgId) != null) {
            outboxTotal.decrementAndGet();
          }
        }
        case "error" -> {
          String msgId = frame.str("msg_id");
          String code = frame.errorCode();
          String conv = frame.str("conv");
          history.add(new Rejection(user, id, conv, msgId, code, now));
          if (msgId != null && !RETRYABLE.contains(code) && outbox.remove(msgId) != null) {
            outboxTotal.decrementAndGet();
          } else if (msgId == null && conv != null && current && syncing.remove(conv)) {
            completeSyncWaiters();
          }
        }
        case "msg" -> {
          String conv = frame.str("conv");
          long sid = Long.parseLong(frame.str("server_id"));
          boolean bySync = current && syncing.contains(conv);
          history.add(new Delivery(id, link.no, conv, sid, frame.str("from"), frame.str("msg_id"), frame.str("body"),
              bySync ? Kind.SYNC : Kind.LIVE, now));
          lastSeen.merge(conv, sid, Math::max);
          if (bySync) {
            syncMin.merge(conv, sid, Math::min);
          }
        }
        case "synced" -> {
          String conv = frame.str("conv");
          if (!current || !syncing.remove(conv)) {
            return;
          }
          if (Boolean.TRUE.equals(frame.json().getBoolean("more"))) {
            Long min = syncMin.get(conv);
            page(conv, link.no, min == null ? null : String.valueOf(min), syncFrom.getOrDefault(conv, 0L), 0);
          }
          completeSyncWaiters();
        }
        default -> {
        }
      }
    }

    /** REST history of {@code conv} before {@code before}, back to (not including) {@code stopAt}, as PAGE deliveries. */
    private void page(String conv, int connection, String before, long stopAt, int failures) {
      pagesInFlight++;
      String uri = "/v1/conversations/" + URLEncoder.encode(conv, StandardCharsets.UTF_8) + "/messages?limit=200"
          + (before == null ? "" : "&before=" + before);
      api.get(port(), uri, token).onComplete(ar -> {
        pagesInFlight--;
        if (ar.failed()) {
          if (failures < 10 && !stopped) {
            portIdx++;
            pagesInFlight++; // the retry is still this page
            net.vertx.setTimer(500, t -> {
              pagesInFlight--;
              page(conv, connection, before, stopAt, failures + 1);
            });
          } else {
            history.add(new Rejection(user, id, conv, null, "history_failed", System.currentTimeMillis()));
            completeSyncWaiters();
          }
          return;
        }
        long now = System.currentTimeMillis();
        boolean reachedEnd = false;
        for (Object o : ar.result().getJsonArray("messages", new JsonArray())) {
          JsonObject m = (JsonObject) o;
          long sid = Long.parseLong(m.getString("server_id"));
          if (sid <= stopAt) {
            reachedEnd = true;
            continue;
          }
          history.add(new Delivery(id, connection, conv, sid, m.getString("from"), m.getString("msg_id"),
              m.getString("body"), Kind.PAGE, now));
          lastSeen.merge(conv, sid, Math::max);
        }
        String next = ar.result().getString("next_cursor");
        if (!reachedEnd && next != null) {
          page(conv, connection, next, stopAt, 0);
        } else {
          completeSyncWaiters();
        }
      });
    }

    /** The listener of one connection of this device; {@code no} is set once it is connected. */
    private final class Link implements WsConn.Listener {
      int no;

      @Override
      public void onFrame(WsConn c, String op, Frame frame) {
        Device.this.onFrame(this, op, frame);
      }

      @Override
      public void onUnexpectedClose(WsConn c) {
        if (conn == c) {
          lost("closed");
        }
      }
    }
  }
}
