package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.pushfakes.FakeFcmService;
import io.parley.testing.Await;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FCM end to end on the embedded profile: a node whose service account (a key pair generated
 * here, written as the key file into a temporary directory) obtains its access tokens from a local
 * FCM ({@link FakeFcmService}) that verifies each RS256 assertion, bearer token and message. A
 * device with an {@code fcm} registration and no connection gets exactly one message naming the
 * conversation and server_id, collapsed per conversation; a connected one gets none; a token FCM
 * calls UNREGISTERED is removed. Web Push is switched off on this node ({@code push.webpush.enabled}):
 * its key is not published and its registrations are refused.
 *
 * <p>"None" is checked with a barrier, as in {@link PushE2ETest}: a last message that must reach
 * both devices is sent once the first step's one has arrived; a wrong one would be among them.
 */
class FcmPushE2ETest {
  static final Duration WAIT = Duration.ofSeconds(15);
  @TempDir
  static Path dir;
  static FakeFcmService fcm;
  static TestNode node;
  static Clients clients;
  static final AtomicInteger SEQ = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    fcm = new FakeFcmService();
    Path account = fcm.writeServiceAccount(dir.resolve("service-account.json"));
    Path data = Files.createDirectories(dir.resolve("data"));
    node = TestNode.start(data, Map.of("PARLEY_PUSH_FCM_SERVICE_ACCOUNT_FILE", account.toString(),
        "PARLEY_PUSH_FCM_BASE_URL", fcm.origin(), "PARLEY_PUSH_WEBPUSH_ENABLED", "false"));
    clients = new Clients(node.port);
  }

  @AfterAll
  static void stop() {
    clients.close();
    node.close();
    fcm.close();
  }

  static String user(String name) {
    return name + "-" + SEQ.incrementAndGet();
  }

  private static String registered(String userToken, String device) {
    String fcmToken = "fcm-" + device + "-" + SEQ.incrementAndGet();
    Clients.Response r = clients.request(HttpMethod.PUT, "/v1/devices/" + device + "/push", userToken,
        new JsonObject().put("provider", "fcm").put("token", fcmToken));
    assertThat(r.status()).as(r.body()).isEqualTo(204);
    return fcmToken;
  }

  @Test
  void anOfflineDeviceGetsExactlyOneMessageAConnectedOneNone() throws Exception {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    String phone = registered(tb, "phone");
    String tablet = registered(tb, "tablet");
    WsClient bobTablet = clients.online(tb, "tablet");
    WsClient a = clients.online(ta, "desk");
    assertThat(clients.devices(tb)).extracting(d -> d.getString("id") + ":" + d.getString("provider"))
        .containsExactly("phone:fcm", "tablet:fcm");

    String m1 = a.sendMsg("m1", conv, "hello").getString("server_id");
    FakeFcmService.Received got = fcm.next(WAIT);
    assertThat(got.token()).isEqualTo(phone);
    assertThat(got.data().getString("conv")).isEqualTo(conv);
    assertThat(got.data().getString("server_id")).isEqualTo(m1);
    assertThat(got.data().getString("sender")).isEqualTo(alice);
    assertThat(got.data().getString("fetch")).isEqualTo("true");
    assertThat(got.data().containsKey("preview")).as("metadata only by default").isFalse();
    assertThat(got.collapseKey()).isEqualTo("c" + conv);
    assertThat(got.priority()).isEqualTo("high");
    assertThat(bobTablet.next("msg").getString("server_id")).isEqualTo(m1);

    // barrier: the tablet goes offline; the next message reaches both devices, and nothing else came
    bobTablet.close();
    Await.until("the tablet is offline", () -> clients.devices(tb).stream().noneMatch(d -> d.getBoolean("online")), WAIT,
        Duration.ofMillis(50));
    String m2 = a.sendMsg("m2", conv, "again").getString("server_id");
    FakeFcmService.Received b1 = fcm.next(WAIT);
    FakeFcmService.Received b2 = fcm.next(WAIT);
    assertThat(List.of(b1, b2)).allSatisfy(r -> assertThat(r.data().getString("server_id")).isEqualTo(m2));
    assertThat(List.of(b1.token(), b2.token())).containsExactlyInAnyOrder(phone, tablet);
    assertThat(fcm.received).as("no other message").isEmpty();
    assertThat(fcm.errors).isEmpty();
    assertThat(fcm.tokenRequests).as("one access token for every send").hasValue(1);
    a.close();
  }

  @Test
  void aTokenFcmCallsUnregisteredIsRemoved() throws Exception {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    fcm.answer(registered(tb, "old"), FakeFcmService.Answer.UNREGISTERED);
    String current = registered(tb, "new");
    WsClient a = clients.online(ta, "desk");

    a.sendMsg("m1", conv, "x");
    assertThat(fcm.next(WAIT).token()).isEqualTo(current);
    Await.until("the unregistered device is removed", () -> clients.devices(tb).size() == 1, WAIT, Duration.ofMillis(50));
    assertThat(clients.devices(tb)).extracting(d -> d.getString("id")).containsExactly("new");
    assertThat(fcm.errors).isEmpty();
    a.close();
  }

  @Test
  void webPushSwitchedOffHasNoKeyAndTakesNoSubscription() {
    Clients.Response key = clients.request(HttpMethod.GET, "/v1/push/webpush-key", null, null);
    assertThat(key.status()).isEqualTo(404);
    assertThat(key.errorCode()).isEqualTo("not_found");
    assertThat(key.json().getJsonObject("error").getString("message")).contains("Web Push");
    assertThat(node.dataDir.resolve("vapid.pem")).as("no key generated").doesNotExist();

    String tb = clients.token(user("bob"));
    Clients.Response r = clients.request(HttpMethod.PUT, "/v1/devices/laptop/push", tb, new JsonObject().put("provider", "webpush")
        .put("subscription", new JsonObject().put("endpoint", "https://push.example/x")
            .put("keys", new JsonObject().put("p256dh", "BPk").put("auth", "AAAA"))));
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().getJsonObject("error").getString("message")).contains("webpush");
  }
}
