package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.pushfakes.FakePushService;
import io.parley.pushfakes.FakePushService.Subscription;
import io.parley.testing.Await;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Web Push end to end on the embedded profile: a node with its generated VAPID key, browsers'
 * subscriptions on a local push service ({@link FakePushService}) that verifies each VAPID JWT and
 * decrypts each payload. A device with a registration and no connection gets a notification naming
 * the conversation and server_id; a connected device, a muted conversation and the sender's own
 * devices get none; a subscription the service calls gone (410) is removed; the REST of devices
 * validates, caps and moves registrations.
 *
 * <p>"None" is checked with a barrier: each step waits for the notifications it must cause, and
 * a last message that must be pushed is sent only after them; a wrong notification leaves with
 * the right one of its step, long before the barrier's, and would be counted.
 */
class PushE2ETest {
  static final Duration WAIT = Duration.ofSeconds(15);
  @TempDir
  static Path dir;
  static TestNode node;
  static Clients clients;
  static FakePushService service;
  static final AtomicInteger SEQ = new AtomicInteger();

  @BeforeAll
  static void start() {
    node = TestNode.start(dir, Map.of("PARLEY_PUSH_PREVIEW_CHARS", "4", "PARLEY_PUSH_DEVICES_MAX", "3"));
    clients = new Clients(node.port);
    Clients.Response key = clients.request(HttpMethod.GET, "/v1/push/webpush-key", null, null);
    assertThat(key.status()).isEqualTo(200);
    String publicKey = key.json().getString("public_key");
    assertThat(Base64.getUrlDecoder().decode(publicKey)).hasSize(65);
    service = new FakePushService(publicKey);
  }

  @AfterAll
  static void stop() {
    service.close();
    clients.close();
    node.close();
  }

  static String user(String name) {
    return name + "-" + SEQ.incrementAndGet();
  }

  private static Clients.Response register(String token, String device, JsonObject body) {
    return clients.request(HttpMethod.PUT, "/v1/devices/" + device + "/push", token, body);
  }

  private static Subscription registered(String token, String device) {
    Subscription s = service.subscribe();
    Clients.Response r = register(token, device, s.registration());
    assertThat(r.status()).as(r.body()).isEqualTo(204);
    return s;
  }

  private static void drained() {
    assertThat(service.received).as("no other push").isEmpty();
    assertThat(service.errors).isEmpty();
  }

  @Test
  void anOfflineDeviceGetsANotificationItsBrowserCanRead() throws Exception {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    Subscription phone = registered(tb, "phone");
    WsClient a = clients.online(ta, "laptop");

    String serverId = a.sendMsg("m1", conv, "h\uD83D\uDE00llo there").getString("server_id");

    FakePushService.Received got = service.next(WAIT);
    assertThat(got.subscription()).isEqualTo(phone.id);
    assertThat(got.payload().getString("conv")).isEqualTo(conv);
    assertThat(got.payload().getString("server_id")).isEqualTo(serverId);
    assertThat(got.payload().getString("from")).isEqualTo(alice);
    assertThat(got.payload().getInteger("count")).isEqualTo(1);
    assertThat(got.payload().getBoolean("fetch")).isTrue();
    assertThat(got.payload().getString("preview")).as("4 characters, the emoji whole").isEqualTo("h\uD83D\uDE00ll");
    assertThat(got.topic()).isEqualTo("c" + conv);
    drained();
    a.close();
  }

