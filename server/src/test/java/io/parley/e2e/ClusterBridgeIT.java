package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.testing.Await;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The event-bus bridge on the cluster profile, two nodes as separate JVMs, the bridge on node 1
 * only: a system message posted there reaches a member connected to node 2; disconnect closes a
 * user's connection on node 2 with 4003; message events reach node 1's bridge for messages
 * whichever node routed them (routing on both nodes, partitions split between them: each node's
 * tap learns of the follower from node 1's announcements).
 */
class ClusterBridgeIT {
  private static final String TOKEN = "cluster-bridge-token-0123456789";
  private static final AtomicInteger SEQ = new AtomicInteger();
  static ClusterNodes cluster;
  static int bridgePort;
  static NetClient net;

  @BeforeAll
  static void startCluster() throws IOException {
    bridgePort = TestNode.freePort();
    cluster = ClusterNodes.start("ClusterBridgeIT", 2, Map.of("PARLEY_BRIDGE_TOKEN", TOKEN),
        id -> Map.of("PARLEY_BRIDGE_PORT", id == 1 ? Integer.toString(bridgePort) : "0"));
    net = cluster.clients(1).vertx.createNetClient();
  }

  @AfterAll
  static void stopCluster() {
    if (net != null) {
      Await.result(net.close());
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private static String user(String name) {
    return name + "-" + SEQ.incrementAndGet();
  }

  private static BridgeClient bridge() {
    return BridgeClient.connect(net, cluster.clients(1).failures, bridgePort, TOKEN);
  }

  @Test
  void postAndDisconnectReachANodeWithoutTheBridge() {
    String alice = user("alice"), bob = user("bob");
    String ta = cluster.clients(1).token(alice), tb = cluster.clients(2).token(bob);
    String conv = cluster.clients(1).dm(ta, bob);
    Device b = Device.connect(cluster, 2, bob, tb, "phone");
    BridgeClient bridge = bridge();
    JsonObject ack = bridge.request("parley.bridge.post", new JsonObject().put("conv", conv).put("body", "notice")
        .put("msg_id", "n-1"));
    assertThat(ack.getString("type")).as("%s", ack).isEqualTo("message");
    String id = ack.getJsonObject("body").getString("server_id");
    JsonObject msg = b.await(f -> id.equals(f.getString("server_id")), Device.FRAME_WAIT, "the system message on node 2");
    assertThat(msg.getString("from")).isEqualTo("parley:system");
    assertThat(msg.getString("body")).isEqualTo("notice");

    JsonObject devices = bridge.request("parley.bridge.devices", new JsonObject().put("user", bob)).getJsonObject("body");
    assertThat(devices.getBoolean("online")).isTrue();
    bridge.request("parley.bridge.disconnect", new JsonObject().put("user", bob));
    assertThat(b.awaitClosed(Device.FRAME_WAIT)).isEqualTo((short) 4003);
    bridge.close();
  }

  @Test
  void messageEventsArriveWhicheverNodeRoutedTheMessage() {
    BridgeClient bridge = bridge();
    bridge.register("parley.bridge.events.messages");
    bridge.ping();
    // node 2's tap publishes once node 1's announcement reached it: first, for every conversation,
    // send until one of its messages shows up as an event (a bounded number of tries)
    String alice = user("alice");
    String ta = cluster.clients(2).token(alice);
    Device a = Device.connect(cluster, 2, alice, ta, "phone");
    List<String> convs = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      convs.add(cluster.clients(2).dm(ta, user("bob")));
    }
    for (int i = 0; i < convs.size(); i++) {
      String conv = convs.get(i);
      boolean seenOne = false;
      for (int k = 0; k < 20 && !seenOne; k++) {
        String id = a.sendAcked("probe-" + i + "-" + k, conv, "probe").getString("server_id");
        JsonObject f;
        while ((f = bridge.poll(java.time.Duration.ofSeconds(1))) != null) {
          if (id.equals(f.getJsonObject("body", new JsonObject()).getString("server_id"))) {
            seenOne = true;
            break;
          }
        }
      }
      assertThat(seenOne).as("an event for conversation %s", conv).isTrue();
    }
    // then every message is an event, on whichever node it was routed
    Set<String> sent = new HashSet<>();
    for (int i = 0; i < convs.size(); i++) {
      sent.add(a.sendAcked("m-" + i, convs.get(i), "hello " + i).getString("server_id"));
    }
    Set<String> seen = new HashSet<>();
    while (!seen.containsAll(sent)) {
      JsonObject e = bridge.event("parley.bridge.events.messages", x -> true);
      seen.add(e.getString("server_id"));
      assertThat(e.containsKey("body")).as("bridge.include_bodies is off").isFalse();
    }
    assertThat(seen).containsAll(sent);
    a.close();
    bridge.close();
  }
}
