package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.app.Node;
import io.parley.app.Warmup;
import io.parley.config.ConfigLoader;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster-profile node's start sequencing (a node in this JVM, on the real servers, names of its
 * own): the warm-up begins at the start and runs beside the cluster join and the opening of
 * Cassandra, Redis and Kafka, and the node reports ready only once both are over, whichever ends
 * last: with the schema created at start so the warm-up is over long before the engines are open,
 * the node is not ready until they are; with a long warm-up, {@code /health/ready} answers 503 while the
 * node's gateway already listens and the warm-up still runs, and once ready the node serves at once.
 */
class ClusterStartIT {
  static final Duration START = Duration.ofSeconds(180);
  static final Duration STOP = Duration.ofSeconds(60);

  @TempDir
  Path dir;

  /**
   * Two starts on the same names: the first on a new keyspace, whose schema takes seconds to create
   * (tens of seconds here), with a warm-up of 100 ms, so the warm-up is over long before the engines
   * are open; the second on the existing keyspace with a long warm-up, so the engines are open (the
   * gateway listens) while the warm-up still runs.
   */
  @Test
  void readyWaitsForTheEnginesAndTheWarmUpWhicheverEndsLast() {
    try (ClusterNodes names = ClusterNodes.withoutNodes("ClusterStartIT", Map.of())) {
      enginesSlowerThanWarmUp(names);
      warmUpSlowerThanEngines(names);
    }
  }

  private void enginesSlowerThanWarmUp(ClusterNodes names) {
    long t0 = System.nanoTime();
    Node node = new Node(ConfigLoader.load(env(names, "100"), Map.of()));
    Future<Void> started = node.start();
    List<Boolean> readyEarly = new ArrayList<>();
    Await.until("the node's start", () -> {
      if (node.ready() && !started.isComplete()) {
        readyEarly.add(true);
      }
      return started.isComplete();
    }, START, Duration.ofMillis(5));
    Await.result("the node's start", started, START);
    long startMs = (System.nanoTime() - t0) / 1_000_000;
    Warmup.Report report = node.warmupReport();
    Await.result("the node's stop", node.stop(), STOP);
    assertThat(readyEarly).as("ready before the start completed").isEmpty();
    assertThat(report).as("the warm-up's report").isNotNull();
    assertThat(report.tookMs()).as("the warm-up, over well before the %d ms start", startMs).isLessThan(startMs - 1000);
  }

  private void warmUpSlowerThanEngines(ClusterNodes names) {
    long t0 = System.nanoTime();
    Node node = new Node(ConfigLoader.load(env(names, "8000"), Map.of()));
    Future<Void> started = node.start();
    try {
      Await.until("the gateway listening", () -> node.httpPort() != 0 || started.isComplete(), START);
      long gatewayMs = (System.nanoTime() - t0) / 1_000_000;
      List<Integer> duringWarmup = new ArrayList<>();
      List<Integer> readyBeforeReport = new ArrayList<>();
      try (Clients probe = new Clients(node::httpPort)) {
        while (!started.isComplete()) {
          int status = probe.request(HttpMethod.GET, "/health/ready", null, null).status();
          // the report is set before ready: read after the answer, null means the warm-up was still on
          boolean warmupOn = node.warmupReport() == null;
          if (warmupOn) {
            duringWarmup.add(status);
          }
          if (status == 200 && warmupOn) {
            readyBeforeReport.add(status);
          }
        }
      }
      Await.result("the node's start", started, START);
      assertThat(duringWarmup).as("/health/ready with the gateway listening and the warm-up still on (gateway after %d ms)",
          gatewayMs).isNotEmpty().containsOnly(503);
      assertThat(readyBeforeReport).as("ready answered before the warm-up was done").isEmpty();
      Warmup.Report report = node.warmupReport();
      assertThat(report.acked()).as("sends acked during the warm-up").isGreaterThanOrEqualTo(2 * Warmup.PAIRS);
      // begun at the start: it was running while the node joined and opened its engines
      assertThat(report.tookMs()).as("the warm-up's duration against the start's %d ms to its gateway", gatewayMs)
          .isGreaterThan(gatewayMs);
      assertServes(node);
    } finally {
      Await.result("the node's stop", node.stop(), STOP);
    }
  }

  private Map<String, String> env(ClusterNodes names, String warmupMs) {
    Map<String, String> env = new HashMap<>(names.common);
    env.put("PARLEY_NODE_ID", "1");
    env.put("PARLEY_HTTP_PORT", "0");
    env.put("PARLEY_CLUSTER_PORT", "0");
    env.put("PARLEY_CLUSTER_MEMBERS", "");
    env.put("PARLEY_DATA_DIR", dir.toString());
    env.put("PARLEY_GATEWAY_INSTANCES", "1");
    env.put("PARLEY_WARMUP_MS", warmupMs);
    return env;
  }

  /** Ready means serving: a DM sent right away is acked, delivered and in history. */
  private static void assertServes(Node node) {
    try (Clients clients = new Clients(node.httpPort())) {
      assertThat(clients.request(HttpMethod.GET, "/health/ready", null, null).status()).isEqualTo(200);
      String alice = clients.token("alice");
      String bob = clients.token("bob");
      String conv = clients.dm(alice, "bob");
      WsClient b = clients.online(bob, "phone");
      WsClient a = clients.online(alice, "phone");
      JsonObject ack = a.sendMsg("m1", conv, "hello");
      assertThat(ack.getString("op")).isEqualTo("ack");
      JsonObject msg = b.next("msg");
      assertThat(msg.getString("server_id")).isEqualTo(ack.getString("server_id"));
      Clients.Response history = clients.request(HttpMethod.GET, "/v1/conversations/" + conv + "/messages", alice, null);
      assertThat(history.status()).isEqualTo(200);
      assertThat(history.json().getJsonArray("messages").stream().map(m -> ((JsonObject) m).getString("server_id")))
          .containsExactly(ack.getString("server_id"));
      // the cluster profile's meters moved with it (the warm-up's node counts nothing)
      Map<String, Double> m = MetricsE2ETest.parse(node.metrics().prometheus().orElseThrow().scrape());
      assertThat(MetricsE2ETest.value(m, "parley_messages_acked_total")).isEqualTo(1.0);
      assertThat(MetricsE2ETest.value(m, "parley_messages_delivered_total")).isEqualTo(1.0);
      assertThat(MetricsE2ETest.value(m, "parley_kafka_produce_seconds_count")).isEqualTo(1.0);
      assertThat(MetricsE2ETest.value(m, "parley_kafka_produce_errors_total")).isZero();
      assertThat(MetricsE2ETest.value(m, "parley_storage_seconds_count{backend=\"cassandra\",op=\"persist\"}"))
          .isGreaterThanOrEqualTo(1.0);
      assertThat(MetricsE2ETest.value(m, "parley_storage_seconds_count{backend=\"cassandra\",op=\"read\"}"))
          .as("the history page").isGreaterThanOrEqualTo(1.0);
      for (String backend : new String[] {"kafka", "cassandra", "redis"}) {
        assertThat(MetricsE2ETest.value(m, "parley_backend_up{backend=\"" + backend + "\"}")).as(backend).isEqualTo(1.0);
      }
      assertThat(m).doesNotContainKey("parley_backend_up{backend=\"rocksdb\"}");
      MetricsE2ETest.value(m, "parley_dead_letters_total");
      MetricsE2ETest.value(m, "parley_rate_limiter_fallbacks_total");
      MetricsE2ETest.value(m, "parley_registry_fallbacks_total");
    }
  }
}
