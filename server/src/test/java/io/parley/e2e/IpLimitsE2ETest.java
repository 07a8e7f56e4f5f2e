package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.gateway.Auth;
import io.parley.testing.Await;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-IP limits on a running node, loopback not exempt: a client address over its REST or
 * handshake bucket gets 429 {@code rate_limited} with {@code Retry-After} (a handshake before any
 * upgrade), requests under the limit pass, and another address (127.0.0.2, which Linux routes to
 * lo like all of 127/8) is unaffected. Health checks are never limited. Each test uses its own
 * source address, so the buckets of one do not leak into another.
 */
class IpLimitsE2ETest {
  static final String SECRET = "an-ip-limits-test-secret-of-32-bytes!";
  static final int BURST = 4;
  @TempDir
  static Path dir;
  static TestNode node;
  static Auth auth;

  @BeforeAll
  static void start() {
    node = TestNode.start(dir, Map.of(
        "PARLEY_JWT_SECRET", SECRET,
        "PARLEY_LIMITS_IP_EXEMPT_LOOPBACK", "false",
        "PARLEY_LIMITS_IP_HANDSHAKES_PER_S", "1",
        "PARLEY_LIMITS_IP_HANDSHAKE_BURST", Integer.toString(BURST),
        "PARLEY_LIMITS_IP_REST_PER_S", "1",
        "PARLEY_LIMITS_IP_REST_BURST", Integer.toString(BURST)));
    auth = new Auth(node.node.vertx(), SECRET);
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static Clients from(String address) {
    return new Clients(() -> node.port, address);
  }

  /**
   * Requests as fast as the client can until one gets 429; the ones before it passed and number at
   * least the burst (and at most the burst plus what refilled meanwhile). Returns the 429.
   */
  private static Clients.Response restUntilRefused(Clients c, String token) {
    long started = System.nanoTime();
    for (int passed = 0; ; passed++) {
      Clients.Response r = c.request(HttpMethod.GET, "/v1/conversations", token, null);
      if (r.status() == 429) {
        double seconds = (System.nanoTime() - started) / 1e9;
        assertThat(passed).as("requests before the 429").isBetween(BURST, BURST + 1 + (int) Math.ceil(seconds));
        return r;
      }
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      assertThat(passed).as("no 429 after %d requests", passed).isLessThan(BURST + 20);
    }
  }

  @Test
  void restOverTheLimitGets429WithRetryAfterWhileAnotherAddressIsServed() {
    String token = auth.issue("ipl-alice", 600);
    try (Clients a = from("127.0.0.3"); Clients b = from("127.0.0.4")) {
      Clients.Response refused = restUntilRefused(a, token);
      assertThat(refused.errorCode()).isEqualTo("rate_limited");
      assertThat(refused.json().getJsonObject("error").getString("message")).isNotBlank();
      assertThat(refused.headers().get("content-type")).isEqualTo("application/json");
      assertThat(Long.parseLong(refused.headers().get("Retry-After"))).isBetween(1L, 2L);
      assertThat(a.request(HttpMethod.GET, "/health/live", null, null).status()).as("health is not limited").isEqualTo(200);
      assertThat(a.request(HttpMethod.GET, "/health/ready", null, null).status()).isEqualTo(200);

      Clients.Response other = b.request(HttpMethod.GET, "/v1/conversations", token, null);
      assertThat(other.status()).as("the same user from another address: " + other.body()).isEqualTo(200);
    }
  }

  @Test
  void handshakesOverTheLimitGet429BeforeTheUpgrade() {
    String token = auth.issue("ipl-bob", 600);
    try (Clients a = from("127.0.0.5"); Clients b = from("127.0.0.6")) {
      long started = System.nanoTime();
      UpgradeRejectedException refused = null;
      int opened = 0;
      while (refused == null) {
        try {
          WsClient ws = a.connect(token, "d" + opened);
          ws.send(new JsonObject().put("op", "ping"));
          assertThat(ws.next("pong")).isNotNull();
          ws.close();
          opened++;
          assertThat(opened).as("no 429 after %d handshakes", opened).isLessThan(BURST + 20);
        } catch (RuntimeException e) {
          Throwable c = e.getCause() != null ? e.getCause() : e;
          assertThat(c).isInstanceOf(UpgradeRejectedException.class);
          refused = (UpgradeRejectedException) c;
        }
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      assertThat(opened).as("handshakes before the 429").isBetween(BURST, BURST + 1 + (int) Math.ceil(seconds));
      assertThat(refused.getStatus()).isEqualTo(429);
      assertThat(new JsonObject(refused.getBody()).getJsonObject("error").getString("code")).isEqualTo("rate_limited");
      assertThat(Long.parseLong(refused.getHeaders().get("Retry-After"))).isBetween(1L, 2L);
      assertThat(refused.getHeaders().get("Sec-WebSocket-Accept")).as("no upgrade begun").isNull();

      WsClient other = b.connect(token, "elsewhere");
      other.send(new JsonObject().put("op", "ping"));
      assertThat(other.next("pong")).as("another address still connects").isNotNull();
      other.close();
      assertThat(a.request(HttpMethod.GET, "/v1/conversations", token, null).status())
          .as("the REST bucket is a separate one").isEqualTo(200);
    }
  }

  @Test
  void aClientThatWaitsRetryAfterIsServedAgain() {
    String token = auth.issue("ipl-carol", 600);
    try (Clients a = from("127.0.0.7")) {
      Clients.Response refused = restUntilRefused(a, token);
      long wait = Long.parseLong(refused.headers().get("Retry-After"));
      // waiting is the behaviour under test (a client honouring Retry-After), not synchronisation
      Await.result(a.vertx.timer(wait, TimeUnit.SECONDS), Clients.WAIT);
      assertThat(a.request(HttpMethod.GET, "/v1/conversations", token, null).status()).isEqualTo(200);
    }
  }
}