  @Test
  void connectedDevicesMutedConversationsAndTheSenderGetNone() throws Exception {
    String alice = user("alice"), bob = user("bob"), carol = user("carol");
    String ta = clients.token(alice), tb = clients.token(bob), tc = clients.token(carol);
    String dm = clients.dm(ta, bob);
    String group = clients.group(ta, List.of(bob, carol));
    Subscription bobPhone = registered(tb, "phone");
    registered(tb, "laptop");
    registered(ta, "tablet"); // the sender's own offline device
    Subscription carolPhone = registered(tc, "phone");
    WsClient bobLaptop = clients.online(tb, "laptop");
    WsClient a = clients.online(ta, "desk");

    // bob's laptop is connected, his phone is not: the phone alone gets it; alice's tablet nothing
    String m1 = a.sendMsg("m1", dm, "one").getString("server_id");
    FakePushService.Received first = service.next(WAIT);
    assertThat(first.subscription()).isEqualTo(bobPhone.id);
    assertThat(first.payload().getString("server_id")).isEqualTo(m1);
    assertThat(bobLaptop.next("msg").getString("server_id")).isEqualTo(m1);
    assertThat(clients.devices(tb)).extracting(d -> d.getString("id") + ":" + d.getBoolean("online"))
        .containsExactly("laptop:true", "phone:false");

    // bob muted the group: only carol's phone
    Clients.Response mute = clients.request(HttpMethod.PUT, "/v1/conversations/" + group + "/settings", tb,
        new JsonObject().put("muted", true));
    assertThat(mute.status()).as(mute.body()).isEqualTo(204);
    bobLaptop.close();
    String m2 = a.sendMsg("m2", group, "two").getString("server_id");
    FakePushService.Received second = service.next(WAIT);
    assertThat(second.subscription()).isEqualTo(carolPhone.id);
    assertThat(second.payload().getString("server_id")).isEqualTo(m2);

    // barrier: the DM is not muted and bob is all offline now: both of his devices
    String m3 = a.sendMsg("m3", dm, "three").getString("server_id");
    FakePushService.Received b1 = service.next(WAIT);
    FakePushService.Received b2 = service.next(WAIT);
    assertThat(List.of(b1, b2)).allSatisfy(r -> assertThat(r.payload().getString("server_id")).isEqualTo(m3));
    assertThat(List.of(b1.subscription(), b2.subscription())).contains(bobPhone.id).doesNotContain(carolPhone.id);
    drained();
    a.close();
  }

  @Test
  void aSubscriptionThePushServiceCallsGoneIsRemoved() throws Exception {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    registered(tb, "old").answer(410);
    Subscription current = registered(tb, "new");
    WsClient a = clients.online(ta, "desk");

    a.sendMsg("m1", conv, "x");
    assertThat(service.next(WAIT).subscription()).isEqualTo(current.id);
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (clients.devices(tb).size() != 1 && System.nanoTime() < deadline) {
      Thread.sleep(20); // a polling interval: the removal follows the service's answer
    }
    assertThat(clients.devices(tb)).extracting(d -> d.getString("id")).containsExactly("new");
    drained();
    a.close();
  }

  @Test
  void registrationsAreValidatedCappedAndMove() {
    String bob = user("bob"), carol = user("carol");
    String tb = clients.token(bob), tc = clients.token(carol);
    Subscription s = service.subscribe();

    assertThat(register(null, "phone", s.registration()).status()).isEqualTo(401);
    Clients.Response bad = register(tb, "phone", new JsonObject().put("provider", "pigeon"));
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.errorCode()).isEqualTo("bad_request");
    Clients.Response apns = register(tb, "phone", new JsonObject().put("provider", "apns").put("token", "ab".repeat(32))
        .put("topic", "com.example.app"));
    assertThat(apns.status()).isEqualTo(400);
    assertThat(apns.json().getJsonObject("error").getString("message")).contains("apns");
    Clients.Response fcm = register(tb, "phone", new JsonObject().put("provider", "fcm").put("token", "t"));
    assertThat(fcm.status()).isEqualTo(400);
    assertThat(fcm.json().getJsonObject("error").getString("message")).contains("fcm");
    JsonObject remote = s.registration();
    remote.getJsonObject("subscription").put("endpoint", "http://push.example.com/x");
    assertThat(register(tb, "phone", remote).errorCode()).isEqualTo("bad_request");
    JsonObject badKey = s.registration();
    badKey.getJsonObject("subscription").getJsonObject("keys").put("p256dh", "AAAA");
    assertThat(register(tb, "phone", badKey).errorCode()).isEqualTo("bad_request");
    assertThat(register(tb, "bad.device", s.registration()).errorCode()).isEqualTo("bad_request");

    // three devices at most; a registered one may register again
    registered(tb, "d1");
    registered(tb, "d2");
    assertThat(register(tb, "d3", s.registration()).status()).isEqualTo(204);
    Clients.Response fourth = register(tb, "d4", service.subscribe().registration());
    assertThat(fourth.status()).isEqualTo(409);
    assertThat(fourth.errorCode()).isEqualTo("conflict");
    assertThat(register(tb, "d3", s.registration()).status()).isEqualTo(204);

