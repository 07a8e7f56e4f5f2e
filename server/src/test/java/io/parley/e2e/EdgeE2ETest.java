package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.testing.Await;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The edge under bad input: every malformed or out-of-bounds frame gets a typed error frame and
 * leaves the connection usable; an oversized frame closes with 1009; bad REST input gets 400 with
 * a code; bad tokens get 401 before any upgrade; silent connections are closed after the idle
 * timeout while pinging ones stay open; sends are rate limited per user, over all of its connections.
 */
class EdgeE2ETest {
  static final String SECRET = "an-edge-test-secret-of-at-least-32-bytes";
  /** Sends per user in a burst (refill 1/s); the other tests send fewer per user. */
  static final int SEND_BURST = 6;
  @TempDir
  static Path dir;
  static TestNode node;
  static Clients clients;

  @BeforeAll
  static void start() {
    node = TestNode.start(dir, Map.of(
        "PARLEY_JWT_SECRET", SECRET,
        "PARLEY_HEARTBEAT_IDLE_TIMEOUT_MS", "800",
        "PARLEY_LIMITS_BODY_MAX_BYTES", "1024",
        "PARLEY_LIMITS_FRAME_MAX_BYTES", "8192",
        "PARLEY_LIMITS_MEDIA_MAX_ITEMS", "2",
        "PARLEY_LIMITS_SEND_BURST", Integer.toString(SEND_BURST),
        "PARLEY_LIMITS_SEND_RATE_PER_S", "1"));
    clients = new Clients(node.port);
  }

  @AfterAll
  static void stop() {
    clients.close();
    node.close();
  }

