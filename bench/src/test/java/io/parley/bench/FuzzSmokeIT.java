package io.parley.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short fuzz of the test command: 20,000 WebSocket frames and 2,000 REST bodies after a warm-up
 * of 10,000 and 1,000 (whose replies are judged too), seed 18, from
 * the bench's jar against the server's packaged jar (each a child process, as scripts/fuzz runs
 * them; about 30 s). It passes only if the fuzzer's verdict does (no undocumented or missing reply,
 * node alive and ready, no blocked event loop after the warm-up, live heap within 64 MiB of the start),
 * and only if the run reached what it is meant to: each kind of close, error and ack.
 */
class FuzzSmokeIT {
  static final Path SERVER_JAR = Path.of(System.getProperty("parley.jar", "../target/parley.jar"));
  static final Path BENCH_JAR = Path.of(System.getProperty("parley.bench.jar", "../target/parley-bench.jar"));

  @TempDir
  Path dir;

  @Test
  void twentyThousandFramesGetOnlyDocumentedReplies() throws Exception {
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", BENCH_JAR.toString(),
        "io.parley.bench.Fuzz", "--frames", "20000", "--warmup-frames", "10000", "--seed", "18", "--server-jar", SERVER_JAR.toString(), "--json",
        "--out", dir.toString());
    Path stdout = dir.resolve("fuzz.json");
    Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    assertThat(p.waitFor(170, TimeUnit.SECONDS)).as("fuzz finished").isTrue();
    String out = Files.readString(stdout, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isZero();
    JsonObject r = new JsonObject(out.substring(out.indexOf('{')));
    assertThat(r.getBoolean("passed")).as(out).isTrue();
    assertThat(r.getLong("findings")).isZero();
    assertThat(r.getLong("frames")).isGreaterThanOrEqualTo(30_000);
    assertThat(r.getLong("rest_bodies")).isEqualTo(3_000);
    assertThat(r.getBoolean("node_alive")).isTrue();
    assertThat(r.getInteger("ready_status")).isEqualTo(200);
    assertThat(r.getInteger("blocked_warnings")).isZero();
    assertThat(r.getLong("heap_live_end_kb") - r.getLong("heap_live_start_kb")).isLessThanOrEqualTo(r.getLong("heap_growth_max_kb"));
    // the run reached every kind of answer it exists to check
    assertThat(r.getJsonObject("replies").fieldNames()).contains("ws.close.1002", "ws.close.1007", "ws.close.1009",
        "ws.error.bad_request", "ws.error.unknown_op", "ws.op.ack", "ws.pong_frame", "rest.400.bad_request", "rest.201");
  }
}
