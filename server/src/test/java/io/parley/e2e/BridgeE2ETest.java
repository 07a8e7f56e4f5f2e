package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.testing.Await;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The event-bus bridge end to end over real TCP ({@link BridgeClient}) against a started node with
 * WebSocket clients: allow-listed requests work, other addresses, a wrong or missing token and
 * malformed frames get {@code err} frames and nothing else, a bad length closes only that
 * connection, system messages are delivered like any message, disconnect closes with 4003,
 * takedown removes a message from history and sync and tells connected members, the three
 * streams carry their events, and a bridge client that never reads is closed while WebSocket
 * delivery goes on.
 */
class BridgeE2ETest {
  private static final String TOKEN = "bridge-test-token-0123456789";
  @TempDir
  static Path dir;
  static TestNode node;
  static Clients clients;
  static int bridgePort;
  static NetClient net;
  static final AtomicInteger SEQ = new AtomicInteger();

  @BeforeAll
  static void start() throws IOException {
    int port = TestNode.freePort();
    node = TestNode.start(dir, Map.of("PARLEY_BRIDGE_PORT", Integer.toString(port), "PARLEY_BRIDGE_TOKEN", TOKEN,
        "PARLEY_BRIDGE_INCLUDE_BODIES", "true", "PARLEY_BRIDGE_WRITE_QUEUE_MAX_BYTES", "65536"));
    bridgePort = node.node.bridgePort();
    assertThat(bridgePort).isEqualTo(port);
    clients = new Clients(node.port);
    net = clients.vertx.createNetClient();
  }

  @AfterAll
  static void stop() {
    Await.result(net.close());
    clients.close();
    node.close();
  }

  static String user(String name) {
    return name + "-" + SEQ.incrementAndGet();
  }

  private BridgeClient bridge() {
    return BridgeClient.connect(net, clients.failures, bridgePort, TOKEN);
  }

  private BridgeClient bridge(String token) {
    return BridgeClient.connect(net, clients.failures, bridgePort, token);
  }

  private static JsonObject body(JsonObject reply) {
    assertThat(reply.getString("type")).as("%s", reply).isEqualTo("message");
    return reply.getJsonObject("body");
  }

  // ---- allow-lists and authentication ----

  /** A bridge port without a token: the node starts, the bridge does not (nothing listens there). */
  @Test
  void withoutATokenTheBridgeStaysOff(@TempDir Path other) throws IOException {
    int port = TestNode.freePort();
    try (TestNode n = TestNode.start(other, Map.of("PARLEY_BRIDGE_PORT", Integer.toString(port)))) {
      assertThat(n.node.bridgePort()).isZero();
      Throwable refused = Await.failure(net.connect(port, "127.0.0.1"));
      assertThat(refused).hasMessageContaining("Connection refused");
    }
  }

