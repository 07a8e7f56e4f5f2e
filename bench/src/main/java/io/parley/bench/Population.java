package io.parley.bench;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * The bench users of one run (one websocket connection each): user {@code i} is named
 * {@code bench-<tag>-<run>-<offset+i>} and uses device {@code d<offset+i>}. Fetches their dev
 * tokens and opens/closes their connections with bounded concurrency, recording connect
 * latency and failure causes. Connection {@code i} goes to port {@code ports[(offset+i) % n]}
 * (by default {@link Common#ports}, so consecutive users land on different ports when several
 * are given); REST calls (tokens) always go to the first port.
 */
final class Population {
  final String[] names;
  final WsConn[] conns;
  final int offset;
  private final String[] tokens;
  private final Net net;
  private final Throttle throttle;
  private final Common common;
  /** Ports the next connects go to (round-robin by global index); see {@link #usePorts}. */
  private volatile int[] ports;

  final LongAdder tokenFailures = new LongAdder();
  final LongAdder connectFailures = new LongAdder();
  final AtomicInteger connected = new AtomicInteger();
  final AtomicInteger inFlight = new AtomicInteger();
  final Map<String, LongAdder> failureCauses = new ConcurrentHashMap<>();
  /** Successful connects per target port. */
  final Map<Integer, LongAdder> connectsByPort = new ConcurrentHashMap<>();
  final Histogram connectLatency = newHistogram();

  Population(Net net, Throttle throttle, Common common, String tag, int count, int offset) {
    this.net = net;
    this.throttle = throttle;
    this.common = common;
    this.offset = offset;
    this.ports = common.ports.clone();
    names = new String[count];
    tokens = new String[count];
    conns = new WsConn[count];
    for (int i = 0; i < count; i++) {
      names[i] = "bench-" + tag + "-" + common.runId + "-" + (offset + i);
    }
  }

  static Histogram newHistogram() {
    // microseconds, up to one hour, 3 significant digits; safe for concurrent recording
    return new ConcurrentHistogram(1, 3_600_000_000L, 3);
  }

  static void record(Histogram h, long micros) {
    h.recordValue(Math.max(1, Math.min(micros, 3_600_000_000L)));
  }

  /** Sends all later connects (e.g. the reconnects of the reconnect scenario) to these ports. */
  void usePorts(int... newPorts) {
    if (newPorts.length == 0) {
      throw new IllegalArgumentException("no ports");
    }
    ports = newPorts.clone();
  }

  /** Port that connection {@code i} (local index) connects to. */
  int portOf(int i) {
    int[] p = ports;
    return p[(int) ((offset + (long) i) % p.length)];
  }

  int size() {
    return names.length;
  }

  String token(int i) {
    return tokens[i];
  }

  /**
   * Fetches all tokens (blocking the calling non-event-loop thread, with progress lines); failed
   * users keep a null token and will not connect.
   */
  void fetchTokens(Api api, String logPrefix) throws Exception {
    Bench.log("%sfetching %d tokens", logPrefix, size());
    AtomicInteger fetched = new AtomicInteger();
    try (Progress p = new Progress(logPrefix, () -> "tokens=" + fetched.get() + "/" + size()
        + " failed=" + tokenFailures.sum())) {
      Bench.await(throttle.forEach(size(), common.concurrency, i -> api.token(names[i])
          .onSuccess(t -> {
            tokens[i] = t;
            fetched.incrementAndGet();
          })
          .onFailure(e -> {
            tokenFailures.increment();
            cause("token: " + e.getMessage());
          })), 3600);
    }
  }

  /**
   * Sends one application ping on every open connection and waits (up to {@code timeoutSeconds})
   * for the pongs; returns how many connections answered. A pong also shows that the server has
   * finished setting the connection up.
   */
  long pingAll(int timeoutSeconds) throws InterruptedException {
    int[] before = new int[size()];
    for (int i = 0; i < size(); i++) {
      before[i] = conns[i].pongs;
      conns[i].send(WsConn.PING_FRAME);
    }
    long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
    long alive;
    do {
      alive = 0;
      for (int i = 0; i < size(); i++) {
        if (conns[i].pongs > before[i]) {
          alive++;
        }
      }
      if (alive >= connected.get()) {
        break;
      }
      Thread.sleep(20);
    } while (System.nanoTime() < deadline);
    return alive;
  }

  /** Creates the connection objects (not yet connected). */
  void createConnections(WsConn.Listener listener) {
    for (int i = 0; i < size(); i++) {
      conns[i] = new WsConn(offset + i, names[i], "d" + (offset + i), tokens[i], listener);
    }
  }

  /** Opens all connections with at most {@code concurrency} connect attempts in flight. */
  Future<Void> connectAll(int concurrency) {
    return throttle.forEach(size(), concurrency, this::connect);
  }

  /** Opens connection {@code i}; must run on the connection's context (see {@link Throttle}). */
  Future<WsConn> connect(int i) {
    WsConn c = conns[i];
    if (c.token == null) {
      connectFailures.increment();
      return Future.failedFuture("no token");
    }
    long start = System.nanoTime();
    int port = portOf(i);
    inFlight.incrementAndGet();
    return c.connect(net.vertx, net.wsClientFor(offset + i), common.host, port)
        .onComplete(ar -> {
          inFlight.decrementAndGet();
          if (ar.succeeded()) {
            connected.incrementAndGet();
            connectsByPort.computeIfAbsent(port, k -> new LongAdder()).increment();
            record(connectLatency, (System.nanoTime() - start) / 1000);
          } else {
            connectFailures.increment();
            cause("connect: " + ar.cause().getMessage());
          }
        });
  }

  /** Closes every open connection; completes when all closes finished. */
  Future<Void> closeAll() {
    return throttle.forEach(size(), Math.max(1, size()), i -> {
      WsConn c = conns[i];
      if (c == null || !c.isOpen()) {
        return Future.succeededFuture();
      }
      connected.decrementAndGet();
      return c.close(net.vertx).timeout(15, java.util.concurrent.TimeUnit.SECONDS);
    });
  }

  void cause(String message) {
    String key = String.valueOf(message);
    if (key.length() > 160) {
      key = key.substring(0, 160);
    }
    failureCauses.computeIfAbsent(key, k -> new LongAdder()).increment();
  }

  /** Successful connects per port as a JSON object (sorted by port), for reports. */
  JsonObject connectsByPortJson() {
    JsonObject j = new JsonObject();
    new TreeMap<>(connectsByPort).forEach((k, v) -> j.put(String.valueOf(k), v.sum()));
    return j;
  }

  /** Failure causes as a JSON object (sorted), for reports. */
  JsonObject causesJson() {
    JsonObject j = new JsonObject();
    new TreeMap<>(failureCauses).forEach((k, v) -> j.put(k, v.sum()));
    return j;
  }
}
