package io.parley.bench;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * {@code reconnect K}: K users in DM pairs connect, then all connections are closed at once and
 * reopened at once. A connection counts as recovered when it got a pong for a fresh ping AND
 * received the one message its partner sends once both of them are back (so routing to the new
 * connection is proven). Reports the time until the last connection recovered and the failures.
 *
 * <p>All connections are first opened on the first port ({@link Common#port}); the reconnects go
 * to {@code reconnectPort} (by default the same port). Both partners of a pair reconnect to that
 * port, so the partner message is sent and received through the node the storm moved them to.
 */
final class ReconnectScenario implements WsConn.Listener {
  private final Common common;
  private final int count;
  private final int reconnectConcurrency;
  private final double timeoutSeconds;
  private final int reconnectPort;

  private volatile boolean reconnectPhase;
  private volatile long t0;
  private AtomicIntegerArray ponged;
  private AtomicIntegerArray pairReady;
  private AtomicIntegerArray received;
  private String[] sendFrames;
  private WsConn[] conns;
  private CountDownLatch allDone;
  private final LongAdder pongedCount = new LongAdder();
  private final LongAdder duplicates = new LongAdder();
  private final LongAdder unexpectedCloses = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final Map<String, LongAdder> errorsByCode = new ConcurrentHashMap<>();
  private final AtomicLong lastConnectNanos = new AtomicLong();
  private final AtomicLong lastPongNanos = new AtomicLong();
  private final AtomicLong lastDoneNanos = new AtomicLong();
  private final Histogram connectTimes = Population.newHistogram();
  private final Histogram pongTimes = Population.newHistogram();
  private final Histogram doneTimes = Population.newHistogram();

  ReconnectScenario(Common common, int count, int reconnectConcurrency, double timeoutSeconds, int reconnectPort) {
    if (count < 2 || count % 2 != 0) {
      throw new Options.UsageException("reconnect needs an even number of connections >= 2");
    }
    this.common = common;
    this.count = count;
    this.reconnectConcurrency = reconnectConcurrency;
    this.timeoutSeconds = timeoutSeconds;
    this.reconnectPort = reconnectPort;
  }

  Result run() throws Exception {
    Result r = new Result("reconnect");
    r.put("connections", count).put("reconnect_concurrency", reconnectConcurrency)
        .put("port", common.port).put("reconnect_port", reconnectPort);
    if (common.ports.length > 1) {
      r.notes.add("reconnect opens all connections on the first of --ports (" + common.port + ") and reconnects"
          + " them to --reconnect-port (" + reconnectPort + "); the other ports were not used");
    }
    int sources = ConnectionsScenario.defaultSources(count);
    try (Net net = new Net(common, sources)) {
      Throttle throttle = new Throttle(net.vertx, common.eventLoops);
      Api api = new Api(net.http);
      Population pop = new Population(net, throttle, common, "r", count, 0);
      pop.usePorts(common.port);
      pop.fetchTokens(api, "reconnect: ");
      String[] convIds = new String[count / 2];
      Bench.log("reconnect: creating %d DMs", count / 2);
      Bench.await(throttle.forEach(count / 2, Math.min(64, common.concurrency),
          p -> api.createDm(pop.token(2 * p), pop.names[2 * p + 1]).onSuccess(id -> convIds[p] = id)
              .onFailure(e -> pop.cause("dm: " + e.getMessage()))), 600);
      for (String id : convIds) {
        if (id == null || pop.tokenFailures.sum() > 0) {
          r.put("failure_causes", pop.causesJson());
          r.fail("setup failed (tokens or DMs)");
          return r;
        }
      }
      pop.createConnections(this);
      conns = pop.conns;
      sendFrames = new String[count];
      for (int i = 0; i < count; i++) {
        conns[i].conv = convIds[i / 2];
        conns[i].memberIndex = i % 2;
        sendFrames[i] = "{\"op\":\"send\",\"msg_id\":\"rc-" + i + "\",\"conv\":" + Json.encode(convIds[i / 2])
            + ",\"body\":\"reconnect check\"}";
      }
      Bench.log("reconnect: connecting %d websockets", count);
      Bench.await(pop.connectAll(common.concurrency), 900);
      if (pop.connectFailures.sum() > 0) {
        r.put("failure_causes", pop.causesJson());
        r.fail("initial connects failed: " + pop.connectFailures.sum());
        return r;
      }
      long alive = pop.pingAll(10);
      if (alive < count) {
        r.fail("setup: " + (count - alive) + " websockets did not answer a ping within 10 s");
        return r;
      }

      System.gc(); // keep set-up garbage out of the measured phase
      ponged = new AtomicIntegerArray(count);
      pairReady = new AtomicIntegerArray(count / 2);
      received = new AtomicIntegerArray(count);
      allDone = new CountDownLatch(count);
      Bench.log("reconnect: closing all %d connections at once", count);
      long closeStart = System.nanoTime();
      Bench.await(pop.closeAll(), 120);
      r.put("close_all_ms", Result.round((System.nanoTime() - closeStart) / 1e6, 1));

      Bench.log("reconnect: reconnecting all %d connections to port %d", count, reconnectPort);
      pop.usePorts(reconnectPort);
      pop.connectsByPort.clear();
      long failuresBefore = pop.connectFailures.sum();
      reconnectPhase = true;
      t0 = System.nanoTime();
      boolean finished;
      try (Progress p = new Progress("", () -> String.format(Locale.ROOT,
          "reconnected=%d ponged=%d recovered=%d connect_failures=%d", pop.connected.get(), pongedCount.sum(),
          count - allDone.getCount(), pop.connectFailures.sum() - failuresBefore))) {
        throttle.forEach(count, reconnectConcurrency, i -> pop.connect(i).onSuccess(c -> {
          long now = System.nanoTime();
          Population.record(connectTimes, (now - t0) / 1000);
          lastConnectNanos.accumulateAndGet(now, Math::max);
          c.send(WsConn.PING_FRAME);
        }));
        finished = allDone.await((long) (timeoutSeconds * 1000), TimeUnit.MILLISECONDS);
      }
      long end = System.nanoTime();
      long recovered = count - allDone.getCount();
      long reconnectFailures = pop.connectFailures.sum() - failuresBefore;
      r.put("reconnected", pop.connected.get())
          .put("reconnect_failures", reconnectFailures)
          .put("ponged", pongedCount.sum())
          .put("recovered", recovered)
          .put("failed", count - recovered)
          .put("all_connected_ms", sinceT0(lastConnectNanos.get()))
          .put("all_ponged_ms", sinceT0(lastPongNanos.get()))
          .put("total_recovery_ms", finished ? sinceT0(lastDoneNanos.get()) : Result.round((end - t0) / 1e6, 1))
          .put("duplicated", duplicates.sum())
          .put("errors", errors.sum())
          .put("errors_by_code", errorsJson())
          .put("unexpected_closes", unexpectedCloses.sum())
          .put("failure_causes", pop.causesJson());
      if (reconnectPort != common.port) {
        r.put("reconnects_by_port", pop.connectsByPortJson());
      }
      r.histogram("reconnect: connected", connectTimes).histogram("reconnect: pong", pongTimes)
          .histogram("reconnect: partner msg received", doneTimes);
      if (!finished) {
        r.fail((count - recovered) + " of " + count + " connections did not recover within " + timeoutSeconds + " s");
      }
      if (duplicates.sum() > 0) {
        r.fail("duplicated deliveries: " + duplicates.sum());
      }
      Bench.await(pop.closeAll(), 120);
    }
    return r;
  }

  private double sinceT0(long nanos) {
    return nanos == 0 ? -1 : Result.round((nanos - t0) / 1e6, 1);
  }

  private JsonObject errorsJson() {
    JsonObject j = new JsonObject();
    new TreeMap<>(errorsByCode).forEach((k, v) -> j.put(k, v.sum()));
    return j;
  }

  @Override
  public void onFrame(WsConn conn, String op, Frame frame) {
    if (!reconnectPhase) {
      return;
    }
    int i = conn.index;
    long now = System.nanoTime();
    switch (op) {
      case "pong":
        if (ponged.compareAndSet(i, 0, 1)) {
          pongedCount.increment();
          Population.record(pongTimes, (now - t0) / 1000);
          lastPongNanos.accumulateAndGet(now, Math::max);
          // once both partners are back, each sends one message to the other
          if (pairReady.incrementAndGet(i / 2) == 2) {
            conns[i].send(sendFrames[i]);
            conns[i ^ 1].send(sendFrames[i ^ 1]);
          }
        }
        break;
      case "msg":
        if (conn.user.equals(frame.str("from"))) {
          return;
        }
        if (!("rc-" + (i ^ 1)).equals(frame.str("msg_id"))) {
          return;
        }
        if (received.incrementAndGet(i) == 1) {
          Population.record(doneTimes, (now - t0) / 1000);
          lastDoneNanos.accumulateAndGet(now, Math::max);
          allDone.countDown();
        } else {
          duplicates.increment();
        }
        break;
      case "error":
        errors.increment();
        errorsByCode.computeIfAbsent(frame.errorCode(), k -> new LongAdder())
            .increment();
        break;
      default:
        break;
    }
  }

  @Override
  public void onUnexpectedClose(WsConn conn) {
    unexpectedCloses.increment();
  }
}