  @Test
  void allowListedRequestsAnswer() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice);
    String conv = clients.dm(ta, bob);
    WsClient phone = clients.online(ta, "phone");
    BridgeClient b = bridge();

    JsonObject c = body(b.request("parley.bridge.conversation", new JsonObject().put("conv", conv))).getJsonObject("conversation");
    assertThat(c.getString("id")).isEqualTo(conv);
    assertThat(c.getString("type")).isEqualTo("dm");
    assertThat(c.getJsonArray("members").getList()).containsExactlyInAnyOrder(alice, bob);

    JsonObject d = body(b.request("parley.bridge.devices", new JsonObject().put("user", alice)));
    assertThat(d.getBoolean("online")).isTrue();
    assertThat(d.getJsonArray("devices")).hasSize(1);
    assertThat(d.getJsonArray("devices").getJsonObject(0).getString("device")).isEqualTo("phone");
    assertThat(body(b.request("parley.bridge.devices", new JsonObject().put("user", bob))).getBoolean("online")).isFalse();

    JsonObject missing = b.request("parley.bridge.conversation", new JsonObject().put("conv", "999999999"));
    assertThat(missing.getString("type")).isEqualTo("err");
    assertThat(missing.getString("code")).isEqualTo("not_found");
    JsonObject bad = b.request("parley.bridge.devices", new JsonObject().put("user", "not a user!"));
    assertThat(bad.getString("code")).isEqualTo("bad_request");
    phone.close();
    b.close();
  }

  @Test
  void otherAddressesAreDeniedWithAnErrorAndNothingElse() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    WsClient bobPhone = clients.online(tb, "phone");
    BridgeClient b = bridge();
    // Parley's internal addresses: never reachable
    JsonObject send = b.request("parley.routing.send", new JsonObject().put("conv", conv));
    assertThat(send).isEqualTo(new JsonObject().put("type", "err").put("message", "access_denied"));
    b.send(new JsonObject().put("type", "register").put("address", "parley.presence." + bob));
    assertThat(b.next()).isEqualTo(new JsonObject().put("type", "err").put("message", "access_denied"));
    b.send(new JsonObject().put("type", "register").put("address", "parley.bridge.post"));
    assertThat(b.next().getString("message")).isEqualTo("access_denied");
    b.send(new JsonObject().put("type", "publish").put("address", "parley.bridge.post")
        .put("body", new JsonObject().put("conv", conv).put("body", "published")));
    assertThat(b.next().getString("message")).isEqualTo("access_denied");
    b.send(new JsonObject().put("type", "send").put("address", "parley.inbox.all").put("body", new JsonObject()));
    assertThat(b.next().getString("message")).isEqualTo("access_denied");
    b.ping();
    assertThat(bobPhone.drainWithPing()).as("nothing reached the members").isEmpty();
    b.close();
  }

  @Test
  void aWrongOrMissingTokenGetsUnauthorizedOnEveryFrame() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    WsClient bobPhone = clients.online(tb, "phone");
    JsonObject post = new JsonObject().put("conv", conv).put("body", "not from an operator");
    for (String token : new String[] {"wrong-token-0123456789abcdef", TOKEN.substring(0, TOKEN.length() - 1), "", null}) {
      BridgeClient b = bridge(token);
      JsonObject err = b.request("parley.bridge.post", post.copy());
      assertThat(err).as("token %s", token).isEqualTo(new JsonObject().put("type", "err").put("message", "unauthorized"));
      b.send(new JsonObject().put("type", "ping"));
      assertThat(b.next().getString("message")).as("a ping too").isEqualTo("unauthorized");
      b.send(new JsonObject().put("type", "register").put("address", "parley.bridge.events.messages"));
      assertThat(b.next().getString("message")).isEqualTo("unauthorized");
      b.close();
    }
    // a token in the body, not the headers, does not count
    BridgeClient b = bridge(null);
    b.send(new JsonObject().put("type", "ping").put("body", new JsonObject().put("token", TOKEN)));
    assertThat(b.next().getString("message")).isEqualTo("unauthorized");
    // authenticated once is not authenticated for the next frame
    BridgeClient good = bridge();
    good.ping();
    good.writeRaw(new JsonObject().put("type", "ping").encode().getBytes(StandardCharsets.UTF_8));
    assertThat(good.next().getString("message")).isEqualTo("unauthorized");
    assertThat(bobPhone.drainWithPing()).as("nothing was posted").isEmpty();
    b.close();
    good.close();
  }

  // ---- malformed frames ----

  @Test
  void malformedJsonGetsAnErrorAndTheConnectionGoesOn() {
    BridgeClient b = bridge();
    b.writeRaw("{not json".getBytes(StandardCharsets.UTF_8));
    assertThat(b.next().getString("message")).startsWith("malformed frame");
    b.writeRaw("[1,2,3]".getBytes(StandardCharsets.UTF_8));
    assertThat(b.next().getString("message")).startsWith("malformed frame");
    b.writeRaw(new byte[] {(byte) 0xff, (byte) 0xfe, '{', '}'});
    assertThat(b.next().getString("type")).isEqualTo("err");
    b.send(new JsonObject().put("type", "nonsense").put("address", "parley.bridge.post"));
    assertThat(b.next().getString("message")).isEqualTo("unknown_type");
    b.send(new JsonObject().put("address", "parley.bridge.post"));
    assertThat(b.next().getString("message")).isEqualTo("unknown_type");
    b.send(new JsonObject().put("type", "send"));
    assertThat(b.next().getString("message")).isEqualTo("missing_address");
    JsonObject notObject = new JsonObject().put("type", "send").put("address", "parley.bridge.devices")
        .put("replyAddress", "r-x").put("body", "alice");
    b.send(notObject);
    assertThat(b.next().getString("code")).isEqualTo("bad_request");
    b.ping();
    b.close();
  }

  @Test
  void aFrameLengthOutOfRangeClosesThatConnectionOnlyAndTheBridgeServesTheNext() {
    BridgeClient open = bridge();
    for (int length : new int[] {Integer.MAX_VALUE, 1024 * 1024 + 1, 0, -5}) {
      BridgeClient b = bridge();
      b.writeBytes(Buffer.buffer().appendInt(length).appendString("{\"type\":\"ping\"}"));
      JsonObject err = b.next();
      assertThat(err.getString("type")).isEqualTo("err");
      assertThat(err.getString("message")).contains("out of range");
      b.awaitClosed();
    }
    // truncated: a length, part of the frame, then the client goes away
    BridgeClient truncated = bridge();
    truncated.writeBytes(Buffer.buffer().appendInt(100).appendString("{\"type\":"));
    truncated.close();
    truncated.awaitClosed();
    // a frame split over several writes is still one frame
    BridgeClient split = bridge();
    byte[] ping = new JsonObject().put("type", "ping").put("headers", new JsonObject().put("token", TOKEN)).encode()
        .getBytes(StandardCharsets.UTF_8);
    split.writeBytes(Buffer.buffer().appendInt(ping.length).appendBytes(ping, 0, 5));
    split.writeBytes(Buffer.buffer().appendBytes(ping, 5, ping.length - 5));
    assertThat(split.next().getString("type")).isEqualTo("pong");
    open.ping();
    BridgeClient next = bridge();
    next.ping();
    assertThat(body(next.request("parley.bridge.devices", new JsonObject().put("user", user("carol")))).getBoolean("online"))
        .isFalse();
    open.close();
    split.close();
    next.close();
  }

  // ---- inbound operations ----

  @Test
  void aSystemMessageIsStoredAckedAndDeliveredLikeAnyMessage() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    WsClient a = clients.online(ta, "phone"), bPhone = clients.online(tb, "phone");
    BridgeClient b = bridge();
    JsonObject ack = body(b.request("parley.bridge.post", new JsonObject().put("conv", conv).put("body", "maintenance at 2")
        .put("msg_id", "op-1")));
    assertThat(ack.getString("conv")).isEqualTo(conv);
    assertThat(ack.getString("msg_id")).isEqualTo("op-1");
    assertThat(ack.getString("from")).isEqualTo("parley:system");
    for (WsClient device : List.of(a, bPhone)) {
      JsonObject msg = device.next("msg");
      assertThat(msg.getString("server_id")).isEqualTo(ack.getString("server_id"));
      assertThat(msg.getString("from")).isEqualTo("parley:system");
      assertThat(msg.getString("body")).isEqualTo("maintenance at 2");
    }
    // the same msg_id again: the first message's ids, nothing delivered twice
    JsonObject again = body(b.request("parley.bridge.post", new JsonObject().put("conv", conv).put("body", "maintenance at 2")
        .put("msg_id", "op-1")));
    assertThat(again.getString("server_id")).isEqualTo(ack.getString("server_id"));
    assertThat(a.drainWithPing()).isEmpty();
    Clients.Response history = clients.request(HttpMethod.GET, "/v1/conversations/" + conv + "/messages", ta, null);
    assertThat(history.json().getJsonArray("messages").getJsonObject(0).getString("server_id")).isEqualTo(ack.getString("server_id"));

    assertThat(b.request("parley.bridge.post", new JsonObject().put("conv", "77777777").put("body", "x")).getString("code"))
        .isEqualTo("not_found");
    assertThat(b.request("parley.bridge.post", new JsonObject().put("conv", conv)).getString("code")).isEqualTo("bad_request");
    assertThat(b.request("parley.bridge.post", new JsonObject().put("conv", conv).put("body", "x".repeat(65_537)))
        .getString("code")).isEqualTo("bad_request");
    a.close();
    bPhone.close();
    b.close();
  }

  @Test
  void disconnectClosesEveryDeviceOfTheUserWith4003() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    WsClient a1 = clients.online(ta, "phone"), a2 = clients.online(ta, "laptop"), b1 = clients.online(tb, "phone");
    BridgeClient b = bridge();
    JsonObject r = body(b.request("parley.bridge.disconnect", new JsonObject().put("user", alice)));
    assertThat(r.getInteger("connections")).isEqualTo(2);
    assertThat(a1.awaitClose()).isEqualTo((short) 4003);
    assertThat(a2.awaitClose()).isEqualTo((short) 4003);
    assertThat(b1.drainWithPing()).as("another user's connection stays").isEmpty();
    b1.close();
    b.close();
  }

  @Test
  void takedownRemovesTheMessageFromHistoryAndSyncAndTellsConnectedMembers() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    WsClient a = clients.online(ta, "phone"), bPhone = clients.online(tb, "phone");
    String keep = a.sendMsg("k-1", conv, "fine").getString("server_id");
    String gone = a.sendMsg("k-2", conv, "not fine").getString("server_id");
    bPhone.until(f -> gone.equals(f.getString("server_id")));
    BridgeClient b = bridge();
    JsonObject r = body(b.request("parley.bridge.takedown", new JsonObject().put("conv", conv).put("server_id", gone)));
    assertThat(r.getString("server_id")).isEqualTo(gone);
    assertThat(r.getLong("deleted_at")).isPositive();
    JsonObject deleted = bPhone.next("deleted");
    assertThat(deleted.getString("conv")).isEqualTo(conv);
    assertThat(deleted.getString("server_id")).isEqualTo(gone);
    assertThat(deleted.containsKey("body")).isFalse();

    Clients.Response history = clients.request(HttpMethod.GET, "/v1/conversations/" + conv + "/messages", tb, null);
    List<String> ids = new ArrayList<>();
    history.json().getJsonArray("messages").forEach(m -> ids.add(((JsonObject) m).getString("server_id")));
    assertThat(ids).containsExactly(keep);
    WsClient later = clients.online(tb, "tablet");
    later.send(new JsonObject().put("op", "sync").put("convs", new JsonObject().put(conv, "0")));
    List<JsonObject> synced = later.until(f -> "synced".equals(f.getString("op")));
    assertThat(synced.stream().filter(f -> "msg".equals(f.getString("op"))).map(f -> f.getString("server_id")).toList())
        .containsExactly(keep);
    a.until(f -> "deleted".equals(f.getString("op"))); // the sender is a member too
    // a retry of the taken-down send is still its duplicate: acked with its id, not delivered again
    assertThat(a.sendMsg("k-2", conv, "not fine").getString("server_id")).isEqualTo(gone);
    assertThat(later.drainWithPing()).isEmpty();

    assertThat(b.request("parley.bridge.takedown", new JsonObject().put("conv", conv).put("server_id", "12345"))
        .getString("code")).isEqualTo("not_found");
    a.close();
    bPhone.close();
    later.close();
    b.close();
  }

  // ---- outbound streams ----

  @Test
  void followersGetMessageMembershipAndPresenceEvents() {
    String alice = user("alice"), bob = user("bob"), carol = user("carol");
    String ta = clients.token(alice);
    BridgeClient b = bridge();
    b.register("parley.bridge.events.messages");
    b.register("parley.bridge.events.membership");
    b.register("parley.bridge.events.presence");
    b.ping();

    String conv = clients.group(ta, List.of(bob));
    JsonObject membership = b.event("parley.bridge.events.membership", e -> conv.equals(e.getString("conv")));
    assertThat(membership.getJsonArray("members").getList()).containsExactlyInAnyOrder(alice, bob);
    WsClient a = clients.online(ta, "phone");
    JsonObject presence = b.event("parley.bridge.events.presence", e -> alice.equals(e.getString("user")));
    assertThat(presence.getBoolean("online")).isTrue();
    String id = a.sendMsg("e-1", conv, "héllo").getString("server_id");
    JsonObject stored = b.event("parley.bridge.events.messages", e -> id.equals(e.getString("server_id")));
    assertThat(stored.getString("conv")).isEqualTo(conv);
    assertThat(stored.getString("from")).isEqualTo(alice);
    assertThat(stored.getInteger("size")).isEqualTo("héllo".getBytes(StandardCharsets.UTF_8).length);
    assertThat(stored.getString("body")).as("bridge.include_bodies is on here").isEqualTo("héllo");
    assertThat(stored.getLong("ts")).isPositive();

    clients.request(HttpMethod.POST, "/v1/conversations/" + conv + "/members", ta,
        new JsonObject().put("users", new JsonArray().add(carol)));
    JsonObject added = b.event("parley.bridge.events.membership", e -> conv.equals(e.getString("conv")));
    assertThat(added.getJsonArray("members").getList()).containsExactlyInAnyOrder(alice, bob, carol);
    a.close();
    JsonObject offline = b.event("parley.bridge.events.presence", e -> alice.equals(e.getString("user")));
    assertThat(offline.getBoolean("online")).isFalse();

    // unregistered: no more message events
    b.send(new JsonObject().put("type", "unregister").put("address", "parley.bridge.events.messages"));
    b.ping();
    WsClient a2 = clients.online(ta, "laptop");
    a2.sendMsg("e-2", conv, "unseen");
    b.send(new JsonObject().put("type", "unregister").put("address", "parley.bridge.events.messages"));
    JsonObject f;
    while (!"err".equals((f = b.next()).getString("type"))) {
      assertThat(f.getString("address")).as("no message event after unregister").isNotEqualTo("parley.bridge.events.messages");
    }
    assertThat(f.getString("message")).isEqualTo("unknown_address");
    a2.close();
    b.close();
  }

  @Test
  void aBridgeClientThatNeverReadsIsClosedAndWebSocketDeliveryGoesOn() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    WsClient a = clients.online(ta, "phone"), bPhone = clients.online(tb, "phone");
    long closedBefore = node.node.bridgeSlowConsumersClosed();
    NetClient smallBuffer = clients.vertx.createNetClient(new NetClientOptions().setReceiveBufferSize(4096));
    BridgeClient slow = BridgeClient.connect(smallBuffer, clients.failures, bridgePort, TOKEN);
    slow.register("parley.bridge.events.messages");
    slow.ping();
    slow.pause();
    // 150 messages of 60 kB with their bodies in the events: far more than the socket buffers hold
    String body = "x".repeat(60_000);
    int n = 150;
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      sent.add(a.sendMsg("slow-" + i, conv, body).getString("server_id"));
    }
    List<String> delivered = new ArrayList<>();
    for (JsonObject f : bPhone.until(f -> sent.get(n - 1).equals(f.getString("server_id")))) {
      if ("msg".equals(f.getString("op"))) {
        delivered.add(f.getString("server_id"));
      }
    }
    assertThat(delivered).as("every message delivered to the WebSocket client, in order").isEqualTo(sent);
    Await.until("the slow bridge client closed", () -> node.node.bridgeSlowConsumersClosed() > closedBefore,
        Duration.ofSeconds(15));
    slow.resume();
    slow.awaitClosed();
    // the bridge still serves others
    BridgeClient next = bridge();
    next.ping();
    next.close();
    a.close();
    bPhone.close();
    Await.result(smallBuffer.close());
  }
}
