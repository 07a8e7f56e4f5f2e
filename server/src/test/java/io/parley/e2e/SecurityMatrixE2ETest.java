package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.gateway.Auth;
import io.parley.protocol.ClientFrame;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The security matrix (issue 18): every HTTP route the gateway serves and every WebSocket frame op,
 * against missing and forged tokens (expired, wrongly signed, {@code alg: none}, a payload swapped
 * under another user's signature), another user's token, a non-member and a member who was removed.
 * Each cell gets the code docs/protocol.md gives it (401 {@code unauthorized}; 403 {@code not_member}
 * or {@code forbidden}; 404 {@code not_found}; the same codes in {@code error} frames), and no
 * answer to a refused caller carries a message body, a conversation name or a member list it may
 * not see, nor does its socket receive any of the conversation's traffic. An expired token cannot
 * open a connection, and an open one is closed (1008) once its token expires.
 *
 * <p>Table-driven: {@link #ROUTES} names every route the running gateway lists
 * ({@code GatewayVerticle.routes()}) and {@link #OPS} every {@link ClientFrame} type, and a test
 * fails when either side has one the other lacks, so a new route or op cannot go untested.
 * The protocol tells {@code not_member} (403) from {@code not_found} (404) on purpose, so the
 * matrix checks both answers rather than one shared one.
 */
class SecurityMatrixE2ETest {
  static final String SECRET = "a-security-matrix-secret-of-32-bytes";
  static final String OTHER_SECRET = "not-the-servers-secret-but-32-bytes!!";

  static final String OWNER = "sm-owner";
  static final String MEMBER = "sm-member";
  static final String OUTSIDER = "sm-outsider";
  static final String REMOVED = "sm-removed";
  /** What a refused caller must never see: the group's name and the bodies of its and the DM's messages. */
  static final String GROUP_NAME = "sm-secret-group-name";
  static final String GROUP_BODY = "sm-secret-body-in-group";
  static final String REMOVED_BODY = "sm-secret-body-of-removed";
  static final String DM_BODY = "sm-secret-body-in-dm";
  static final String DEVICE = "sm-phone";

  /** How a route decides who may use it. */
  enum Access {
    /** no token needed; answers nothing private */
    PUBLIC,
    /** a handler every request on a path passes (body parsing, authentication, errors, not found) */
    FILTER,
    /** any valid token; acts on the caller's own data only */
    USER,
    /** a valid token of a member of the conversation in the path */
    MEMBER
  }

  /** A request: method, path and JSON body (null: none). */
  record Req(HttpMethod method, String path, Object body) {}

  /**
   * One route: how it is guarded, and the request that exercises it for a caller ({@code me}) and
   * a conversation id ({@code conv}); null for filters.
   */
  record Route(Access access, RouteRequest request) {}

  @FunctionalInterface
  interface RouteRequest {
    Req of(String me, String conv);
  }

  static final Map<String, Route> ROUTES = new LinkedHashMap<>();

  static {
    ROUTES.put("GET /v1/ws", new Route(Access.USER, null)); // the upgrade: tested by the handshake cells
    ROUTES.put("GET /health/live", new Route(Access.PUBLIC, (me, conv) -> new Req(HttpMethod.GET, "/health/live", null)));
    ROUTES.put("GET /health/ready", new Route(Access.PUBLIC, (me, conv) -> new Req(HttpMethod.GET, "/health/ready", null)));
    ROUTES.put("GET /health/fanout", new Route(Access.PUBLIC, (me, conv) -> new Req(HttpMethod.GET, "/health/fanout", null)));
    ROUTES.put("* /v1/*", new Route(Access.FILTER, null)); // body handler and the /v1 failure handler
    ROUTES.put("POST /v1/dev/token", new Route(Access.PUBLIC,
        (me, conv) -> new Req(HttpMethod.POST, "/v1/dev/token", new JsonObject().put("user", "sm-dev"))));
    ROUTES.put("* /v1/conversations*", new Route(Access.FILTER, null)); // authentication
    ROUTES.put("POST /v1/conversations", new Route(Access.USER, (me, conv) -> new Req(HttpMethod.POST, "/v1/conversations",
        new JsonObject().put("type", "group").put("name", "mine").put("members", new JsonArray().add(MEMBER)))));
    ROUTES.put("GET /v1/conversations", new Route(Access.USER, (me, conv) -> new Req(HttpMethod.GET, "/v1/conversations", null)));
    ROUTES.put("GET /v1/conversations/:id", new Route(Access.MEMBER,
        (me, conv) -> new Req(HttpMethod.GET, "/v1/conversations/" + conv, null)));
    ROUTES.put("GET /v1/conversations/:id/messages", new Route(Access.MEMBER,
        (me, conv) -> new Req(HttpMethod.GET, "/v1/conversations/" + conv + "/messages", null)));
    // a refused caller tries to add itself back
    ROUTES.put("POST /v1/conversations/:id/members", new Route(Access.MEMBER, (me, conv) -> new Req(HttpMethod.POST,
        "/v1/conversations/" + conv + "/members", new JsonObject().put("users", new JsonArray().add(me)))));
    // a refused caller tries to remove a member
    ROUTES.put("DELETE /v1/conversations/:id/members/:user", new Route(Access.MEMBER,
        (me, conv) -> new Req(HttpMethod.DELETE, "/v1/conversations/" + conv + "/members/" + MEMBER, null)));
    ROUTES.put("PUT /v1/conversations/:id/settings", new Route(Access.MEMBER, (me, conv) -> new Req(HttpMethod.PUT,
        "/v1/conversations/" + conv + "/settings", new JsonObject().put("muted", true))));
    ROUTES.put("GET /v1/push/webpush-key", new Route(Access.PUBLIC,
        (me, conv) -> new Req(HttpMethod.GET, "/v1/push/webpush-key", null)));
    ROUTES.put("* /v1/devices*", new Route(Access.FILTER, null)); // authentication
    ROUTES.put("PUT /v1/devices/:device/push", new Route(Access.USER,
        (me, conv) -> new Req(HttpMethod.PUT, "/v1/devices/" + DEVICE + "/push", webPush(me))));
    ROUTES.put("DELETE /v1/devices/:device/push", new Route(Access.USER,
        (me, conv) -> new Req(HttpMethod.DELETE, "/v1/devices/" + DEVICE + "/push", null)));
    ROUTES.put("GET /v1/devices", new Route(Access.USER, (me, conv) -> new Req(HttpMethod.GET, "/v1/devices", null)));
    // the web app's static files (WebApp): the same for everybody, no data
    ROUTES.put("GET /", new Route(Access.PUBLIC, (me, conv) -> new Req(HttpMethod.GET, "/", null)));
    ROUTES.put("GET /app/*", new Route(Access.PUBLIC, (me, conv) -> new Req(HttpMethod.GET, "/app/app.js", null)));
    ROUTES.put("GET /sdk/*", new Route(Access.PUBLIC, (me, conv) -> new Req(HttpMethod.GET, "/sdk/index.js", null)));
    ROUTES.put("* (any)", new Route(Access.FILTER, null)); // not found
  }

  /**
   * Every client frame type: the frame that exercises it in a conversation, or null for an op that
   * names no conversation (what it may reach is said beside it).
   */
  static final Map<Class<?>, Function<String, JsonObject>> OPS = new LinkedHashMap<>();
  /** A server_id of the group, for the ops that name one. */
  static String groupServerId;

  static {
    OPS.put(ClientFrame.Send.class, conv -> new JsonObject().put("op", "send").put("msg_id", "sm-try-" + conv)
        .put("conv", conv).put("body", "let me in"));
    OPS.put(ClientFrame.Delivered.class, conv -> new JsonObject().put("op", "delivered").put("conv", conv)
        .put("server_id", groupServerId));
    OPS.put(ClientFrame.Read.class, conv -> new JsonObject().put("op", "read").put("conv", conv).put("server_id", groupServerId));
    OPS.put(ClientFrame.Typing.class, conv -> new JsonObject().put("op", "typing").put("conv", conv));
    OPS.put(ClientFrame.Sync.class, conv -> new JsonObject().put("op", "sync").put("convs", new JsonObject().put(conv, "0")));
    // presence is any user's to watch (docs/protocol.md: no contact list); it reveals no conversation
    OPS.put(ClientFrame.PresenceSub.class, null);
    OPS.put(ClientFrame.Ping.class, null);
  }

  /** The tokens that must not authenticate anyone, each claiming to be the owner. */
  enum BadToken {
    NONE, GARBAGE, EXPIRED, BAD_SIGNATURE, ALG_NONE, ALG_NONE_WITH_SIGNATURE, SWAPPED_PAYLOAD, WRONG_ALG;

    /** The Authorization header's value, null for none. */
    String header() {
      long future = System.currentTimeMillis() / 1000 + 600;
      JsonObject owner = new JsonObject().put("sub", OWNER).put("exp", future);
      JsonObject hs256 = new JsonObject().put("alg", "HS256").put("typ", "JWT");
      String token = switch (this) {
        case NONE -> null;
        case GARBAGE -> "not.a.jwt";
        case EXPIRED -> jwt(hs256, owner.copy().put("exp", future - 1200), SECRET, "HmacSHA256");
        case BAD_SIGNATURE -> jwt(hs256, owner, OTHER_SECRET, "HmacSHA256");
        case ALG_NONE -> jwt(new JsonObject().put("alg", "none").put("typ", "JWT"), owner, null, null);
        case ALG_NONE_WITH_SIGNATURE -> {
          String none = jwt(new JsonObject().put("alg", "none").put("typ", "JWT"), owner, null, null);
          String signed = jwt(hs256, owner, SECRET, "HmacSHA256");
          yield none + signed.substring(signed.lastIndexOf('.') + 1);
        }
        case SWAPPED_PAYLOAD -> {
          // the outsider's genuine token with the payload replaced by the owner's
          String[] outsider = jwt(hs256, new JsonObject().put("sub", OUTSIDER).put("exp", future), SECRET, "HmacSHA256").split("\\.");
          String[] forged = jwt(hs256, owner, null, null).split("\\.", -1);
          yield outsider[0] + "." + forged[1] + "." + outsider[2];
        }
        case WRONG_ALG -> jwt(new JsonObject().put("alg", "HS512").put("typ", "JWT"), owner, SECRET, "HmacSHA512");
      };
      return token == null ? null : "Bearer " + token;
    }
  }

  @TempDir
  static Path dir;
  static TestNode node;
  static Clients clients;
  static Auth auth;
  static final Map<String, String> tokens = new LinkedHashMap<>();
  static String group;
  static String dm;
  /** A conversation id that exists nowhere: the group's with other low bits (ids are unique). */
  static String missing;

  @BeforeAll
  static void start() {
    node = TestNode.start(dir, Map.of("PARLEY_JWT_SECRET", SECRET));
    clients = new Clients(node.port);
    auth = new Auth(node.node.vertx(), SECRET);
    for (String u : List.of(OWNER, MEMBER, OUTSIDER, REMOVED)) {
      tokens.put(u, auth.issue(u, 3600));
    }
    Clients.Response g = clients.request(HttpMethod.POST, "/v1/conversations", tokens.get(OWNER), new JsonObject()
        .put("type", "group").put("name", GROUP_NAME).put("members", new JsonArray().add(MEMBER).add(REMOVED)));
    assertThat(g.status()).as(g.body()).isEqualTo(201);
    group = g.json().getString("id");
    dm = clients.dm(tokens.get(OWNER), MEMBER);
    missing = Long.toString(Long.parseLong(group) + 3);

    WsClient owner = clients.connect(tokens.get(OWNER), "setup");
    JsonObject ack = owner.sendMsg("sm-1", group, GROUP_BODY);
    assertThat(ack.getString("op")).as(ack.encode()).isEqualTo("ack");
    groupServerId = ack.getString("server_id");
    assertThat(owner.sendMsg("sm-2", dm, DM_BODY).getString("op")).isEqualTo("ack");
    WsClient removed = clients.connect(tokens.get(REMOVED), "setup");
    assertThat(removed.sendMsg("sm-r1", group, REMOVED_BODY).getString("op")).isEqualTo("ack");
    removed.close();
    owner.close();
    Clients.Response out = clients.request(HttpMethod.DELETE, "/v1/conversations/" + group + "/members/" + REMOVED,
        tokens.get(OWNER), null);
    assertThat(out.status()).as(out.body()).isEqualTo(204);
    Clients.Response reg = clients.request(HttpMethod.PUT, "/v1/devices/" + DEVICE + "/push", tokens.get(OWNER), webPush(OWNER));
    assertThat(reg.status()).as(reg.body()).isEqualTo(204);
  }

  @AfterAll
  static void stop() {
    clients.close();
    node.close();
  }

  // --- the tables against the server ------------------------------------------------------------

  @Test
  void everyRouteTheGatewayServesIsInTheTable() {
    Set<String> served = new LinkedHashSet<>(node.node.httpRoutes());
    assertThat(served).as("routes served (left) vs the matrix's table: add a new route to ROUTES with its access")
        .containsExactlyInAnyOrderElementsOf(ROUTES.keySet());
  }

  @Test
  void everyFrameTypeIsInTheTable() {
    assertThat(ClientFrame.class.getPermittedSubclasses())
        .as("client frame types vs the matrix's table: add a new op to OPS")
        .containsExactlyInAnyOrderElementsOf(OPS.keySet());
  }

  // --- tokens ---------------------------------------------------------------------------------------

  @Test
  void everyRouteThatNeedsATokenAnswersMissingOrForgedOnesWith401() {
    List<String> cells = new ArrayList<>();
    for (Map.Entry<String, Route> e : ROUTES.entrySet()) {
      Route route = e.getValue();
      if (route.request() == null || route.access() == Access.PUBLIC || route.access() == Access.FILTER) {
        continue;
      }
      Req req = route.request().of(OWNER, group);
      for (BadToken t : BadToken.values()) {
        Clients.Response r = requestWithHeader(req, t.header());
        assertThat(r.status()).as("%s with %s: %s", e.getKey(), t, r.body()).isEqualTo(401);
        assertThat(r.errorCode()).as("%s with %s", e.getKey(), t).isEqualTo("unauthorized");
        assertNothingLeaked(e.getKey() + " with " + t, r.body(), null);
        cells.add(e.getKey() + " × " + t);
      }
    }
    assertThat(cells).hasSize(10 * BadToken.values().length);
    // nothing happened under a forged identity: the owner's device is still registered, the group unchanged
    assertThat(clients.request(HttpMethod.GET, "/v1/devices", tokens.get(OWNER), null).body()).contains(DEVICE);
    assertThat(members(group)).containsExactlyInAnyOrder(OWNER, MEMBER);
  }

  @Test
  void theWebSocketHandshakeAnswersMissingOrForgedTokensWith401BeforeAnyUpgrade() {
    for (BadToken t : BadToken.values()) {
      UpgradeRejectedException refused = clients.refusedUpgrade("/v1/ws?device=sm", t.header());
      assertThat(refused.getStatus()).as("handshake with %s", t).isEqualTo(401);
      JsonObject body = new JsonObject(refused.getBody());
      assertThat(body.getJsonObject("error").getString("code")).as("handshake with %s", t).isEqualTo("unauthorized");
      assertThat(refused.getHeaders().get("Sec-WebSocket-Accept")).isNull();
      assertNothingLeaked("handshake with " + t, body.encode(), null);
    }
    // the query-parameter form too
    UpgradeRejectedException viaQuery = clients.refusedUpgrade("/v1/ws?access_token="
        + BadToken.ALG_NONE.header().substring("Bearer ".length()), null);
    assertThat(viaQuery.getStatus()).isEqualTo(401);
  }

  @Test
  void publicRoutesNeedNoTokenAndShowNothingPrivate() {
    for (Map.Entry<String, Route> e : ROUTES.entrySet()) {
      if (e.getValue().access() != Access.PUBLIC) {
        continue;
      }
      Clients.Response r = requestWithHeader(e.getValue().request().of(null, null), null);
      assertThat(r.status()).as("%s: %s", e.getKey(), r.body()).isEqualTo(200);
      assertNothingLeaked(e.getKey(), r.body(), null);
    }
    Clients.Response unknown = clients.request(HttpMethod.GET, "/v1/nothing-here", null, null);
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.errorCode()).isEqualTo("not_found");
  }

  // --- conversations: non-members, removed members, no such conversation ---------------------------

  @Test
  void conversationRoutesRefuseNonMembersAndRemovedMembersAndKnowNoMissingConversation() {
    int cells = 0;
    for (Map.Entry<String, Route> e : ROUTES.entrySet()) {
      if (e.getValue().access() != Access.MEMBER) {
        continue;
      }
      for (String caller : List.of(OUTSIDER, REMOVED)) {
        Clients.Response r = request(e.getValue().request().of(caller, group), tokens.get(caller));
        assertThat(r.status()).as("%s as %s: %s", e.getKey(), caller, r.body()).isEqualTo(403);
        assertThat(r.errorCode()).as("%s as %s", e.getKey(), caller).isEqualTo("not_member");
        assertNothingLeaked(e.getKey() + " as " + caller, r.body(), caller);
        cells++;
      }
      Clients.Response r = request(e.getValue().request().of(OWNER, missing), tokens.get(OWNER));
      assertThat(r.status()).as("%s of a missing conversation: %s", e.getKey(), r.body()).isEqualTo(404);
      assertThat(r.errorCode()).isEqualTo("not_found");
      assertNothingLeaked(e.getKey() + " of a missing conversation", r.body(), OWNER);
      cells++;
    }
    assertThat(cells).isEqualTo(5 * 3);
    assertThat(members(group)).as("no refused caller added itself or removed anyone").containsExactlyInAnyOrder(OWNER, MEMBER);
    Clients.Response history = clients.request(HttpMethod.GET, "/v1/conversations/" + group + "/messages", tokens.get(MEMBER), null);
    assertThat(history.body()).as("the member still reads it all").contains(GROUP_BODY, REMOVED_BODY);
  }

  @Test
  void anotherUsersTokenActsOnlyOnItsOwnUsersData() {
    // a member who does not own the group may not remove another member
    Clients.Response remove = clients.request(HttpMethod.DELETE, "/v1/conversations/" + group + "/members/" + OWNER,
        tokens.get(MEMBER), null);
    assertThat(remove.status()).as(remove.body()).isEqualTo(403);
    assertThat(remove.errorCode()).isEqualTo("forbidden");
    assertThat(members(group)).containsExactlyInAnyOrder(OWNER, MEMBER);

    // conversations: each caller lists its own only; a removed member no longer sees the group
    for (String caller : List.of(OUTSIDER, REMOVED)) {
      Clients.Response list = clients.request(HttpMethod.GET, "/v1/conversations", tokens.get(caller), null);
      assertThat(list.status()).isEqualTo(200);
      List<String> ids = list.json().getJsonArray("conversations").stream()
          .map(o -> ((JsonObject) o).getString("id")).toList();
      assertThat(ids).as("%s's conversations", caller).doesNotContain(group, dm);
      assertNothingLeaked("GET /v1/conversations as " + caller, list.body(), caller);
    }
    // a DM with the owner is a conversation of the outsider's own, not the owner's DM with the member
    Clients.Response own = clients.request(HttpMethod.POST, "/v1/conversations", tokens.get(OUTSIDER),
        new JsonObject().put("type", "dm").put("members", new JsonArray().add(OWNER)));
    assertThat(own.status()).as(own.body()).isIn(200, 201);
    assertThat(own.json().getString("id")).isNotIn(group, dm);
    assertThat(own.json().getJsonArray("members")).containsExactlyInAnyOrder(OUTSIDER, OWNER);
    assertNothingLeaked("a DM of the outsider's", own.body(), OUTSIDER + "|" + OWNER);

    // devices: the device path names the caller's own device; the owner's registration stays
    Clients.Response devices = clients.request(HttpMethod.GET, "/v1/devices", tokens.get(OUTSIDER), null);
    assertThat(devices.json().getJsonArray("devices")).as(devices.body()).isEmpty();
    Clients.Response del = clients.request(HttpMethod.DELETE, "/v1/devices/" + DEVICE + "/push", tokens.get(OUTSIDER), null);
    assertThat(del.status()).isEqualTo(204);
    Clients.Response ownerDevices = clients.request(HttpMethod.GET, "/v1/devices", tokens.get(OWNER), null);
    assertThat(ownerDevices.json().getJsonArray("devices").stream().map(o -> ((JsonObject) o).getString("id")))
        .as(ownerDevices.body()).containsExactly(DEVICE);
  }

  // --- WebSocket ops ---------------------------------------------------------------------------------

  @Test
  void conversationOpsRefuseNonMembersAndRemovedMembersAndKnowNoMissingConversation() {
    WsClient owner = clients.connect(tokens.get(OWNER), "watch-ops");
    int cells = 0;
    for (String caller : List.of(OUTSIDER, REMOVED, OWNER)) {
      String conv = caller.equals(OWNER) ? missing : group;
      String expected = caller.equals(OWNER) ? "not_found" : "not_member";
      WsClient ws = clients.connect(tokens.get(caller), "ops");
      for (Map.Entry<Class<?>, Function<String, JsonObject>> op : OPS.entrySet()) {
        if (op.getValue() == null) {
          continue;
        }
        JsonObject frame = op.getValue().apply(conv);
        ws.send(frame);
        String cell = op.getKey().getSimpleName() + " as " + caller + " in " + conv;
        JsonObject error = ws.next("error"); // any other frame first (a msg, a synced) fails here
        assertThat(error.getString("code")).as(cell + ": " + error.encode()).isEqualTo(expected);
        assertThat(error.getString("conv")).as(cell).isEqualTo(conv);
        if (op.getKey() == ClientFrame.Send.class) {
          assertThat(error.getString("msg_id")).as(cell).isEqualTo(frame.getString("msg_id"));
        }
        assertNothingLeaked(cell, error.encode(), caller);
        cells++;
      }
      assertThat(ws.drainWithPing()).as("frames after the errors to " + caller).isEmpty();
      ws.close();
    }
    assertThat(cells).isEqualTo(5 * 3);
    // none of it reached the group: no typing, receipt or message at the owner's socket
    assertThat(owner.drainWithPing()).isEmpty();
    owner.close();
    Clients.Response history = clients.request(HttpMethod.GET, "/v1/conversations/" + group + "/messages", tokens.get(OWNER), null);
    assertThat(history.json().getJsonArray("messages").stream().map(o -> ((JsonObject) o).getString("from")))
        .as("nothing stored from a refused send").doesNotContain(OUTSIDER).containsOnly(OWNER, REMOVED);
  }

  @Test
  void aMemberCannotSendOrReceiptAsAnotherUser() {
    WsClient owner = clients.connect(tokens.get(OWNER), "spoof");
    WsClient member = clients.connect(tokens.get(MEMBER), "spoof");
    JsonObject ack = member.sendMsg("sm-spoof-1", dm, "as the owner?");
    assertThat(ack.getString("op")).as(ack.encode()).isEqualTo("ack");
    member.send(new JsonObject().put("op", "send").put("msg_id", "sm-spoof-2").put("conv", dm).put("body", "again?")
        .put("from", OWNER).put("user", OWNER));
    assertThat(member.next("ack").getString("msg_id")).isEqualTo("sm-spoof-2");
    member.send(new JsonObject().put("op", "read").put("conv", dm).put("server_id", ack.getString("server_id"))
        .put("user", OWNER));
    List<JsonObject> got = new ArrayList<>();
    // the receipt and the second message travel separately: wait for all three
    owner.until(f -> got.add(f) && got.stream().filter(g -> "msg".equals(g.getString("op"))).count() == 2
        && got.stream().anyMatch(g -> "receipt".equals(g.getString("op"))));
    assertThat(got).filteredOn(f -> "msg".equals(f.getString("op"))).extracting(f -> f.getString("from"))
        .containsExactly(MEMBER, MEMBER);
    assertThat(got).filteredOn(f -> "receipt".equals(f.getString("op"))).extracting(f -> f.getString("user"))
        .as("the receipt is the token's user's").containsExactly(MEMBER);
    owner.close();
    member.close();
  }

  @Test
  void aConnectionIsClosedWith1008WhenItsTokenExpires() {
    long exp = System.currentTimeMillis() / 1000 + 2;
    String shortLived = jwt(new JsonObject().put("alg", "HS256").put("typ", "JWT"),
        new JsonObject().put("sub", MEMBER).put("exp", exp), SECRET, "HmacSHA256");
    WsClient expiring = clients.connect(shortLived, "expiring");
    WsClient lasting = clients.connect(tokens.get(MEMBER), "lasting");
    expiring.send(new JsonObject().put("op", "ping"));
    assertThat(expiring.next("pong")).as("usable while the token is valid").isNotNull();
    assertThat(expiring.awaitClose()).isEqualTo((short) 1008);
    assertThat(System.currentTimeMillis()).as("not closed before exp").isGreaterThanOrEqualTo(exp * 1000);
    assertThat(lasting.drainWithPing()).as("a connection with a valid token stays").isEmpty();
    lasting.close();
  }

  @Test
  void serverOpsSentByAClientAreUnknownOps() {
    WsClient ws = clients.connect(tokens.get(OUTSIDER), "server-ops");
    for (String op : List.of("ack", "msg", "receipt", "presence", "synced", "error", "pong")) {
      ws.send(new JsonObject().put("op", op).put("conv", group).put("msg_id", "sm-1").put("server_id", groupServerId));
      JsonObject error = ws.next("error");
      assertThat(error.getString("code")).as(op).isEqualTo("unknown_op");
      assertNothingLeaked("client op " + op, error.encode(), OUTSIDER);
    }
    ws.close();
  }

  @Test
  void aRemovedMembersOpenSocketGetsNoneOfTheConversationsTrafficWhileAMemberDoes() {
    WsClient removed = clients.connect(tokens.get(REMOVED), "live");
    WsClient member = clients.connect(tokens.get(MEMBER), "live");
    WsClient owner = clients.connect(tokens.get(OWNER), "live");
    owner.send(new JsonObject().put("op", "typing").put("conv", group));
    JsonObject ack = owner.sendMsg("sm-live-1", group, "sm-secret-live-body");
    assertThat(ack.getString("op")).as(ack.encode()).isEqualTo("ack");
    // the member gets both (the positive control of the check below) ...
    Set<String> seen = new LinkedHashSet<>();
    List<JsonObject> toMember = member.until(f -> seen.add(f.getString("op")) && seen.containsAll(List.of("msg", "typing")));
    assertThat(toMember).anySatisfy(f -> assertThat(f.getString("body")).isEqualTo("sm-secret-live-body"));
    member.send(new JsonObject().put("op", "read").put("conv", group).put("server_id", ack.getString("server_id")));
    assertThat(owner.until(f -> "receipt".equals(f.getString("op")))).isNotEmpty();
    // ... the removed member, connected all along, none of them
    List<JsonObject> toRemoved = removed.drainWithPing();
    assertThat(toRemoved).as("frames to the removed member").isEmpty();
    removed.close();
    member.close();
    owner.close();
  }

  // --- helpers ---------------------------------------------------------------------------------------

  /**
   * Fails when a refused caller's answer shows what only members may see: the group's name, a
   * message body, or a user id other than the caller's own ({@code caller}: one id or several
   * separated by {@code |}; null: none).
   */
  static void assertNothingLeaked(String cell, String body, String caller) {
    assertThat(body).as(cell).doesNotContain(GROUP_NAME, GROUP_BODY, REMOVED_BODY, DM_BODY, "sm-secret");
    Set<String> allowed = caller == null ? Set.of() : Set.of(caller.split("\\|"));
    for (String u : List.of(OWNER, MEMBER, OUTSIDER, REMOVED)) {
      if (!allowed.contains(u)) {
        assertThat(body).as("%s names %s", cell, u).doesNotContain("\"" + u + "\"");
      }
    }
  }

  static List<String> members(String conv) {
    Clients.Response r = clients.request(HttpMethod.GET, "/v1/conversations/" + conv, tokens.get(OWNER), null);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json().getJsonArray("members").stream().map(Object::toString).toList();
  }

  static Clients.Response request(Req req, String token) {
    return clients.request(req.method(), req.path(), token, req.body());
  }

  /** A request with {@code authorization} as the whole Authorization header (null: none). */
  static Clients.Response requestWithHeader(Req req, String authorization) {
    if (authorization == null) {
      return clients.request(req.method(), req.path(), null, req.body());
    }
    return clients.request(req.method(), req.path(), authorization.substring("Bearer ".length()), req.body());
  }

  /** A Web Push registration: the server's own VAPID key is a valid P-256 point to stand for the browser's. */
  static JsonObject webPush(String user) {
    Clients.Response key = clients.request(HttpMethod.GET, "/v1/push/webpush-key", null, null);
    return new JsonObject().put("provider", "webpush").put("subscription", new JsonObject()
        .put("endpoint", "http://127.0.0.1:9/" + user)
        .put("keys", new JsonObject().put("p256dh", key.json().getString("public_key"))
            .put("auth", Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[16]))));
  }

  /** A JWT of {@code header} and {@code claims}, signed with {@code secret} by {@code macAlg}; unsigned (empty signature) when secret is null. */
  static String jwt(JsonObject header, JsonObject claims, String secret, String macAlg) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String signingInput = b64.encodeToString(header.encode().getBytes(StandardCharsets.UTF_8)) + "."
        + b64.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8));
    if (secret == null) {
      return signingInput + ".";
    }
    try {
      Mac mac = Mac.getInstance(macAlg);
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), macAlg));
      return signingInput + "." + b64.encodeToString(mac.doFinal(signingInput.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
