package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.eatthepath.pushy.apns.server.RejectionReason;
import io.parley.push.MockApns;
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
 * APNs end to end on the embedded profile: a node whose authentication key (a P-256 key pair
 * generated here, written as the {@code .p8} into a temporary directory) signs the provider tokens
 * that Pushy's mock APNs ({@link MockApns}, TLS with a certificate for localhost trusted through
 * {@code push.apns.ca_file}) verifies with the public key. A device with an {@code apns}
 * registration and no connection gets exactly one notification naming the conversation and
 * server_id, collapsed and threaded per conversation; a connected one gets none; a token APNs
 * calls Unregistered is removed. Registration checks the token and falls back to
 * {@code push.apns.topic}.
 *
 * <p>"None" is checked with a barrier, as in {@link PushE2ETest}: a last message that must reach
 * both devices is sent once the first step's one has arrived; a wrong one would be among them.
 */
class ApnsPushE2ETest {
  static final Duration WAIT = Duration.ofSeconds(15);
  @TempDir
  static Path dir;
  static MockApns apns;
  static TestNode node;
  static Clients clients;
  static final AtomicInteger SEQ = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    apns = new MockApns();
    Path key = apns.writeKeyFile(dir.resolve("AuthKey_" + MockApns.KEY_ID + ".p8"));
    Path data = Files.createDirectories(dir.resolve("data"));
    node = TestNode.start(data, Map.of("PARLEY_PUSH_APNS_KEY_FILE", key.toString(),
        "PARLEY_PUSH_APNS_KEY_ID", MockApns.KEY_ID, "PARLEY_PUSH_APNS_TEAM_ID", MockApns.TEAM_ID,
        "PARLEY_PUSH_APNS_TOPIC", MockApns.TOPIC, "PARLEY_PUSH_APNS_BASE_URL", apns.origin(),
        "PARLEY_PUSH_APNS_CA_FILE", apns.caFile()));
    clients = new Clients(node.port);
  }

  @AfterAll
  static void stop() {
    clients.close();
    node.close();
    apns.close();
  }

  static String user(String name) {
    return name + "-" + SEQ.incrementAndGet();
  }

  private static Clients.Response register(String userToken, String device, JsonObject body) {
    return clients.request(HttpMethod.PUT, "/v1/devices/" + device + "/push", userToken, body);
  }

  /** Registers a new device token of the mock's; every other registration names the topic itself. */
  private static String registered(String userToken, String device) {
    String deviceToken = apns.registerDevice();
    JsonObject body = new JsonObject().put("provider", "apns").put("token", deviceToken.toUpperCase());
    if (SEQ.incrementAndGet() % 2 == 0) {
      body.put("topic", MockApns.TOPIC).put("sandbox", false);
    }
    Clients.Response r = register(userToken, device, body);
    assertThat(r.status()).as(r.body()).isEqualTo(204);
    return deviceToken;
  }

  @Test
  void anOfflineDeviceGetsExactlyOneNotificationAConnectedOneNone() throws Exception {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    String phone = registered(tb, "phone");
    String tablet = registered(tb, "tablet");
    WsClient bobTablet = clients.online(tb, "tablet");
    WsClient a = clients.online(ta, "desk");
    assertThat(clients.devices(tb)).extracting(d -> d.getString("id") + ":" + d.getString("provider"))
        .containsExactly("phone:apns", "tablet:apns");

    String m1 = a.sendMsg("m1", conv, "hello").getString("server_id");
    MockApns.Received got = apns.next(WAIT);
    assertThat(got.deviceToken()).as("stored in lower case").isEqualTo(phone);
    assertThat(got.header("apns-topic")).isEqualTo(MockApns.TOPIC);
    assertThat(got.header("apns-collapse-id")).isEqualTo("c" + conv);
    assertThat(got.header("apns-push-type")).isEqualTo("alert");
    JsonObject aps = got.body().getJsonObject("aps");
    assertThat(aps.getJsonObject("alert").getString("title")).isEqualTo(alice);
    assertThat(aps.getJsonObject("alert").getString("body")).as("metadata only by default").isEqualTo("New message");
    assertThat(aps.getString("thread-id")).isEqualTo("c" + conv);
    assertThat(got.body().getString("conv")).isEqualTo(conv);
    assertThat(got.body().getString("server_id")).isEqualTo(m1);
    assertThat(got.body().getString("from")).isEqualTo(alice);
    assertThat(got.body().getBoolean("fetch")).isTrue();
    assertThat(got.body().containsKey("preview")).isFalse();
    assertThat(bobTablet.next("msg").getString("server_id")).isEqualTo(m1);

    // barrier: the tablet goes offline; the next message reaches both devices, and nothing else came
    bobTablet.close();
    Await.until("the tablet is offline", () -> clients.devices(tb).stream().noneMatch(d -> d.getBoolean("online")), WAIT,
        Duration.ofMillis(50));
    String m2 = a.sendMsg("m2", conv, "again").getString("server_id");
    MockApns.Received b1 = apns.next(WAIT);
    MockApns.Received b2 = apns.next(WAIT);
    assertThat(List.of(b1, b2)).allSatisfy(r -> assertThat(r.body().getString("server_id")).isEqualTo(m2));
    assertThat(List.of(b1.deviceToken(), b2.deviceToken())).containsExactlyInAnyOrder(phone, tablet);
    assertThat(apns.received).as("no other notification").isEmpty();
    assertThat(apns.rejected).filteredOn(r -> r.startsWith(phone) || r.startsWith(tablet)).isEmpty();
    assertThat(apns.providerTokens).as("one provider token for every send").containsOnly(apns.providerTokens.get(0));
    a.close();
  }

  @Test
  void aTokenApnsCallsUnregisteredIsRemoved() throws Exception {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    apns.answer(registered(tb, "old"), RejectionReason.UNREGISTERED);
    String current = registered(tb, "new");
    WsClient a = clients.online(ta, "desk");

    a.sendMsg("m1", conv, "x");
    assertThat(apns.next(WAIT).deviceToken()).isEqualTo(current);
    Await.until("the unregistered device is removed", () -> clients.devices(tb).size() == 1, WAIT, Duration.ofMillis(50));
    assertThat(clients.devices(tb)).extracting(d -> d.getString("id")).containsExactly("new");
    a.close();
  }

  @Test
  void registrationChecksTheTokenAndTopic() {
    String tb = clients.token(user("bob"));
    assertThat(register(tb, "phone", new JsonObject().put("provider", "apns").put("token", "not-hex")).status()).isEqualTo(400);
    assertThat(register(tb, "phone", new JsonObject().put("provider", "apns").put("token", "ab".repeat(16))).status())
        .as("too short").isEqualTo(400);
    assertThat(register(tb, "phone", new JsonObject().put("provider", "apns").put("token", "ab".repeat(32))
        .put("topic", "com.example/x")).status()).isEqualTo(400);
    assertThat(register(tb, "phone", new JsonObject().put("provider", "apns").put("token", "ab".repeat(32))
        .put("sandbox", "yes")).status()).isEqualTo(400);
    assertThat(register(tb, "phone", new JsonObject().put("provider", "apns").put("token", "ab".repeat(32))).status())
        .as("no topic: push.apns.topic").isEqualTo(204);
  }
}
