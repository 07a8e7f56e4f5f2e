package io.parley.bench;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/**
 * {@code connections N}: opens N authenticated idle websockets (one user each), measures the
 * connect rate and, with {@code --server-pid}, the server's RSS growth per connection, holds them
 * for {@code --hold} seconds (application pings keep them alive) and closes them. In
 * {@code --child} mode it is one worker process of a {@link ConnectionsCoordinator} and talks to it
 * over stdin/stdout (one JSON line per phase).
 */
final class ConnectionsScenario {
  private final Common common;
  private final int count;
  private final int offset;
  private final int sources;
  private final double holdSeconds;
  private final String logPrefix;

  ConnectionsScenario(Common common, int count, int offset, int sources, double holdSeconds, String logPrefix) {
    this.common = common;
    this.count = count;
    this.offset = offset;
    this.sources = sources;
    this.holdSeconds = holdSeconds;
    this.logPrefix = logPrefix;
  }

  /** Default number of source addresses: one per 20,000 connections beyond the first 20,000. */
  static int defaultSources(long n) {
    return n > 20_000 ? (int) Math.ceil(n / 20_000.0) : 0;
  }

  /** Single-process run with RSS readings and the final result. */
  Result run() throws Exception {
    Result r = new Result("connections");
    long[] rss = new long[2];
    Outcome o = execute(
        () -> rss[0] = ServerRss.read(common.serverPid),
        outcome -> {
          rss[1] = ServerRss.read(common.serverPid);
          hold();
        });
    r.put("requested", count).put("source_addresses", sources == 0 ? "default" : "127.0.0.2-127.0.0." + (1 + sources))
        .put("ports", common.portsJson());
    describe(r, o.connected, o.failures, o.alive, o.connectMillis, o.unexpectedCloses);
    if (common.ports.length > 1) {
      r.put("connections_by_port", o.byPort);
    }
    r.put("failure_causes", o.causes);
    addRss(r, common, rss[0], rss[1], o.connected);
    r.histogram("connect", o.connectLatency);
    return r;
  }

  static void describe(Result r, long connected, long failures, long alive, double connectMillis, long closes) {
    r.put("connected", connected).put("failed", failures)
        .put("alive_after_connect", alive)
        .put("connect_phase_ms", Result.round(connectMillis, 1))
        .put("connect_rate_per_s", Result.round(connectMillis > 0 ? connected * 1000.0 / connectMillis : 0, 1))
        .put("closed_by_server_during_hold", closes);
    if (failures > 0) {
      r.fail(failures + " connections failed");
    }
    if (closes > 0) {
      r.fail(closes + " connections were closed by the server while held");
    }
    if (alive < connected) {
      r.fail((connected - alive) + " connected sockets did not answer a ping within 10 s");
    }
  }

  static void addRss(Result r, Common common, long before, long after, long connected) {
    if (common.serverPid <= 0) {
      return;
    }
    r.put("server_rss_before", ServerRss.mib(before)).put("server_rss_after", ServerRss.mib(after));
    if (before > 0 && after > 0 && connected > 0) {
      r.put("server_rss_bytes_per_connection", (after - before) / connected);
      r.notes.add("RSS per connection is only meaningful against a freshly started server: a JVM whose heap"
          + " already grew in earlier runs absorbs new connections without growing its RSS");
    }
  }

