package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The v1 protocol end to end over real WebSocket and HTTP against a started node: delivery to
 * every device, acks, idempotent retries, order, fan-out to groups of 100, backfill, access rules,
 * and the best-effort signals.
 */
class MessagingE2ETest {
  @TempDir
  static Path dir;
  static TestNode node;
  static Clients clients;
  static final AtomicInteger SEQ = new AtomicInteger();

  @BeforeAll
  static void start() {
    node = TestNode.start(dir, Map.of());
    clients = new Clients(node.port);
  }

  @AfterAll
  static void stop() {
    clients.close();
    node.close();
  }

  /** A fresh user name per test, so tests share the node without sharing state. */
  static String user(String name) {
    return name + "-" + SEQ.incrementAndGet();
  }

  @Test
  void dmReachesEveryDeviceOfBothMembersOnceAndTheSenderIsAcked() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    WsClient a1 = clients.connect(ta, "phone"), a2 = clients.connect(ta, "laptop");
    WsClient b1 = clients.connect(tb, "phone"), b2 = clients.connect(tb, "web");

    a1.send(new JsonObject().put("op", "send").put("msg_id", "m-1").put("conv", conv).put("body", "hi bob")
        .put("media", new JsonArray().add(new JsonObject().put("type", "image").put("url", "https://x/y.png"))));
    JsonObject ack = a1.next("ack");
    assertThat(ack.getString("msg_id")).isEqualTo("m-1");
    assertThat(ack.getString("conv")).isEqualTo(conv);
    assertThat(Long.parseLong(ack.getString("server_id"))).isPositive();
    assertThat(ack.getLong("ts")).isPositive();