  @Test
  void badFramesGetTypedErrorsAndTheConnectionStaysUsable() {
    String ta = clients.token("edge-alice");
    String conv = clients.dm(ta, "edge-bob");
    WsClient a = clients.connect(ta, "d");
    Map<String, String> cases = new java.util.LinkedHashMap<>();
    cases.put("{not json", "bad_request");
    cases.put("[1,2]", "bad_request");
    cases.put("{\"no_op\":1}", "bad_request");
    cases.put("{\"op\":42}", "bad_request");
    cases.put("{\"op\":\"teleport\"}", "unknown_op");
    cases.put("{\"op\":\"send\",\"conv\":\"" + conv + "\",\"body\":\"x\"}", "bad_request");
    cases.put("{\"op\":\"send\",\"msg_id\":\"m\",\"conv\":" + conv + ",\"body\":\"x\"}", "bad_request");
    cases.put("{\"op\":\"send\",\"msg_id\":\"m\",\"conv\":\"abc\",\"body\":\"x\"}", "bad_request");
    cases.put("{\"op\":\"send\",\"msg_id\":\"m\",\"conv\":\"" + conv + "\",\"body\":7}", "bad_request");
    cases.put("{\"op\":\"send\",\"msg_id\":\"" + "x".repeat(65) + "\",\"conv\":\"" + conv + "\",\"body\":\"x\"}", "bad_request");
    cases.put("{\"op\":\"send\",\"msg_id\":\"m\",\"conv\":\"" + conv + "\",\"body\":\"x\",\"media\":{}}", "bad_request");
    cases.put("{\"op\":\"send\",\"msg_id\":\"m\",\"conv\":\"" + conv + "\",\"body\":\"x\",\"media\":[1]}", "bad_request");
    cases.put("{\"op\":\"send\",\"msg_id\":\"big\",\"conv\":\"" + conv + "\",\"body\":\"" + "y".repeat(1025) + "\"}", "too_large");
    cases.put("{\"op\":\"send\",\"msg_id\":\"m\",\"conv\":\"" + conv + "\",\"body\":\"x\",\"media\":[{},{},{}]}", "too_large");
    cases.put("{\"op\":\"send\",\"msg_id\":\"m\",\"conv\":\"99999\",\"body\":\"x\"}", "not_found");
    cases.put("{\"op\":\"read\",\"conv\":\"" + conv + "\"}", "bad_request");
    cases.put("{\"op\":\"delivered\",\"conv\":\"" + conv + "\",\"server_id\":\"12345\"}", "not_found");
    cases.put("{\"op\":\"sync\",\"convs\":[]}", "bad_request");
    cases.put("{\"op\":\"sync\",\"convs\":{\"" + conv + "\":5}}", "bad_request");
    cases.put("{\"op\":\"presence_sub\",\"users\":[\"no spaces\"]}", "bad_request");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      a.sendText(c.getKey());
      JsonObject err = a.next("error");
      assertThat(err.getString("code")).as(c.getKey()).isEqualTo(c.getValue());
      assertThat(err.getString("message")).isNotBlank();
    }
    assertThat(a.drainWithPing()).isEmpty();
    JsonObject ack = a.sendMsg("fine", conv, "still works");
    assertThat(ack.getString("op")).isEqualTo("ack");
    JsonObject tooLarge = a.sendMsg("big2", conv, "y".repeat(1025));
    assertThat(tooLarge.getString("msg_id")).isEqualTo("big2");
    Clients.Response history = clients.request(HttpMethod.GET, "/v1/conversations/" + conv + "/messages", ta, null);
    assertThat(history.json().getJsonArray("messages")).hasSize(1);
  }

  @Test
  void aFrameOverTheHardLimitClosesWith1009() {
    WsClient a = clients.connect(clients.token("edge-big"), "d");
    a.sendText("{\"op\":\"ping\",\"pad\":\"" + "z".repeat(9000) + "\"}");
    assertThat(a.awaitClose()).isEqualTo((short) 1009);
  }

  @Test
  void badTokensAreRefusedWith401BeforeAnyUpgrade() {
    String good = clients.token("edge-carol");
    assertThat(clients.rejectedUpgrade("/v1/ws")).isEqualTo(401);
    assertThat(clients.rejectedUpgrade("/v1/ws?access_token=garbage")).isEqualTo(401);
    assertThat(clients.rejectedUpgrade("/v1/ws?access_token=" + sign("edge-carol", "another-secret-another-secret-1234", 0)))
        .isEqualTo(401);
    long past = System.currentTimeMillis() / 1000 - 60;
    assertThat(clients.rejectedUpgrade("/v1/ws?access_token=" + sign("edge-carol", SECRET, past))).isEqualTo(401);
    assertThat(clients.rejectedUpgrade("/v1/ws?access_token=" + sign("bad user!", SECRET, 0))).isEqualTo(401);
    assertThat(clients.rejectedUpgrade("/v1/ws?device=bad%20device&access_token=" + good)).isEqualTo(400);
    long future = System.currentTimeMillis() / 1000 + 600;
    WsClient ok = Await.result(clients.connectAsync(sign("edge-carol", SECRET, future), "d"), Clients.WAIT);
    ok.send(new JsonObject().put("op", "ping"));
    assertThat(ok.next("pong")).isNotNull();

    assertThat(clients.request(HttpMethod.GET, "/v1/conversations", null, null).status()).isEqualTo(401);
    assertThat(clients.request(HttpMethod.GET, "/v1/conversations", "nope", null).status()).isEqualTo(401);
  }

  @Test
  void badRestInputGets400WithACode() {
    String t = clients.token("edge-dave");
    String conv = clients.dm(t, "edge-erin");
    List<Clients.Response> bad = List.of(
        clients.request(HttpMethod.POST, "/v1/conversations", t, "{oops"),
        clients.request(HttpMethod.POST, "/v1/conversations", t, new JsonObject().put("type", "channel").put("members", new JsonArray())),
        clients.request(HttpMethod.POST, "/v1/conversations", t, new JsonObject().put("type", "dm")),
        clients.request(HttpMethod.POST, "/v1/conversations", t, new JsonObject().put("type", "dm").put("members", new JsonArray().add("a").add("b"))),
        clients.request(HttpMethod.POST, "/v1/conversations", t, new JsonObject().put("type", "group").put("members", new JsonArray().add("no spaces"))),
        clients.request(HttpMethod.POST, "/v1/conversations", t, new JsonObject().put("type", "group").put("name", 5).put("members", new JsonArray())),
        clients.request(HttpMethod.GET, "/v1/conversations?limit=0", t, null),
        clients.request(HttpMethod.GET, "/v1/conversations?limit=abc", t, null),
        clients.request(HttpMethod.GET, "/v1/conversations/abc", t, null),
        clients.request(HttpMethod.GET, "/v1/conversations/" + conv + "/messages?limit=201", t, null),
        clients.request(HttpMethod.GET, "/v1/conversations/" + conv + "/messages?before=-3", t, null),
        clients.request(HttpMethod.POST, "/v1/conversations/" + conv + "/members", t, new JsonObject().put("users", "x")));
    for (Clients.Response r : bad) {
      assertThat(r.status()).as(r.body()).isEqualTo(400);
      assertThat(r.errorCode()).isEqualTo("bad_request");
    }
    Clients.Response missing = clients.request(HttpMethod.GET, "/v1/conversations/12345", t, null);
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.errorCode()).isEqualTo("not_found");
    assertThat(clients.request(HttpMethod.POST, "/v1/dev/token", null, "{}").errorCode()).isEqualTo("bad_request");
  }

  @Test
  void aSilentConnectionIsClosedAfterTheIdleTimeoutWhileAPingingOneStaysOpen() {
    String t = clients.token("edge-idle");
    WsClient silent = clients.connect(t, "silent");
    WsClient pinging = clients.connect(t, "pinging");
    long timer = clients.vertx.setPeriodic(150, id -> pinging.send(new JsonObject().put("op", "ping")));
    try {
      assertThat(silent.awaitClose()).isEqualTo((short) 1001);
      // keep going for over twice the timeout, counted in pongs received
      for (int i = 0; i < 12; i++) {
        pinging.next("pong");
      }
      assertThat(pinging.closed).isNotDone();
    } finally {
      clients.vertx.cancelTimer(timer);
    }
  }

  @Test
  void webSocketPingsAloneKeepAConnectionOpen() {
    String t = clients.token("edge-wsping");
    WsClient silent = clients.connect(t, "silent");
    WsClient pinging = clients.connect(t, "wsping");
    // 12 pongs at one ping per 150 ms: over twice the 800 ms idle timeout
    java.util.concurrent.atomic.AtomicInteger pongs = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.CompletableFuture<Void> enough = new java.util.concurrent.CompletableFuture<>();
    pinging.ws.pongHandler(b -> {
      if (pongs.incrementAndGet() == 12) {
        enough.complete(null);
      }
    });
    long timer = clients.vertx.setPeriodic(150, id -> pinging.ws.writePing(io.vertx.core.buffer.Buffer.buffer("p")));
    try {
      assertThat(silent.awaitClose()).isEqualTo((short) 1001);
      assertThat(enough).succeedsWithin(Clients.WAIT);
      assertThat(pinging.closed).isNotDone();
    } finally {
      clients.vertx.cancelTimer(timer);
    }
  }

  @Test
  void sendsAreLimitedPerUserOverAllOfItsConnections() {
    String t = clients.token("edge-chatty");
    String conv = clients.dm(t, "edge-quiet");
    // two gateway instances: the devices may well sit on different event loops
    WsClient phone = clients.connect(t, "phone");
    WsClient laptop = clients.connect(t, "laptop");
    long start = System.nanoTime();
    for (int i = 0; i < SEND_BURST; i++) {
      assertThat(phone.sendMsg("p" + i, conv, "hi").getString("op")).as("send %d of the burst", i).isEqualTo("ack");
    }
    int tries = SEND_BURST;
    for (int i = 0; i < tries; i++) {
      laptop.send(new JsonObject().put("op", "send").put("msg_id", "l" + i).put("conv", conv).put("body", "hi"));
    }
    int acked = 0;
    Set<String> refused = new HashSet<>();
    for (int i = 0; i < tries; i++) {
      JsonObject reply = laptop.next("ack", "error", "msg");
      if ("msg".equals(reply.getString("op"))) {
        i--; // the phone's messages reach the user's other device
      } else if ("ack".equals(reply.getString("op"))) {
        acked++;
      } else {
        assertThat(reply.getString("code")).isEqualTo("rate_limited");
        assertThat(reply.getString("conv")).isEqualTo(conv);
        refused.add(reply.getString("msg_id"));
      }
    }
    long seconds = (System.nanoTime() - start) / 1_000_000_000L;
    // per connection, the laptop would have had a burst of its own
    assertThat(acked).as("only what refilled at 1/s over %d s", seconds).isLessThanOrEqualTo((int) seconds);
    assertThat(refused).hasSize(tries - acked).allMatch(id -> id.startsWith("l"));
  }

  @Test
  void healthEndpointsReportLiveAndReady() {
    assertThat(clients.request(HttpMethod.GET, "/health/live", null, null).status()).isEqualTo(200);
    Clients.Response ready = clients.request(HttpMethod.GET, "/health/ready", null, null);
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.json().getString("status")).isEqualTo("ready");
  }

  /** An HS256 JWT made by hand, so the test does not trust the server's own token code. exp 0: none. */
  static String sign(String sub, String secret, long exp) {
    try {
      Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
      String header = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
      JsonObject claims = new JsonObject().put("sub", sub);
      if (exp != 0) {
        claims.put("exp", exp);
      }
      String payload = b64.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8));
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      String sig = b64.encodeToString(mac.doFinal((header + "." + payload).getBytes(StandardCharsets.UTF_8)));
      return header + "." + payload + "." + sig;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