  /** Child-process mode: phases are driven by lines on stdin, results are JSON lines on stdout. */
  void runChild() throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    Outcome o = execute(
        () -> {
          emit(new JsonObject().put("event", "ready"));
          if (!awaitCommand(in, "connect")) {
            Bench.log("%sparent process gone before the connect phase; exiting", logPrefix);
            System.exit(3);
          }
        },
        outcome -> {
          emit(new JsonObject().put("event", "connected")
              .put("connected", outcome.connected).put("failed", outcome.failures).put("alive", outcome.alive)
              .put("start_ms", outcome.startEpochMs).put("end_ms", outcome.endEpochMs)
              .put("causes", outcome.causes)
              .put("by_port", outcome.byPort)
              .put("histogram", encode(outcome.connectLatency)));
          awaitCommand(in, "close");
        });
    emit(new JsonObject().put("event", "closed").put("unexpected_closes", o.unexpectedCloses));
  }

  private static void emit(JsonObject line) {
    System.out.println(line.encode());
    System.out.flush();
  }

  /** Waits for a command line from the coordinator; false if stdin ended (coordinator gone). */
  private static boolean awaitCommand(BufferedReader in, String command) {
    try {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.trim().equals(command)) {
          return true;
        }
      }
    } catch (IOException e) {
      // treated like end of input
    }
    return false;
  }

  private void hold() {
    if (holdSeconds > 0) {
      Bench.log("%sholding %d connections for %.0f s", logPrefix, count, holdSeconds);
      try {
        Thread.sleep((long) (holdSeconds * 1000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** What one process achieved. */
  static final class Outcome {
    long connected;
    long failures;
    long alive;
    long unexpectedCloses;
    double connectMillis;
    long startEpochMs;
    long endEpochMs;
    JsonObject causes;
    /** Successful connects per port ("8081" -> count). */
    JsonObject byPort;
    Histogram connectLatency;
  }

  interface Hook {
    void run() throws Exception;
  }

  interface OutcomeHook {
    void accept(Outcome o) throws Exception;
  }

  private Outcome execute(Hook beforeConnect, OutcomeHook afterConnect) throws Exception {
    Outcome o = new Outcome();
    LongAdder closes = new LongAdder();
    try (Net net = new Net(common, sources)) {
      Throttle throttle = new Throttle(net.vertx, common.eventLoops);
      Population pop = new Population(net, throttle, common, "c", count, offset);
      pop.fetchTokens(new Api(net.http), logPrefix);
      pop.createConnections(new WsConn.Listener() {
        @Override
        public void onFrame(WsConn conn, String op, Frame frame) {
        }

        @Override
        public void onUnexpectedClose(WsConn conn) {
          closes.increment();
        }
      });
      beforeConnect.run();
      Bench.log("%sconnecting %d websockets (%d in flight max)", logPrefix, count, common.concurrency);
      long start = System.nanoTime();
      o.startEpochMs = System.currentTimeMillis();
      try (Progress p = new Progress(logPrefix, () -> String.format(Locale.ROOT,
          "connected=%d failed=%d in_flight=%d", pop.connected.get(), pop.connectFailures.sum(), pop.inFlight.get()))) {
        Bench.await(pop.connectAll(common.concurrency), 3600);
      }
      o.connectMillis = (System.nanoTime() - start) / 1e6;
      o.endEpochMs = System.currentTimeMillis();
      o.connected = pop.connected.get();
      o.failures = pop.connectFailures.sum();
      o.causes = pop.causesJson();
      o.byPort = pop.connectsByPortJson();
      o.connectLatency = pop.connectLatency;
      o.alive = pop.pingAll(10);
      Bench.log("%s%d connected, %d failed, %d answered a ping (%.0f conn/s)", logPrefix, o.connected, o.failures,
          o.alive, o.connected * 1000.0 / Math.max(1, o.connectMillis));
      afterConnect.accept(o);
      o.unexpectedCloses = closes.sum();
      Bench.log("%sclosing", logPrefix);
      Bench.await(pop.closeAll(), 120);
    }
    return o;
  }

  static String encode(Histogram h) {
    ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
    int len = h.encodeIntoCompressedByteBuffer(buf);
    byte[] bytes = new byte[len];
    buf.flip();
    buf.get(bytes);
    return Base64.getEncoder().encodeToString(bytes);
  }

  static Histogram decode(String b64) {
    try {
      return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(b64)), 0);
    } catch (DataFormatException e) {
      throw new IllegalStateException("bad histogram from child", e);
    }
  }
}