    // the subscription moves to carol: bob stops getting it
    assertThat(register(tc, "tablet", s.registration()).status()).isEqualTo(204);
    assertThat(clients.devices(tb)).extracting(d -> d.getString("id")).containsExactly("d1", "d2");
    JsonObject tablet = clients.devices(tc).get(0);
    assertThat(tablet.getString("provider")).isEqualTo("webpush");
    assertThat(tablet.getLong("registered_at")).isPositive();
    assertThat(tablet.getLong("last_seen")).isGreaterThanOrEqualTo(tablet.getLong("registered_at"));
    assertThat(tablet.getBoolean("online")).isFalse();

    assertThat(clients.request(HttpMethod.DELETE, "/v1/devices/d1/push", tb, null).status()).isEqualTo(204);
    assertThat(clients.request(HttpMethod.DELETE, "/v1/devices/d1/push", tb, null).status()).isEqualTo(204);
    assertThat(clients.devices(tb)).extracting(d -> d.getString("id")).containsExactly("d2");
  }

  @Test
  void settingsAreForMembersAndWellFormed() {
    String alice = user("alice"), bob = user("bob"), eve = user("eve");
    String ta = clients.token(alice), te = clients.token(eve);
    String conv = clients.dm(ta, bob);
    String path = "/v1/conversations/" + conv + "/settings";

    assertThat(clients.request(HttpMethod.PUT, path, te, new JsonObject().put("muted", true)).errorCode()).isEqualTo("not_member");
    assertThat(clients.request(HttpMethod.PUT, path, ta, new JsonObject().put("muted", "yes")).errorCode()).isEqualTo("bad_request");
    assertThat(clients.request(HttpMethod.PUT, path, ta, new JsonObject().put("muted", false)).status()).isEqualTo(204);
    assertThat(clients.request(HttpMethod.PUT, "/v1/conversations/999999/settings", ta, new JsonObject().put("muted", true))
        .errorCode()).isEqualTo("not_found");
  }

  /** The caller's muted flag of a conversation, as GET /v1/conversations lists it and as GET /v1/conversations/{id} shows it. */
  private static List<Boolean> mutedAsShown(String token, String conv) {
    Clients.Response list = clients.request(HttpMethod.GET, "/v1/conversations", token, null);
    assertThat(list.status()).as(list.body()).isEqualTo(200);
    JsonObject listed = list.json().getJsonArray("conversations").stream().map(JsonObject.class::cast)
        .filter(c -> c.getString("id").equals(conv)).findFirst().orElseThrow();
    Clients.Response one = clients.request(HttpMethod.GET, "/v1/conversations/" + conv, token, null);
    assertThat(one.status()).as(one.body()).isEqualTo(200);
    return List.of(listed.getBoolean("muted"), one.json().getBoolean("muted"));
  }

  @Test
  void conversationsShowTheCallersOwnMutedFlag() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    assertThat(mutedAsShown(ta, conv)).containsExactly(false, false);

    String path = "/v1/conversations/" + conv + "/settings";
    assertThat(clients.request(HttpMethod.PUT, path, ta, new JsonObject().put("muted", true)).status()).isEqualTo(204);
    assertThat(mutedAsShown(ta, conv)).containsExactly(true, true);
    assertThat(mutedAsShown(tb, conv)).as("bob's own setting").containsExactly(false, false);

    assertThat(clients.request(HttpMethod.PUT, path, ta, new JsonObject().put("muted", false)).status()).isEqualTo(204);
    assertThat(mutedAsShown(ta, conv)).containsExactly(false, false);
  }

  @Test
  void theTokensEmailIsRememberedAtConnect() throws Exception {
    String dana = user("dana"), erin = user("erin");
    Clients.Response issued = clients.request(HttpMethod.POST, "/v1/dev/token", null,
        new JsonObject().put("user", dana).put("email", dana + "@example.com"));
    assertThat(issued.status()).as(issued.body()).isEqualTo(200);
    assertThat(Await.result(node.node.pushRegistrations().email(dana))).as("not before a connect").isEmpty();

    WsClient ws = clients.online(issued.json().getString("token"), "phone");
    Await.until("dana's email remembered", () -> Await.result(node.node.pushRegistrations().email(dana))
        .equals(Optional.of(dana + "@example.com")), WAIT);
    ws.close();

    // a token without the claim leaves no address; a dev token asked with a bad one is refused
    clients.online(clients.token(erin), "phone").close();
    Clients.Response bad = clients.request(HttpMethod.POST, "/v1/dev/token", null,
        new JsonObject().put("user", erin).put("email", "erin\r\nBcc: x@example.com"));
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.errorCode()).isEqualTo("bad_request");
    assertThat(Await.result(node.node.pushRegistrations().email(erin))).isEmpty();
  }
}
