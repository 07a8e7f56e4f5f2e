package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A few seconds of every bench scenario, small N, against the packaged jar, so the tool cannot
 * rot. Checks that each run completes, passes its own loss/duplicate checks and reports its
 * fields and plot; the figures themselves are never asserted.
 */
class BenchSmokeIT {
  @TempDir
  static Path dir;
  static ServerProcess server;

  @BeforeAll
  static void start() throws IOException {
    server = ServerProcess.start(dir.resolve("data"), TestNode.freePort(), "bench-smoke-secret-bench-smoke-secret-01");
  }

  @AfterAll
  static void stop() throws InterruptedException {
    server.terminate();
    server.awaitExit();
  }

  @Test
  void dmReportsLatencyAndNoLoss() throws Exception {
    JsonObject r = bench("dm", "--users", "10", "--rate", "200", "--duration", "2", "--warmup", "1");
    JsonObject m = r.getJsonObject("metrics");
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

  private static JsonObject bench(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Djava.awt.headless=true",
        "-cp", ServerProcess.JAR.toString(), "io.parley.bench.Bench"));
    cmd.addAll(List.of(args));
    cmd.addAll(List.of("--port", Integer.toString(server.port), "--json", "--out", dir.resolve("out").toString()));
    Path stdout = Files.createTempFile(dir, "bench", ".json");
    Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("bench finished").isTrue();
    String out = Files.readString(stdout, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isZero();
    JsonObject result = new JsonObject(out.substring(out.indexOf('{')));
    assertThat(result.getBoolean("passed")).as(out).isTrue();
    return result;
  }
}
