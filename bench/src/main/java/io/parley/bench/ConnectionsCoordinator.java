package io.parley.bench;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Runs {@code connections N} across several child JVMs of the bench when N exceeds what one
 * process may hold (open-file limit). Children fetch tokens, report "ready", connect on the
 * "connect" command, report "connected" (with counts and an encoded latency histogram), and close
 * on the "close" command; the coordinator reads the server RSS between the phases and aggregates.
 */
final class ConnectionsCoordinator {
  private final Common common;
  private final int count;
  private final int perProcess;
  private final int sources;
  private final double holdSeconds;
  private final List<String> passThrough;

  ConnectionsCoordinator(Common common, int count, int perProcess, int sources, double holdSeconds,
      List<String> passThrough) {
    this.common = common;
    this.count = count;
    this.perProcess = perProcess;
    this.sources = sources;
    this.holdSeconds = holdSeconds;
    this.passThrough = passThrough;
  }

  private record Line(int child, JsonObject json) {
  }

  Result run() throws Exception {
    int children = (count + perProcess - 1) / perProcess;
    Bench.log("connections: %d connections over %d child processes", count, children);
    BlockingQueue<Line> lines = new LinkedBlockingQueue<>();
    List<Process> procs = new ArrayList<>();
    List<OutputStream> stdins = new ArrayList<>();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    int offset = 0;
    try {
      for (int c = 0; c < children; c++) {
        int share = count / children + (c < count % children ? 1 : 0);
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        // same JVM options as this process (e.g. -Xmx from BENCH_JAVA_OPTS), minus debug agents
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
          if (!a.startsWith("-agentlib") && !a.startsWith("-javaagent")) {
            cmd.add(a);
          }
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Bench.class.getName(),
            "connections", String.valueOf(share), "--child", "--offset", String.valueOf(offset),
            "--run", common.runId, "--sources", String.valueOf(sources),
            "--concurrency", String.valueOf(Math.max(1, common.concurrency / children))));
        cmd.addAll(passThrough);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        Process p = pb.start();
        procs.add(p);
        stdins.add(p.getOutputStream());
        int child = c;
        Thread reader = new Thread(() -> readLines(child, p, lines), "bench-child-" + c);
        reader.setDaemon(true);
        reader.start();
        offset += share;
      }

      Map<Integer, JsonObject> ready = collect(lines, "ready", children, 1800);
      long rssBefore = ServerRss.read(common.serverPid);
      broadcast(stdins, "connect");
      Map<Integer, JsonObject> connected = collect(lines, "connected", children, 3600);
      long rssAfter = ServerRss.read(common.serverPid);
      if (holdSeconds > 0) {
        Bench.log("holding %d connections for %.0f s", count, holdSeconds);
        Thread.sleep((long) (holdSeconds * 1000));
      }
      broadcast(stdins, "close");
      Map<Integer, JsonObject> closed = collect(lines, "closed", children, 300);
      for (Process p : procs) {
        p.waitFor(60, TimeUnit.SECONDS);
      }

      long ok = 0;
      long failed = 0;
      long alive = 0;
      long closes = 0;
      long start = Long.MAX_VALUE;
      long end = 0;
      Histogram latency = Population.newHistogram();
      Map<String, Long> causes = new TreeMap<>();
      Map<Integer, Long> byPort = new TreeMap<>();
      for (JsonObject j : connected.values()) {
        ok += j.getLong("connected");
        failed += j.getLong("failed");
        alive += j.getLong("alive");
        start = Math.min(start, j.getLong("start_ms"));
        end = Math.max(end, j.getLong("end_ms"));
        latency.add(ConnectionsScenario.decode(j.getString("histogram")));
        j.getJsonObject("causes").forEach(e -> causes.merge(e.getKey(), ((Number) e.getValue()).longValue(), Long::sum));
        JsonObject ports = j.getJsonObject("by_port", new JsonObject());
        ports.forEach(e -> byPort.merge(Integer.valueOf(e.getKey()), ((Number) e.getValue()).longValue(), Long::sum));
      }
      for (JsonObject j : closed.values()) {
        closes += j.getLong("unexpected_closes");
      }
      Result r = new Result("connections");
      r.put("requested", count).put("processes", children).put("ready_processes", ready.size())
          .put("source_addresses", sources == 0 ? "default" : "127.0.0.2-127.0.0." + (1 + sources))
          .put("ports", common.portsJson());
      ConnectionsScenario.describe(r, ok, failed, alive, end - start, closes);
      if (common.ports.length > 1) {
        JsonObject bp = new JsonObject();
        byPort.forEach((k, v) -> bp.put(String.valueOf(k), v));
        r.put("connections_by_port", bp);
      }
      r.put("failure_causes", new JsonObject(new java.util.LinkedHashMap<>(causes)));
      ConnectionsScenario.addRss(r, common, rssBefore, rssAfter, ok);
      r.histogram("connect", latency);
      return r;
    } finally {
      for (Process p : procs) {
        if (p.isAlive()) {
          p.destroy();
        }
      }
    }
  }

  private static void readLines(int child, Process p, BlockingQueue<Line> lines) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String s;
      while ((s = r.readLine()) != null) {
        s = s.trim();
        if (s.startsWith("{")) {
          lines.add(new Line(child, new JsonObject(s)));
        }
      }
    } catch (IOException | RuntimeException e) {
      System.err.println("child " + child + ": " + e);
    }
    lines.add(new Line(child, new JsonObject().put("event", "exit")));
  }

  private static Map<Integer, JsonObject> collect(BlockingQueue<Line> lines, String event, int children,
      long timeoutSeconds) throws InterruptedException {
    Map<Integer, JsonObject> got = new TreeMap<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    while (got.size() < children) {
      Line l = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (l == null) {
        throw new IllegalStateException("timed out waiting for '" + event + "' from child processes");
      }
      String ev = l.json().getString("event");
      if (ev.equals("exit")) {
        if (got.containsKey(l.child())) {
          continue;
        }
        throw new IllegalStateException("child process " + l.child() + " exited before '" + event + "'");
      }
      if (ev.equals(event)) {
        got.put(l.child(), l.json());
      }
    }
    return got;
  }

  private static void broadcast(List<OutputStream> stdins, String command) throws IOException {
    for (OutputStream os : stdins) {
      os.write((command + "\n").getBytes(StandardCharsets.UTF_8));
      os.flush();
    }
  }
}
