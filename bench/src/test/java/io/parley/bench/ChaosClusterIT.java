package io.parley.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The short chaos scenario of the test command ({@code -Pcluster}): {@code scripts/chaos} starts a
 * 3-node cluster on the servers of scripts/infra, runs the history checker for 30 s with a
 * {@code kill -9} of one node 8 s in and its restart 3 s later, and the verdict must be clean:
 * every acked message stored once under its acked id, every retry acked with the original id,
 * every device complete after its final sync, live order kept, nothing phantom; and every send
 * acked in the end. The nodes run with C1 only ({@code -XX:TieredStopAtLevel=1}) so that they start
 * sooner. The run directory (verdict, timeline, node logs) stays in target/chaos-it.
 */
class ChaosClusterIT {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  @Timeout(value = 178, unit = TimeUnit.SECONDS)
  void killingANodeLosesDuplicatesAndReordersNothing() throws Exception {
    Path out = Path.of("target", "chaos-it").toAbsolutePath();
    Files.createDirectories(out);
    int http = freeRange(3);
    int hz = freeRange(3);
    while (Math.abs(hz - http) < 3) {
      hz = freeRange(3);
    }
    Path report = out.resolve("chaos-" + http + ".txt");
    ProcessBuilder pb = new ProcessBuilder("bash", ROOT.resolve("scripts/chaos").toString(), "--fault", "kill-gateway",
        "--duration", "30", "--fault-at", "8", "--restart-after", "3", "--users", "30", "--rate", "20", "--out",
        out.toString())
        .redirectOutput(report.toFile()).redirectError(out.resolve("chaos-" + http + ".log").toFile());
    pb.environment().put("PARLEY_CLUSTER_STATE", out.resolve("cluster-" + http).toString());
    pb.environment().put("PARLEY_CLUSTER_HTTP_BASE", String.valueOf(http));
    pb.environment().put("PARLEY_CLUSTER_HZ_BASE", String.valueOf(hz));
    // C1 only: the nodes start (and the killed one restarts) sooner; this test is about correctness, not latency
    pb.environment().put("PARLEY_CLUSTER_JAVA_OPTS", "-Xms256m -Xmx512m -XX:TieredStopAtLevel=1");
    Process p = pb.start();
    try {
      assertThat(p.waitFor(170, TimeUnit.SECONDS)).as("scripts/chaos finished in time").isTrue();
    } finally {
      if (p.isAlive()) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        // the nodes run in sessions of their own: scripts/cluster stops them by their pid files
        ProcessBuilder down = new ProcessBuilder("bash", ROOT.resolve("scripts/cluster").toString(), "down")
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(out.resolve("chaos-" + http + ".log").toFile()));
        down.environment().putAll(pb.environment());
        down.start().waitFor(60, TimeUnit.SECONDS);
      }
    }
    String table = Files.readString(report);
    Path verdictFile = newestRun(out).resolve("verdict.json");
    assertThat(verdictFile).as("verdict of the run; the script said:\n" + table).exists();
    JsonObject verdict = new JsonObject(Files.readString(verdictFile));
    JsonObject counts = verdict.getJsonObject("counts");
    String context = table + "\n" + verdict.encodePrettily();
    assertThat(counts.getLong("acked_messages")).as(context).isPositive();
    assertThat(verdict.getJsonObject("fault").getValue("start_s")).as("the node was killed during the run").isNotNull();
    for (String check : HistoryChecker.CHECKS) {
      assertThat(verdict.getJsonObject("checks").getJsonObject(check).getLong("violations")).as(check + "\n" + context)
          .isZero();
    }
    assertThat(counts.getLong("unacked_after_settle")).as(context).isZero();
    assertThat(verdict.getBoolean("clean")).as(context).isTrue();
    assertThat(p.exitValue()).as(context).isZero();
  }

  /** The run directory scripts/chaos made last. */
  private static Path newestRun(Path out) throws IOException {
    try (Stream<Path> dirs = Files.list(out)) {
      List<Path> runs = dirs.filter(d -> d.getFileName().toString().endsWith("-kill-gateway")).sorted().toList();
      assertThat(runs).as("run directories in " + out).isNotEmpty();
      return runs.get(runs.size() - 1);
    }
  }

  /** The first of {@code n} consecutive loopback ports that are free now, from a random start in 20000-29999. */
  private static int freeRange(int n) throws IOException {
    for (int attempt = 0; attempt < 100; attempt++) {
      int base = 20_000 + ThreadLocalRandom.current().nextInt(10_000 - n);
      boolean free = true;
      for (int i = 0; i < n && free; i++) {
        try (ServerSocket s = new ServerSocket(base + i, 1, InetAddress.getLoopbackAddress())) {
          free = s.getLocalPort() == base + i;
        } catch (IOException e) {
          free = false;
        }
      }
      if (free) {
        return base;
      }
    }
    throw new IOException("no " + n + " consecutive free ports found");
  }
}