    for (WsClient device : List.of(a2, b1, b2)) {
      JsonObject msg = device.next("msg");
      assertThat(msg.getString("server_id")).isEqualTo(ack.getString("server_id"));
      assertThat(msg.getString("from")).isEqualTo(alice);
      assertThat(msg.getString("body")).isEqualTo("hi bob");
      assertThat(msg.getString("msg_id")).isEqualTo("m-1");
      assertThat(msg.getLong("ts")).isEqualTo(ack.getLong("ts"));
      assertThat(msg.getJsonArray("media").getJsonObject(0).getString("url")).isEqualTo("https://x/y.png");
    }
    // a barrier message: anything duplicated earlier would arrive before it
    String barrier = b1.sendMsg("b-1", conv, "barrier").getString("server_id");
    for (WsClient device : List.of(a1, a2, b2)) {
      List<JsonObject> got = device.until(f -> barrier.equals(f.getString("server_id")));
      assertThat(got).as("only the barrier, no duplicate").hasSize(1);
    }
    assertThat(a1.drainWithPing()).isEmpty();
    assertThat(b1.drainWithPing()).isEmpty();
  }

  @Test
  void aRetriedSendGetsTheOriginalServerIdAndIsStoredAndDeliveredOnce() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    WsClient a = clients.connect(ta, "d"), b = clients.connect(tb, "d");

    JsonObject first = a.sendMsg("same-id", conv, "once");
    JsonObject retry = a.sendMsg("same-id", conv, "once");
    assertThat(retry.getString("op")).isEqualTo("ack");
    assertThat(retry.getString("server_id")).isEqualTo(first.getString("server_id"));
    assertThat(retry.getLong("ts")).isEqualTo(first.getLong("ts"));
    // two copies in flight at once still make one message
    a.send(new JsonObject().put("op", "send").put("msg_id", "twin").put("conv", conv).put("body", "x"));
    a.send(new JsonObject().put("op", "send").put("msg_id", "twin").put("conv", conv).put("body", "x"));
    assertThat(a.next("ack").getString("server_id")).isEqualTo(a.next("ack").getString("server_id"));

    String barrier = a.sendMsg("barrier", conv, "end").getString("server_id");
    List<JsonObject> got = b.until(f -> barrier.equals(f.getString("server_id")));
    assertThat(got).extracting(f -> f.getString("msg_id")).containsExactly("same-id", "twin", "barrier");

    Clients.Response history = clients.request(HttpMethod.GET, "/v1/conversations/" + conv + "/messages", ta, null);
    assertThat(history.json().getJsonArray("messages")).hasSize(3);
  }

  @Test
  void everyDeviceReceivesAConversationsMessagesInStrictlyIncreasingServerIdOrder() {
    List<String> users = List.of(user("u"), user("u"), user("u"));
    Map<String, String> tokens = new HashMap<>();
    users.forEach(u -> tokens.put(u, clients.token(u)));
    String conv = clients.group(tokens.get(users.get(0)), users.subList(1, 3));
    List<WsClient> senders = new ArrayList<>();
    List<WsClient> watchers = new ArrayList<>();
    for (String u : users) {
      senders.add(clients.connect(tokens.get(u), "sender"));
      watchers.add(clients.connect(tokens.get(u), "watcher"));
    }
    int perSender = 60;
    for (int i = 0; i < perSender; i++) {
      for (int s = 0; s < senders.size(); s++) {
        senders.get(s).send(new JsonObject().put("op", "send").put("msg_id", "s" + s + "-" + i).put("conv", conv)
            .put("body", "n" + i));
      }
    }
    for (WsClient s : senders) {
      List<JsonObject> acks = s.until(f -> "ack".equals(f.getString("op")) && f.getString("msg_id").endsWith("-" + (perSender - 1)))
          .stream().filter(f -> "ack".equals(f.getString("op"))).toList();
      assertThat(acks).hasSize(perSender);
      assertThat(acks).extracting(f -> Long.parseLong(f.getString("server_id"))).isSorted();
    }
    for (WsClient w : watchers) {
      List<JsonObject> msgs = new ArrayList<>();
      while (msgs.size() < perSender * users.size()) {
        msgs.add(w.next("msg"));
      }
      List<Long> ids = msgs.stream().map(f -> Long.parseLong(f.getString("server_id"))).toList();
      for (int i = 1; i < ids.size(); i++) {
        assertThat(ids.get(i)).isGreaterThan(ids.get(i - 1));
      }
      for (int s = 0; s < senders.size(); s++) {
        String prefix = "s" + s + "-";
        assertThat(msgs.stream().map(f -> f.getString("msg_id")).filter(m -> m.startsWith(prefix)).toList())
            .containsExactlyElementsOf(java.util.stream.IntStream.range(0, perSender).mapToObj(i -> prefix + i).toList());
      }
      assertThat(w.drainWithPing()).isEmpty();
    }
  }

  @Test
  void aGroupOfOneHundredGetsEveryMessageOnEveryConnectionExactlyOnce() {
    List<String> users = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      users.add(user("g"));
    }
    List<String> tokens = users.stream().map(clients::token).toList();
    String conv = clients.group(tokens.get(0), users.subList(1, users.size()));
    Clients.Response info = clients.request(HttpMethod.GET, "/v1/conversations/" + conv, tokens.get(5), null);
    assertThat(info.json().getInteger("members_count")).isEqualTo(100);
    assertThat(info.json().getJsonArray("members")).hasSize(100);

    List<WsClient> conns = new ArrayList<>();
    for (String t : tokens) {
      conns.add(clients.connect(t, "d"));
    }
    List<String> ids = new ArrayList<>();
    Map<Integer, List<String>> received = new HashMap<>();
    for (int s : new int[] {0, 42, 99}) {
      WsClient sender = conns.get(s);
      sender.send(new JsonObject().put("op", "send").put("msg_id", "g-" + s).put("conv", conv).put("body", "from " + s));
      for (JsonObject f : sender.until(f -> "ack".equals(f.getString("op")))) {
        if ("ack".equals(f.getString("op"))) {
          ids.add(f.getString("server_id"));
        } else {
          received.computeIfAbsent(s, k -> new ArrayList<>()).add(f.getString("server_id"));
        }
      }
    }
    for (int c = 0; c < conns.size(); c++) {
      List<String> expected = new ArrayList<>();
      for (int k = 0; k < 3; k++) {
        int sender = new int[] {0, 42, 99}[k];
        if (sender != c) {
          expected.add(ids.get(k));
        }
      }
      List<String> got = new ArrayList<>(received.getOrDefault(c, List.of()));
      while (got.size() < expected.size()) {
        got.add(conns.get(c).next("msg").getString("server_id"));
      }
      assertThat(got).as("connection %d", c).containsExactlyElementsOf(expected);
      assertThat(conns.get(c).drainWithPing()).isEmpty();
    }
  }

  @Test
  void aReconnectingDeviceSyncsExactlyWhatItMissedInOrder() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    WsClient a = clients.connect(ta, "d");
    WsClient a2 = clients.connect(ta, "tablet");
    WsClient b = clients.connect(tb, "phone");
    a.sendMsg("seen", conv, "seen");
    String lastSeen = b.next("msg").getString("server_id");
    a2.next("msg");
    b.close();
    b.awaitClose();

    List<String> missed = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      missed.add(a.sendMsg("missed-" + i, conv, "m" + i).getString("server_id"));
    }
    // the sender's other device has them all: their fan-out is over, bob's phone was offline for it
    // (a message fanned out after a device reconnects but before it syncs may arrive live and again
    // in the sync; clients deduplicate on server_id)
    for (String id : missed) {
      assertThat(a2.next("msg").getString("server_id")).isEqualTo(id);
    }
    WsClient again = clients.connect(tb, "phone");
    again.send(new JsonObject().put("op", "sync").put("convs", new JsonObject().put(conv, lastSeen)));
    List<JsonObject> got = again.until(f -> "synced".equals(f.getString("op")));
    assertThat(got.subList(0, got.size() - 1)).extracting(f -> f.getString("server_id")).containsExactlyElementsOf(missed);
    assertThat(got.get(got.size() - 1).getBoolean("more")).isFalse();
    assertThat(got.get(got.size() - 1).getString("conv")).isEqualTo(conv);
    // a live message after the sync arrives normally, once
    String live = a.sendMsg("live", conv, "live").getString("server_id");
    assertThat(again.next("msg").getString("server_id")).isEqualTo(live);
    assertThat(again.drainWithPing()).isEmpty();
  }

  @Test
  void syncIsBoundedToTheNewestTwoHundredAndSaysWhenMoreRemain() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    WsClient a = clients.connect(ta, "d");
    List<String> all = new ArrayList<>();
    for (int i = 0; i < 205; i++) {
      a.send(new JsonObject().put("op", "send").put("msg_id", "n" + i).put("conv", conv).put("body", "b" + i));
    }
    for (int i = 0; i < 205; i++) {
      all.add(a.next("ack").getString("server_id"));
    }
    WsClient b = clients.connect(tb, "d");
    b.send(new JsonObject().put("op", "sync").put("convs", new JsonObject().put(conv, "0")));
    List<JsonObject> got = b.until(f -> "synced".equals(f.getString("op")));
    assertThat(got.subList(0, got.size() - 1)).extracting(f -> f.getString("server_id"))
        .containsExactlyElementsOf(all.subList(5, 205));
    assertThat(got.get(got.size() - 1).getBoolean("more")).isTrue();
  }

  @Test
  void onlyMembersSendReadListOrSyncAndFromIsTheAuthenticatedUser() {
    String alice = user("alice"), bob = user("bob"), carol = user("carol");
    String ta = clients.token(alice), tb = clients.token(bob), tc = clients.token(carol);
    String conv = clients.dm(ta, bob);
    WsClient a = clients.connect(ta, "d"), b = clients.connect(tb, "d"), c = clients.connect(tc, "d");

    JsonObject err = c.sendMsg("intrude", conv, "let me in");
    assertThat(err.getString("op")).isEqualTo("error");
    assertThat(err.getString("code")).isEqualTo("not_member");
    assertThat(err.getString("msg_id")).isEqualTo("intrude");
    c.send(new JsonObject().put("op", "sync").put("convs", new JsonObject().put(conv, "0")));
    assertThat(c.next("error").getString("code")).isEqualTo("not_member");
    c.send(new JsonObject().put("op", "typing").put("conv", conv));
    assertThat(c.next("error").getString("code")).isEqualTo("not_member");
    assertThat(clients.request(HttpMethod.GET, "/v1/conversations/" + conv, tc, null).errorCode()).isEqualTo("not_member");
    Clients.Response hist = clients.request(HttpMethod.GET, "/v1/conversations/" + conv + "/messages", tc, null);
    assertThat(hist.status()).isEqualTo(403);
    assertThat(clients.request(HttpMethod.GET, "/v1/conversations", tc, null).json().getJsonArray("conversations")).isEmpty();

    a.send(new JsonObject().put("op", "send").put("msg_id", "spoof").put("conv", conv).put("body", "x").put("from", bob));
    a.next("ack");
    assertThat(b.next("msg").getString("from")).isEqualTo(alice);
  }

  @Test
  void aRemovedMemberReceivesNothingMoreAndOnlyTheOwnerRemovesOthers() {
    String alice = user("alice"), bob = user("bob"), carol = user("carol");
    String ta = clients.token(alice), tb = clients.token(bob), tc = clients.token(carol);
    String conv = clients.group(ta, List.of(bob, carol));
    WsClient a = clients.connect(ta, "d"), b = clients.connect(tb, "d"), c = clients.connect(tc, "d");
    a.sendMsg("before", conv, "before");
    b.next("msg");
    c.next("msg");

    assertThat(clients.request(HttpMethod.DELETE, "/v1/conversations/" + conv + "/members/" + alice, tb, null).errorCode())
        .isEqualTo("forbidden");
    assertThat(clients.request(HttpMethod.DELETE, "/v1/conversations/" + conv + "/members/" + carol, ta, null).status())
        .isEqualTo(204);
    String after = a.sendMsg("after", conv, "after").getString("server_id");
    assertThat(b.next("msg").getString("server_id")).isEqualTo(after);
    assertThat(c.drainWithPing()).isEmpty();
    assertThat(c.sendMsg("late", conv, "x").getString("code")).isEqualTo("not_member");
    // a member may remove themself
    assertThat(clients.request(HttpMethod.DELETE, "/v1/conversations/" + conv + "/members/" + bob, tb, null).status())
        .isEqualTo(204);
    Clients.Response info = clients.request(HttpMethod.GET, "/v1/conversations/" + conv, ta, null);
    assertThat(info.json().getJsonArray("members").getList()).containsExactly(alice);
  }

  @Test
  void typingReceiptsAndPresenceReachTheRightDevicesAndStayOutOfHistory() {
    String alice = user("alice"), bob = user("bob"), dave = user("dave");
    String ta = clients.token(alice), tb = clients.token(bob), td = clients.token(dave);
    String conv = clients.dm(ta, bob);
    WsClient a = clients.connect(ta, "d"), b = clients.connect(tb, "d");

    a.send(new JsonObject().put("op", "typing").put("conv", conv));
    a.send(new JsonObject().put("op", "typing").put("conv", conv)); // within a second: dropped
    JsonObject typing = b.next("typing");
    assertThat(typing.getString("user")).isEqualTo(alice);
    assertThat(typing.getString("conv")).isEqualTo(conv);
    assertThat(a.drainWithPing()).isEmpty();
    assertThat(b.drainWithPing()).isEmpty();

    String id = a.sendMsg("r-1", conv, "read me").getString("server_id");
    b.next("msg");
    b.send(new JsonObject().put("op", "delivered").put("conv", conv).put("server_id", id));
    JsonObject delivered = a.next("receipt");
    assertThat(delivered.getString("state")).isEqualTo("delivered");
    assertThat(delivered.getString("user")).isEqualTo(bob);
    assertThat(delivered.getString("server_id")).isEqualTo(id);
    b.send(new JsonObject().put("op", "read").put("conv", conv).put("server_id", id));
    JsonObject read = a.next("receipt");
    assertThat(read.getString("state")).isEqualTo("read");
    JsonObject listed = clients.request(HttpMethod.GET, "/v1/conversations", tb, null).json()
        .getJsonArray("conversations").getJsonObject(0);
    assertThat(listed.getString("last_read_id")).isEqualTo(id);

    Clients.Response history = clients.request(HttpMethod.GET, "/v1/conversations/" + conv + "/messages", ta, null);
    assertThat(history.json().getJsonArray("messages")).hasSize(1);

    a.send(new JsonObject().put("op", "presence_sub").put("users", new JsonArray().add(dave).add(bob)));
    List<JsonObject> initial = List.of(a.next("presence"), a.next("presence"));
    Map<String, String> states = new HashMap<>();
    initial.forEach(p -> states.put(p.getString("user"), p.getString("state")));
    assertThat(states).containsEntry(dave, "offline").containsEntry(bob, "online");
    WsClient d = clients.connect(td, "d");
    JsonObject online = a.next("presence");
    assertThat(online.getString("user")).isEqualTo(dave);
    assertThat(online.getString("state")).isEqualTo("online");
    d.close();
    JsonObject offline = a.next("presence");
    assertThat(offline.getString("state")).isEqualTo("offline");
    assertThat(offline.getLong("last_seen")).isPositive();
  }

  @Test
  void conversationsListNewestActivityFirstAndHistoryPagesNewestFirst() {
    String alice = user("alice");
    String ta = clients.token(alice);
    List<String> convs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      convs.add(clients.dm(ta, user("peer")));
    }
    WsClient a = clients.connect(ta, "d");
    a.sendMsg("x", convs.get(0), "bump the oldest");
    JsonObject page1 = clients.request(HttpMethod.GET, "/v1/conversations?limit=2", ta, null).json();
    assertThat(page1.getJsonArray("conversations").stream().map(o -> ((JsonObject) o).getString("id")).toList())
        .containsExactly(convs.get(0), convs.get(2));
    String cursor = page1.getString("next_cursor");
    assertThat(cursor).isNotNull();
    JsonObject page2 = clients.request(HttpMethod.GET, "/v1/conversations?limit=2&cursor=" + cursor, ta, null).json();
    assertThat(page2.getJsonArray("conversations").stream().map(o -> ((JsonObject) o).getString("id")).toList())
        .containsExactly(convs.get(1));
    assertThat(page2.getValue("next_cursor")).isNull();

    String conv = convs.get(1);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(a.sendMsg("h" + i, conv, "h" + i).getString("server_id"));
    }
    JsonObject h1 = clients.request(HttpMethod.GET, "/v1/conversations/" + conv + "/messages?limit=3", ta, null).json();
    assertThat(h1.getJsonArray("messages").stream().map(o -> ((JsonObject) o).getString("server_id")).toList())
        .containsExactly(ids.get(4), ids.get(3), ids.get(2));
    JsonObject h2 = clients.request(HttpMethod.GET,
        "/v1/conversations/" + conv + "/messages?limit=3&before=" + h1.getString("next_cursor"), ta, null).json();
    assertThat(h2.getJsonArray("messages").stream().map(o -> ((JsonObject) o).getString("server_id")).toList())
        .containsExactly(ids.get(1), ids.get(0));
    assertThat(h2.getValue("next_cursor")).isNull();
    JsonObject first = h2.getJsonArray("messages").getJsonObject(1);
    assertThat(first.getString("from")).isEqualTo(alice);
    assertThat(first.getString("msg_id")).isEqualTo("h0");
  }

  @Test
  void dmCreationIsIdempotentFromEitherSideAndGroupSizesAreCapped() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    Clients.Response created = clients.request(HttpMethod.POST, "/v1/conversations", ta,
        new JsonObject().put("type", "dm").put("members", new JsonArray().add(bob)));
    assertThat(created.status()).isEqualTo(201);
    Clients.Response again = clients.request(HttpMethod.POST, "/v1/conversations", tb,
        new JsonObject().put("type", "dm").put("members", new JsonArray().add(alice)));
    assertThat(again.status()).isEqualTo(200);
    assertThat(again.json().getString("id")).isEqualTo(created.json().getString("id"));
    assertThat(again.json().getString("type")).isEqualTo("dm");
    assertThat(clients.request(HttpMethod.POST, "/v1/conversations/" + created.json().getString("id") + "/members", ta,
        new JsonObject().put("users", new JsonArray().add("zed"))).errorCode()).isEqualTo("conflict");

    JsonArray tooMany = new JsonArray();
    for (int i = 0; i < 5000; i++) {
      tooMany.add("m" + i);
    }
    Clients.Response big = clients.request(HttpMethod.POST, "/v1/conversations", ta,
        new JsonObject().put("type", "group").put("members", tooMany));
    assertThat(big.status()).isBetween(400, 499);
    assertThat(big.errorCode()).isEqualTo("group_too_large");

    tooMany.remove(4999);
    Clients.Response full = clients.request(HttpMethod.POST, "/v1/conversations", ta,
        new JsonObject().put("type", "group").put("name", "all").put("members", tooMany));
    assertThat(full.status()).isEqualTo(201);
    assertThat(full.json().getInteger("members_count")).isEqualTo(5000);
    assertThat(full.json().containsKey("members")).as("large groups do not inline members").isFalse();
    Clients.Response grow = clients.request(HttpMethod.POST, "/v1/conversations/" + full.json().getString("id") + "/members",
        ta, new JsonObject().put("users", new JsonArray().add("one-more")));
    assertThat(grow.errorCode()).isEqualTo("group_too_large");
  }
}
