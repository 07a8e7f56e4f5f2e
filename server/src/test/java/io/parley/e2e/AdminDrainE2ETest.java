package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.testing.Await;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The documented admin action of a drain: {@code POST /admin/drain} on the admin listener, with
 * {@code admin.token} as its bearer token, does what SIGTERM does (clients told to reconnect, then
 * closed with 1012, the node not ready and stopped); without the token, or with another, 401 and
 * nothing happens; with no {@code admin.token} configured there is no such route (404).
 */
class AdminDrainE2ETest {
  private static final String TOKEN = "admin-token-0123456789";

  @TempDir
  Path dir;

  @Test
  void theTokenIsRequiredAndThenTheNodeDrainsAndStops() throws Exception {
    int adminPort = TestNode.freePort();
    try (TestNode node = TestNode.start(dir.resolve("a"), Map.of("PARLEY_ADMIN_PORT", Integer.toString(adminPort),
        "PARLEY_ADMIN_TOKEN", TOKEN, "PARLEY_DRAIN_WINDOW_MS", "500"));
        Clients clients = new Clients(node.port)) {
      WsClient ws = clients.online(clients.token("admin-alice"), "d");
      HttpClient http = clients.vertx.createHttpClient();
      assertThat(post(http, adminPort, null).statusCode()).isEqualTo(401);
      assertThat(post(http, adminPort, "Bearer not-the-token-at-all").statusCode()).isEqualTo(401);
      assertThat(node.node.ready()).as("a refused request changes nothing").isTrue();

      assertThat(post(http, adminPort, "Bearer " + TOKEN).statusCode()).isEqualTo(202);
      assertThat(ws.next("reconnect").getLong("within_ms")).isEqualTo(500L);
      assertThat(ws.awaitClose()).isEqualTo((short) 1012);
      assertThat(node.node.ready()).isFalse();
      Await.until("the node stopped (its admin listener gone)", () -> {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", adminPort)) {
          return false;
        } catch (IOException e) {
          return true;
        }
      }, Duration.ofSeconds(20));
      Await.result("the stop the drain began, once", node.node.stop(), Duration.ofSeconds(20));
    }
  }

  @Test
  void withoutAnAdminTokenThereIsNoDrainRoute() throws Exception {
    int adminPort = TestNode.freePort();
    try (TestNode node = TestNode.start(dir.resolve("b"), Map.of("PARLEY_ADMIN_PORT", Integer.toString(adminPort)));
        Clients clients = new Clients(node.port)) {
      HttpClient http = clients.vertx.createHttpClient();
      assertThat(post(http, adminPort, "Bearer " + TOKEN).statusCode()).isEqualTo(404);
      assertThat(node.node.ready()).isTrue();
    }
  }

  private static HttpClientResponse post(HttpClient http, int port, String authorization) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (authorization != null) {
      headers.add("Authorization", authorization);
    }
    return Await.result(http.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
        .setURI("/admin/drain").setHeaders(headers)).compose(r -> r.send()), Clients.WAIT);
  }
}
