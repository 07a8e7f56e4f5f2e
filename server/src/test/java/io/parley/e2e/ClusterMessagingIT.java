package io.parley.e2e;

import static io.parley.e2e.ClusterChecks.DELIVERY;
import static io.parley.e2e.ClusterChecks.assertDevices;
import static io.parley.e2e.ClusterChecks.assertStrictlyIncreasing;
import static io.parley.e2e.ClusterChecks.awaitHistory;
import static io.parley.e2e.ClusterChecks.serverIds;
import static io.parley.e2e.ClusterChecks.user;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three nodes of the cluster profile as separate JVMs: DMs and groups deliver across nodes, to
 * every device of every member (the sender's other devices too) exactly once and in server_id
 * order, and every node's REST history shows the same messages. Rate limits and the typing
 * throttle hold per user across nodes (shared through Redis). Presence changes reach subscribers on
 * other nodes.
 *
 * <p>The nodes run with a send burst of {@value #SEND_BURST} per user refilling at 1/s (the
 * smallest rate the config takes; the other tests send fewer per user) and a typing throttle of
 * a minute, so "within the throttle window" holds however slow the machine is. Their fan-out
 * sends each delivery to another node as a request of its own ({@code
 * fanout.remote_request_chars} of 1, see {@code FanoutVerticle.split}): a polled batch for another
 * node becomes as many event-bus requests as it has messages, so every order assertion here also
 * checks that split requests reach the other node in the order they were sent.
 */
class ClusterMessagingIT {
  static final int SEND_BURST = 30;
  static ClusterNodes cluster;
  final List<Device> devices = new ArrayList<>();

  @BeforeAll
  static void startCluster() {
    cluster = ClusterNodes.start("ClusterMessagingIT", 3, Map.of(
        "PARLEY_LIMITS_SEND_BURST", Integer.toString(SEND_BURST),
        "PARLEY_LIMITS_SEND_RATE_PER_S", "1",
        "PARLEY_TYPING_THROTTLE_MS", "60000",
        "PARLEY_FANOUT_REMOTE_REQUEST_CHARS", "1"));
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @AfterEach
  void closeDevices() {
    devices.forEach(Device::close);
  }

  Device connect(int node, String user, String token, String name) {
    Device d = Device.connect(cluster, node, user, token, name);
    devices.add(d);
    return d;
  }

  @Test
  void presenceChangesReachSubscribersOnOtherNodes() {
    String alice = user("alice"), bob = user("bob");
    String ta = cluster.clients(1).token(alice), tb = cluster.clients(2).token(bob);
    Device a = connect(1, alice, ta, "phone");
    assertThat(a.presenceSub(List.of(bob)).get(0).getString("state")).isEqualTo("offline");

    Device b = connect(2, bob, tb, "phone");
    a.await(f -> "presence".equals(f.getString("op")) && bob.equals(f.getString("user"))
        && "online".equals(f.getString("state")), Device.FRAME_WAIT, "bob online, from node 2");
    devices.remove(b);
    b.close();
    JsonObject offline = a.await(f -> "presence".equals(f.getString("op")) && bob.equals(f.getString("user"))
        && "offline".equals(f.getString("state")), Device.FRAME_WAIT, "bob offline, from node 2");
    assertThat(offline.getLong("last_seen")).isPositive();
  }

  @Test
  void dmCrossesNodesToEveryDeviceOfBothMembersOnceInOrderAndEveryNodeHasTheHistory() {
    String alice = user("alice"), bob = user("bob");
    String ta = cluster.clients(1).token(alice), tb = cluster.clients(2).token(bob);
    String conv = cluster.clients(1).dm(ta, bob);
    assertThat(cluster.clients(2).dm(tb, alice)).as("the same DM, asked from another node").isEqualTo(conv);
    Device a1 = connect(1, alice, ta, "phone"), a2 = connect(3, alice, ta, "laptop");
    Device b1 = connect(2, bob, tb, "phone"), b2 = connect(3, bob, tb, "web");

    // both members send at once, from different nodes
    List<String> aliceIds = new ArrayList<>(), bobIds = new ArrayList<>();
    for (int i = 0; i < 15; i++) {
      aliceIds.add("a-" + i);
      a1.sendAsync("a-" + i, conv, "from alice " + i);
      bobIds.add("b-" + i);
      b1.sendAsync("b-" + i, conv, "from bob " + i);
    }
    List<JsonObject> aliceAcks = a1.acks(aliceIds), bobAcks = b1.acks(bobIds);
    assertStrictlyIncreasing("alice's acks", serverIds(aliceAcks));
    assertStrictlyIncreasing("bob's acks", serverIds(bobAcks));
    for (JsonObject ack : aliceAcks) {
      assertThat(ack.getString("conv")).isEqualTo(conv);
      assertThat(ack.getLong("ts")).isPositive();
    }
    List<JsonObject> all = new ArrayList<>(aliceAcks);
    all.addAll(bobAcks);
    all.sort(Comparator.comparing(a -> Long.parseLong(a.getString("server_id"))));
    List<String> allIds = serverIds(all);
    assertThat(allIds).as("server_ids unique").doesNotHaveDuplicates();

    // a barrier from the last sender: anything duplicated or late would show up before it
    JsonObject barrier = a1.sendAcked("a-end", conv, "end");
    List<String> expectAll = new ArrayList<>(allIds);
    expectAll.add(barrier.getString("server_id"));
    all.add(barrier);

    Map<Device, List<String>> expected = new LinkedHashMap<>();
    expected.put(a2, expectAll);
    expected.put(b2, expectAll);
    expected.put(b1, expectAll.stream().filter(id -> !serverIds(bobAcks).contains(id)).toList());
    expected.put(a1, serverIds(bobAcks)); // the sending connection gets acks, not its own messages
    for (Map.Entry<Device, List<String>> e : expected.entrySet()) {
      e.getKey().awaitMsgs(conv, e.getValue(), DELIVERY);
      e.getKey().ping();
    }
    assertDevices(conv, expected, false);
    JsonObject first = a2.msgs(conv).stream().filter(m -> "a-0".equals(m.getString("msg_id"))).findFirst().orElseThrow();
    assertThat(first.getString("from")).isEqualTo(alice);
    assertThat(first.getString("body")).isEqualTo("from alice 0");
    assertThat(first.getString("server_id")).isEqualTo(aliceAcks.get(0).getString("server_id"));
    assertThat(first.getLong("ts")).isEqualTo(aliceAcks.get(0).getLong("ts"));

    for (int node = 1; node <= 3; node++) {
      List<JsonObject> h = awaitHistory("history on node " + node, cluster.clients(node), node == 2 ? tb : ta, conv, all, DELIVERY);
      assertThat(h.get(0).getString("from")).isEqualTo(h.get(0).getString("msg_id").startsWith("a-") ? alice : bob);
    }
  }

  @Test
  void aGroupOfFiveSpreadOverThreeNodesGetsEveryMessageOnEveryConnectionOnceInOrder() {
    List<String> users = new ArrayList<>();
    List<String> tokens = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      users.add(user("g"));
      tokens.add(cluster.clients(i % 3 + 1).token(users.get(i)));
    }
    String conv = cluster.clients(1).group(tokens.get(0), users.subList(1, 5));
    List<Device> conns = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      conns.add(connect(i % 3 + 1, users.get(i), tokens.get(i), "d"));
    }
    int perSender = 8;
    Map<Integer, List<String>> msgIds = new HashMap<>();
    for (int k = 0; k < perSender; k++) {
      for (int s = 0; s < 5; s++) {
        String id = "u" + s + "-" + k;
        msgIds.computeIfAbsent(s, x -> new ArrayList<>()).add(id);
        conns.get(s).sendAsync(id, conv, "member " + s + " says " + k);
      }
    }
    List<JsonObject> all = new ArrayList<>();
    Map<Integer, List<String>> sentBy = new HashMap<>();
    for (int s = 0; s < 5; s++) {
      List<JsonObject> acks = conns.get(s).acks(msgIds.get(s));
      assertStrictlyIncreasing("acks of member " + s, serverIds(acks));
      sentBy.put(s, serverIds(acks));
      all.addAll(acks);
    }
    all.sort(Comparator.comparing(a -> Long.parseLong(a.getString("server_id"))));
    List<String> allIds = serverIds(all);
    assertThat(allIds).doesNotHaveDuplicates().hasSize(5 * perSender);

    for (int c = 0; c < 5; c++) {
      List<String> own = sentBy.get(c);
      List<String> want = allIds.stream().filter(id -> !own.contains(id)).toList();
      Device d = conns.get(c);
      d.awaitMsgs(conv, want, DELIVERY);
    }
    // a barrier from member 0; everything else arrived before it on every connection
    JsonObject barrier = conns.get(0).sendAcked("barrier", conv, "end");
    all.add(barrier);
    Map<Device, List<String>> expected = new LinkedHashMap<>();
    for (int c = 0; c < 5; c++) {
      List<String> own = sentBy.get(c);
      List<String> want = new ArrayList<>(allIds.stream().filter(id -> !own.contains(id)).toList());
      if (c != 0) {
        want.add(barrier.getString("server_id"));
      }
      Device d = conns.get(c);
      d.awaitMsgs(conv, want, DELIVERY);
      d.ping();
      expected.put(d, want);
    }
    assertDevices(conv, expected, false);
    for (int node = 1; node <= 3; node++) {
      awaitHistory("group history on node " + node, cluster.clients(node), tokens.get(node - 1), conv, all, DELIVERY);
    }
  }

  @Test
  void aUserWithADeviceOnEveryNodeGetsEveryMessageOncePerDeviceAndTheSendersOtherDevicesToo() {
    String carol = user("carol"), dave = user("dave");
    String tc = cluster.clients(3).token(carol), td = cluster.clients(1).token(dave);
    String conv = cluster.clients(2).dm(td, carol);
    Device c1 = connect(1, carol, tc, "c1"), c2 = connect(2, carol, tc, "c2"), c3 = connect(3, carol, tc, "c3");
    Device d1 = connect(2, dave, td, "d1"), d2 = connect(1, dave, td, "d2");

    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      ids.add("d-" + i);
      d1.sendAsync("d-" + i, conv, "to carol " + i);
    }
    List<JsonObject> daveAcks = d1.acks(ids);
    assertStrictlyIncreasing("dave's acks", serverIds(daveAcks));
    List<String> daveIds = serverIds(daveAcks);
    for (Device d : List.of(c1, c2, c3, d2)) {
      d.awaitMsgs(conv, daveIds, DELIVERY);
    }
    // carol answers from her second device: her two others and both of dave's get it
    List<String> carolMsgIds = List.of("c-0", "c-1", "c-2", "c-3", "c-4");
    carolMsgIds.forEach(id -> c2.sendAsync(id, conv, "reply " + id));
    List<JsonObject> carolAcks = c2.acks(carolMsgIds);
    List<String> carolIds = serverIds(carolAcks);
    assertThat(Long.parseLong(carolIds.get(0))).as("later than dave's").isGreaterThan(Long.parseLong(daveIds.get(24)));

    List<String> everything = new ArrayList<>(daveIds);
    everything.addAll(carolIds);
    Map<Device, List<String>> expected = new LinkedHashMap<>();
    expected.put(c1, everything);
    expected.put(c3, everything);
    expected.put(d2, everything);
    expected.put(c2, daveIds);
    expected.put(d1, carolIds);
    for (Map.Entry<Device, List<String>> e : expected.entrySet()) {
      e.getKey().awaitMsgs(conv, e.getValue(), DELIVERY);
      e.getKey().ping();
    }
    assertDevices(conv, expected, false);
    JsonObject reply = c1.msgs(conv).get(25);
    assertThat(reply.getString("from")).isEqualTo(carol);
    assertThat(reply.getString("msg_id")).isEqualTo("c-0");

    List<JsonObject> all = new ArrayList<>(daveAcks);
    all.addAll(carolAcks);
    for (int node = 1; node <= 3; node++) {
      awaitHistory("history on node " + node, cluster.clients(node), tc, conv, all, DELIVERY);
    }
  }

  @Test
  void aUserWithDevicesOnTwoNodesIsRateLimitedPerUserNotPerConnection() {
    String erin = user("erin"), fay = user("fay");
    String te = cluster.clients(1).token(erin), tf = cluster.clients(3).token(fay);
    String conv = cluster.clients(1).dm(te, fay);
    Device phone = connect(1, erin, te, "phone"), laptop = connect(2, erin, te, "laptop");
    long start = System.nanoTime();

    List<String> burst = new ArrayList<>();
    for (int i = 0; i < SEND_BURST; i++) {
      burst.add("p-" + i);
      phone.sendAsync("p-" + i, conv, "burst " + i);
    }
    assertStrictlyIncreasing("the phone's burst, acked in order", serverIds(phone.acks(burst)));

    // the laptop, on another node, finds the bucket the phone emptied
    List<String> more = new ArrayList<>();
    for (int i = 0; i < SEND_BURST; i++) {
      more.add("l-" + i);
      laptop.sendAsync("l-" + i, conv, "more " + i);
    }
    int acked = 0;
    List<String> acks = new ArrayList<>();
    for (String id : more) {
      JsonObject r = laptop.reply(id, Device.FRAME_WAIT);
      if ("ack".equals(r.getString("op"))) {
        acked++;
        acks.add(r.getString("server_id"));
      } else {
        assertThat(r.getString("code")).as(r.encode()).isEqualTo("rate_limited");
      }
    }
    long seconds = (System.nanoTime() - start) / 1_000_000_000L;
    // per connection, the laptop would have had a whole burst of its own
    assertThat(acked).as("only what refilled at 1/s in %d s", seconds).isLessThanOrEqualTo((int) seconds);
    assertThat(acked).as("the run took %d s", seconds).isLessThan(SEND_BURST);
    assertStrictlyIncreasing("the laptop's acked sends, in order", acks);
  }

  @Test
  void typingFromTwoDevicesOnTwoNodesWithinTheThrottleWindowReachesTheOtherMemberOnce() {
    String gil = user("gil"), hal = user("hal");
    String tg = cluster.clients(1).token(gil), th = cluster.clients(3).token(hal);
    String conv = cluster.clients(1).dm(tg, hal);
    // one conversation per node for a barrier: a typing signal that is not throttled
    String barrier1 = cluster.clients(1).group(tg, List.of(hal));
    String barrier2 = cluster.clients(2).group(tg, List.of(hal));
    Device g1 = connect(1, gil, tg, "phone"), g2 = connect(2, gil, tg, "laptop");
    Device h = connect(3, hal, th, "web");
    // warm each node's member cache, so the signals below take the same path in the order sent
    g1.sendAcked("warm-1", conv, "hi");
    g1.sendAcked("warm-2", barrier1, "hi");
    g2.sendAcked("warm-3", conv, "hi");
    g2.sendAcked("warm-4", barrier2, "hi");

    g1.send(typing(conv));
    g2.send(typing(conv));
    g1.send(typing(barrier1));
    g2.send(typing(barrier2));
    JsonObject first = h.await(f -> isTyping(f, conv), DELIVERY, "typing in " + conv);
    assertThat(first.getString("user")).isEqualTo(gil);
    h.await(f -> isTyping(f, barrier1), DELIVERY, "typing in barrier 1");
    h.await(f -> isTyping(f, barrier2), DELIVERY, "typing in barrier 2");
    h.ping();
    assertThat(h.frames.stream().filter(f -> isTyping(f, conv)).count())
        .as("typing from node 1 and node 2 within a minute: forwarded once; frames %s", h.frames)
        .isEqualTo(1);
  }

  private static JsonObject typing(String conv) {
    return new JsonObject().put("op", "typing").put("conv", conv);
  }

  private static boolean isTyping(JsonObject f, String conv) {
    return "typing".equals(f.getString("op")) && conv.equals(f.getString("conv"));
  }
}
