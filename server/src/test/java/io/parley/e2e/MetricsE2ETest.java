package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.testing.Await;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /metrics} of the admin listener over HTTP on an embedded node: the contract's series
 * exist from the start, Parley's counters and the send → deliver histogram move by exactly what
 * the test did, no series names a user or conversation, and {@code admin.port} 0 and
 * {@code metrics.enabled} false turn the listener and the meters off.
 */
class MetricsE2ETest {
  @TempDir
  static Path dir;
  static TestNode node;
  static Clients clients;
  static Clients admin;

  @BeforeAll
  static void start() throws IOException {
    // one gateway instance: parley_devices_connected counts distinct devices per instance (a device
    // connected twice on two event loops at once counts twice), and the test connects one device twice
    node = TestNode.start(dir.resolve("node"), Map.of("PARLEY_ADMIN_PORT", Integer.toString(TestNode.freePort()),
        "PARLEY_GATEWAY_INSTANCES", "1"));
    clients = new Clients(node.port);
    admin = new Clients(node.node.adminPort());
  }

  @AfterAll
  static void stop() {
    admin.close();
    clients.close();
    node.close();
  }


  /** The scrape as series (name with labels, as exposed) → value. */
  static Map<String, Double> scrape(Clients admin) {
    Clients.Response r = admin.request(HttpMethod.GET, "/metrics", null, null);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().get("content-type")).startsWith("text/plain");
    return parse(r.body());
  }

  /** Prometheus text as series (name with labels, as exposed) → value. */
  static Map<String, Double> parse(String exposition) {
    Map<String, Double> out = new HashMap<>();
    for (String line : exposition.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int sp = line.lastIndexOf(' ');
      out.put(line.substring(0, sp), Double.parseDouble(line.substring(sp + 1)));
    }
    return out;
  }

  static double value(Map<String, Double> m, String series) {
    Double v = m.get(series);
    assertThat(v).as("series %s in the scrape", series).isNotNull();
    return v;
  }

  @Test
  void theContractsSeriesAndVertxAndJvmMetersAreThereBeforeAnyTraffic() {
    Map<String, Double> m = scrape(admin);
    for (String series : List.of("parley_messages_acked_total", "parley_messages_delivered_total",
        "parley_messages_rejected_total{code=\"too_large\"}", "parley_messages_rejected_total{code=\"not_member\"}",
        "parley_send_deliver_seconds_count", "parley_send_deliver_seconds_bucket{le=\"0.2\"}",
        "parley_send_deliver_seconds_bucket{le=\"+Inf\"}", "parley_connections", "parley_devices_connected",
        "parley_handshakes_total{result=\"accepted\"}", "parley_handshakes_total{result=\"rejected\"}",
        "parley_slow_reader_closes_total", "parley_sync_requests_total", "parley_sync_messages_replayed_total",
        "parley_shed_total{code=\"unavailable\"}", "parley_shed_total{code=\"rate_limited\"}",
        "parley_typing_dropped_total", "parley_event_loop_delay_seconds", "parley_backend_up{backend=\"rocksdb\"}",
        "parley_push_sent_total{provider=\"fcm\"}", "parley_push_failed_total{provider=\"apns\"}",
        "parley_push_throttled_total{provider=\"webpush\"}", "parley_storage_seconds_count{backend=\"rocksdb\",op=\"append\"}",
        "parley_storage_errors_total{backend=\"rocksdb\"}")) {
      value(m, series);
    }
    assertThat(value(m, "parley_backend_up{backend=\"rocksdb\"}")).isEqualTo(1.0);
    assertThat(m.keySet()).anyMatch(k -> k.startsWith("jvm_memory_used_bytes{"));
    assertThat(m.keySet()).anyMatch(k -> k.startsWith("jvm_gc_"));
    assertThat(m.keySet()).anyMatch(k -> k.startsWith("process_cpu_usage"));
    assertThat(m.keySet()).anyMatch(k -> k.startsWith("vertx_http_server_"));
    assertThat(m.keySet()).anyMatch(k -> k.startsWith("vertx_pool_"));
    assertThat(m.keySet()).as("event-bus meters are off (a look-up per message)").noneMatch(k -> k.startsWith("vertx_eventbus_"));
  }

  @Test
  void countersAndTheHistogramMoveByExactlyWhatHappened() {
    String alice = "m-alice", bob = "m-bob";
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    Map<String, Double> before = scrape(admin);
    WsClient a = clients.connect(ta, "phone");
    WsClient b1 = clients.connect(tb, "phone");
    WsClient b2 = clients.connect(tb, "phone"); // the same device twice: one device, two connections
    Await.until("three connections counted", () -> scrape(admin).get("parley_connections")
        - before.get("parley_connections") == 3, Duration.ofSeconds(10));

    JsonObject ack = a.sendMsg("m-1", conv, "hi bob");
    assertThat(ack.getString("op")).isEqualTo("ack");
    b1.next("msg");
    b2.next("msg");
    a.send(new JsonObject().put("op", "send").put("msg_id", "m-2").put("conv", conv).put("body", "x".repeat(70_000)));
    JsonObject error = a.next("error");
    assertThat(error.getString("msg_id")).isEqualTo("m-2");
    assertThat(error.getString("code")).isEqualTo("too_large");
    b1.send(new JsonObject().put("op", "sync").put("convs", new JsonObject().put(conv, "0")));
    assertThat(b1.next("msg").getString("msg_id")).isEqualTo("m-1");
    b1.next("synced");

    Map<String, Double> after = scrape(admin);
    assertThat(delta(before, after, "parley_messages_acked_total")).isEqualTo(1);
    assertThat(delta(before, after, "parley_messages_delivered_total")).as("one msg written live to each of bob's sockets")
        .isEqualTo(2);
    assertThat(delta(before, after, "parley_send_deliver_seconds_count")).isEqualTo(2);
    assertThat(delta(before, after, "parley_send_deliver_seconds_bucket{le=\"+Inf\"}")).isEqualTo(2);
    assertThat(delta(before, after, "parley_messages_rejected_total{code=\"too_large\"}")).isEqualTo(1);
    assertThat(delta(before, after, "parley_messages_rejected_total{code=\"not_member\"}")).isZero();
    assertThat(delta(before, after, "parley_sync_requests_total")).isEqualTo(1);
    assertThat(delta(before, after, "parley_sync_messages_replayed_total")).isEqualTo(1);
    assertThat(delta(before, after, "parley_handshakes_total{result=\"accepted\"}")).isEqualTo(3);
    assertThat(delta(before, after, "parley_connections")).isEqualTo(3);
    assertThat(delta(before, after, "parley_devices_connected")).as("alice/phone and bob/phone").isEqualTo(2);
    // the histogram's sum is the time from the message's ts to the socket write: positive, under the test's span
    assertThat(delta(before, after, "parley_send_deliver_seconds_sum")).isBetween(0.0, 30.0);

    // a refused handshake
    assertThat(clients.rejectedUpgrade("/v1/ws?access_token=not-a-token")).isEqualTo(401);
    Await.until("the refused handshake counted", () -> delta(before, scrape(admin),
        "parley_handshakes_total{result=\"rejected\"}") == 1, Duration.ofSeconds(10));

    // Vert.x never sees a taken-over WebSocket end: its in-flight gauges are filtered out
    assertThat(after.keySet()).noneMatch(k -> k.startsWith("vertx_http_server_active_connections")
        || k.startsWith("vertx_http_server_active_requests"));

    // no label carries a user, device or conversation
    for (String series : after.keySet()) {
      assertThat(series).doesNotContain(alice).doesNotContain(bob).doesNotContain(conv);
    }

    a.close();
    b1.close();
    b2.close();
    Await.until("the connections and devices gauges back where they were", () -> {
      Map<String, Double> now = scrape(admin);
      return delta(before, now, "parley_connections") == 0 && delta(before, now, "parley_devices_connected") == 0;
    }, Duration.ofSeconds(10));
  }

  static double delta(Map<String, Double> before, Map<String, Double> after, String series) {
    return value(after, series) - value(before, series);
  }

  @Test
  void otherPathsOfTheAdminListenerAre404WithTheJsonErrorBody() {
    Clients.Response r = admin.request(HttpMethod.GET, "/nope", null, null);
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.json().getJsonObject("error").getString("code")).isEqualTo("not_found");
    assertThat(admin.request(HttpMethod.POST, "/metrics", null, null).status()).isEqualTo(404);
  }

  @Test
  void adminPortZeroTurnsTheListenerOff() {
    try (TestNode off = TestNode.start(dir.resolve("off"), Map.of("PARLEY_ADMIN_PORT", "0"))) {
      assertThat(off.node.adminPort()).isZero();
      assertThat(off.node.metrics().enabled()).as("the meters still count, for a scraper added later").isTrue();
      assertThat(off.node.vertx().isMetricsEnabled()).isTrue();
    }
  }

  @Test
  void metricsDisabledBuildsVertxWithoutMetricsAndMetricsIs404() throws IOException {
    try (TestNode off = TestNode.start(dir.resolve("disabled"),
        Map.of("PARLEY_ADMIN_PORT", Integer.toString(TestNode.freePort()), "PARLEY_METRICS_ENABLED", "false"));
        Clients offAdmin = new Clients(off.node.adminPort())) {
      assertThat(off.node.vertx().isMetricsEnabled()).isFalse();
      Clients.Response r = offAdmin.request(HttpMethod.GET, "/metrics", null, null);
      assertThat(r.status()).isEqualTo(404);
      assertThat(r.json().getJsonObject("error").getString("code")).isEqualTo("not_found");
    }
  }
}
