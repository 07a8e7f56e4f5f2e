package io.parley.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A few seconds of every bench scenario, small N, run from the bench's jar against the server's
 * packaged jar (each a child process, as a user runs them), so the tool cannot rot. Checks that each run completes, passes its own loss/duplicate checks and reports its
 * fields and plot; the figures themselves are never asserted.
 */
class BenchSmokeIT {
  static final Path SERVER_JAR = Path.of(System.getProperty("parley.jar", "../target/parley.jar"));
  static final Path BENCH_JAR = Path.of(System.getProperty("parley.bench.jar", "../target/parley-bench.jar"));

  @TempDir
  static Path dir;
  static Server server;

  @BeforeAll
  static void start() throws IOException, InterruptedException {
    server = Server.start(dir.resolve("data"));
  }

  @AfterAll
  static void stop() throws InterruptedException {
    server.stop();
  }

  @Test
  void dmReportsLatencyAndNoLoss() throws Exception {
    JsonObject r = bench("dm", "--users", "10", "--rate", "200", "--duration", "2", "--warmup", "1");
    JsonObject m = r.getJsonObject("metrics");
    assertThat(m.getString("arrivals")).isEqualTo("ticks");
    assertThat(m.containsKey("seed")).isFalse();
    assertThat(m.getLong("lost_deliveries")).isZero();
    assertThat(m.getLong("duplicated")).isZero();
    assertThat(m.getLong("delivered")).isPositive();
    // the generator reports its own load: sending and receiving took some of its CPU, at most all
    assertThat(m.getDouble("generator_cpu_s")).isPositive();
    assertThat(m.getDouble("generator_cpu_share")).isPositive().isLessThanOrEqualTo(1.05);
    assertThat(r.getJsonObject("latency").fieldNames()).isNotEmpty();
    assertThat(Path.of(r.getString("plot"))).exists();
  }

  @Test
  void dmWithPoissonArrivalsReportsItsSeedAndNoLoss() throws Exception {
    JsonObject r = bench("dm", "--users", "20", "--rate", "200", "--duration", "2", "--warmup", "1",
        "--arrivals", "poisson", "--seed", "2026");
    JsonObject m = r.getJsonObject("metrics");
    assertThat(m.getString("arrivals")).isEqualTo("poisson");
    assertThat(m.getLong("seed")).isEqualTo(2026L);
    assertThat(m.getLong("lost_deliveries")).isZero();
    assertThat(m.getLong("duplicated")).isZero();
    // every send was written (none left unsent at the schedule's end) and delivered to the partner
    assertThat(m.getLong("sent")).isPositive().isEqualTo(m.getLong("acked"));
    assertThat(m.getLong("delivered")).isEqualTo(m.getLong("sent"));
    assertThat(r.getJsonObject("latency").getJsonObject("send->deliver").getLong("count")).isPositive();
  }

  @Test
  void groupFanOutCompletes() throws Exception {
    JsonObject r = bench("group", "--size", "10", "--groups", "2", "--rate", "50", "--duration", "2", "--warmup", "1",
        "--drain", "30");
    JsonObject m = r.getJsonObject("metrics");
    assertThat(m.getLong("lost_deliveries")).isZero();
    // the drain limit is the one asked for, and a server that keeps up needs far less of it
    assertThat(m.getDouble("drain_s")).isEqualTo(30.0);
    assertThat(m.getDouble("drain_ms")).isLessThan(30_000.0);
  }

  @Test
  void connectionsAndReconnectComplete() throws Exception {
    JsonObject c = bench("connections", "50", "--hold", "1");
    assertThat(c.getBoolean("passed")).isTrue();
    JsonObject r = bench("reconnect", "20");
    assertThat(r.getBoolean("passed")).isTrue();
  }

  @Test
  void pushMeasuresEveryMessageToAnOfflineDevice() throws Exception {
    // its own server (launched by the bench, with the FCM fake's environment), no coalescing: every
    // message is a push of its own
    JsonObject r = run("push", "--users", "10", "--rate", "40", "--duration", "2", "--warmup", "1", "--fake-delay-ms", "20",
        "--coalesce-ms", "0", "--launch", "--server-jar", SERVER_JAR.toString(), "--server-java-opts", "-Xmx512m",
        "--json", "--out", dir.resolve("out").toString());
    JsonObject m = r.getJsonObject("metrics");
    assertThat(m.getLong("devices_registered")).isEqualTo(10);
    assertThat(m.getLong("acked")).isPositive().isEqualTo(m.getLong("sent"));
    assertThat(m.getLong("messages_missing")).isZero();
    assertThat(m.getLong("messages_pushed")).isEqualTo(m.getLong("acked"));
    assertThat(m.getLong("pushes_accepted")).isPositive();
    assertThat(r.getJsonObject("latency").getJsonObject("send->push").getLong("count")).isPositive();
  }

  private static JsonObject bench(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--port", Integer.toString(server.port), "--json", "--out", dir.resolve("out").toString()));
    return run(all.toArray(String[]::new));
  }

  private static JsonObject run(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Djava.awt.headless=true",
        "-cp", BENCH_JAR.toString(), "io.parley.bench.Bench"));
    cmd.addAll(List.of(args));
    Path stdout = Files.createTempFile(dir, "bench", ".json");
    Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("bench finished").isTrue();
    String out = Files.readString(stdout, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isZero();
    JsonObject result = new JsonObject(out.substring(out.indexOf('{')));
    assertThat(result.getBoolean("passed")).as(out).isTrue();
    return result;
  }

  /** The server's jar on the embedded profile, on a port of its own choosing, read from its start-up line. */
  record Server(Process process, int port) {
    private static final Pattern LISTENING = Pattern.compile("listening on http://[^:]+:(\\d+)");

    static Server start(Path dataDir) throws IOException, InterruptedException {
      ProcessBuilder pb = new ProcessBuilder(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m", "-jar", SERVER_JAR.toString()));
      pb.environment().put("PARLEY_HTTP_PORT", "0");
      pb.environment().put("PARLEY_DATA_DIR", dataDir.toString());
      // no admin listener: its fixed port (9464) may be a running cluster node's, which would fail the start
      pb.environment().put("PARLEY_ADMIN_PORT", "0");
      pb.environment().put("PARLEY_JWT_SECRET", "bench-smoke-secret-bench-smoke-secret-01");
      pb.redirectErrorStream(true);
      Process p = pb.start();
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      // the reader ends when the server does; a server that dies or never says so fails the test
      for (String line; (line = out.readLine()) != null; ) {
        System.out.println("[parley] " + line);
        Matcher m = LISTENING.matcher(line);
        if (m.find()) {
          Thread rest = new Thread(() -> out.lines().forEach(l -> System.out.println("[parley] " + l)), "parley-output");
          rest.setDaemon(true);
          rest.start();
          return new Server(p, Integer.parseInt(m.group(1)));
        }
      }
      throw new AssertionError("the server exited (" + p.waitFor(10, TimeUnit.SECONDS) + ") without logging that it listens");
    }

    void stop() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("server did not exit within 60 s of SIGTERM");
      }
    }
  }
}
