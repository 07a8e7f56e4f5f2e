package io.parley.e2e;

import static io.parley.e2e.ClusterChecks.DELIVERY;
import static io.parley.e2e.ClusterChecks.RECOVERY;
import static io.parley.e2e.ClusterChecks.assertDevices;
import static io.parley.e2e.ClusterChecks.awaitHistory;
import static io.parley.e2e.ClusterChecks.serverIds;
import static io.parley.e2e.ClusterChecks.user;
import static org.assertj.core.api.Assertions.assertThat;

import io.parley.e2e.InfraControl.Server;
import io.parley.storage.redis.RedisConnectionRegistry;
import io.parley.testing.Await;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Redis stopped (through scripts/infra/infra; it keeps nothing, so it comes back empty): connected
 * users still send (the rate limits fall back to each node's own) and get their messages across
 * nodes; once Redis is back the nodes rebuild the connection
 * registry from their live connections, so the registry again names every user's nodes, presence
 * shows the connected users online, and messages reach users on other nodes.
 */
class ClusterRedisDownIT {
  static ClusterNodes cluster;
  final List<Device> devices = new ArrayList<>();

  @BeforeAll
  static void startCluster() {
    cluster = ClusterNodes.start("ClusterRedisDownIT", 3, Map.of());
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @AfterEach
  void restartRedis() {
    devices.forEach(Device::close);
    InfraControl.start(Server.REDIS);
  }

  Device connect(int node, String user, String token, String name) {
    Device d = Device.connect(cluster, node, user, token, name);
    devices.add(d);
    return d;
  }

  @Test
  void connectedUsersKeepGettingMessagesWhileRedisIsDownAndTheRegistryIsRebuiltWhenItIsBack() {
    String alice = user("alice"), bob = user("bob"), carol = user("carol"), dave = user("dave");
    String ta = cluster.clients(1).token(alice), tb = cluster.clients(2).token(bob), tc = cluster.clients(3).token(carol);
    String td = cluster.clients(1).token(dave);
    String dm = cluster.clients(1).dm(ta, bob);
    String group = cluster.clients(1).group(ta, List.of(bob, carol));
    Device a = connect(1, alice, ta, "d");
    Device b2 = connect(2, bob, tb, "phone");
    Device b3 = connect(3, bob, tb, "laptop");
    Device c = connect(3, carol, tc, "d");

    List<JsonObject> dmAcks = new ArrayList<>(), groupAcks = new ArrayList<>();
    dmAcks.add(a.sendAcked("dm-0", dm, "before"));
    groupAcks.add(a.sendAcked("g-0", group, "before"));
    expectDelivered(dmAcks, groupAcks, a, b2, b3, c, dm, group);

    try {
      InfraControl.stop(Server.REDIS);
      for (int i = 1; i <= 5; i++) {
        dmAcks.add(a.sendAcked("dm-down-" + i, dm, "while redis is down " + i));
        groupAcks.add(a.sendAcked("g-down-" + i, group, "while redis is down " + i));
      }
      dmAcks.add(b3.sendAcked("dm-down-bob", dm, "bob while redis is down"));
      expectDelivered(dmAcks, groupAcks, a, b2, b3, c, dm, group);
      System.out.println("[redis-down] every message delivered live across nodes with Redis stopped");
    } finally {
      InfraControl.start(Server.REDIS);
    }

    // Redis is back, empty: the nodes must register their live connections again
    Vertx vertx = Vertx.vertx();
    try {
      RedisConnectionRegistry registry = Await.result(RedisConnectionRegistry.connect(vertx, ClusterNodes.REDIS,
          cluster.common.get("PARLEY_REDIS_PREFIX"), Duration.ofMinutes(1)), Clients.WAIT);
      long t0 = System.nanoTime();
      Map<String, Set<String>> nodes = Await.valueOrNull(() -> {
        try {
          Map<String, Set<String>> m = Await.result(registry.nodesOf(List.of(alice, bob, carol)), Clients.WAIT);
          boolean rebuilt = m.getOrDefault(alice, Set.of()).size() == 1 && m.getOrDefault(bob, Set.of()).size() == 2
              && m.getOrDefault(carol, Set.of()).size() == 1;
          return rebuilt ? m : null;
        } catch (RuntimeException e) {
          return null;
        }
      }, RECOVERY, ClusterChecks.POLL);
      Map<String, Set<String>> last = nodes != null ? nodes : Await.result(registry.nodesOf(List.of(alice, bob, carol)), Clients.WAIT);
      assertThat(nodes).as("registry after Redis came back (want alice on 1 node, bob on 2, carol on 1): %s", last)
          .isNotNull();
      System.out.printf("[redis-down] registry rebuilt %d ms after Redis was ready: %s%n",
          (System.nanoTime() - t0) / 1_000_000, nodes);
      Await.result(registry.close(), Clients.WAIT);
    } finally {
      Await.result(vertx.close(), Clients.WAIT);
    }

    // presence, seen from a node where neither bob nor carol is connected
    Device observer = connect(1, dave, td, "observer");
    List<JsonObject> presence = observer.presenceSub(List.of(bob, carol));
    assertThat(presence).as("presence after the rebuild").allMatch(p -> "online".equals(p.getString("state")));

    for (int i = 0; i < 5; i++) {
      dmAcks.add(a.sendAcked("dm-back-" + i, dm, "redis is back " + i));
      groupAcks.add(a.sendAcked("g-back-" + i, group, "redis is back " + i));
    }
    dmAcks.add(b2.sendAcked("dm-back-bob", dm, "bob after redis"));
    expectDelivered(dmAcks, groupAcks, a, b2, b3, c, dm, group);
    for (Device d : List.of(a, b2, b3, c)) {
      d.ping();
    }
    Map<Device, List<String>> dmExpected = new LinkedHashMap<>();
    dmExpected.put(b2, idsNotFrom(dmAcks, "dm-back-bob"));
    dmExpected.put(b3, idsNotFrom(dmAcks, "dm-down-bob"));
    dmExpected.put(a, serverIds(dmAcks.stream().filter(x -> x.getString("msg_id").endsWith("bob")).toList()));
    assertDevices(dm, dmExpected, false);
    Map<Device, List<String>> groupExpected = new LinkedHashMap<>();
    for (Device d : List.of(b2, b3, c)) {
      groupExpected.put(d, serverIds(groupAcks));
    }
    assertDevices(group, groupExpected, false);
    awaitHistory("dm history on node 3", cluster.clients(3), tb, dm, dmAcks, DELIVERY);
    awaitHistory("group history on node 2", cluster.clients(2), tb, group, groupAcks, DELIVERY);
  }

  /** Waits until each device has every message of both conversations it should get. */
  private static void expectDelivered(List<JsonObject> dmAcks, List<JsonObject> groupAcks, Device a, Device b2, Device b3,
      Device c, String dm, String group) {
    b2.awaitMsgs(dm, idsNotFrom(dmAcks, "dm-back-bob"), DELIVERY);
    b3.awaitMsgs(dm, idsNotFrom(dmAcks, "dm-down-bob"), DELIVERY);
    a.awaitMsgs(dm, serverIds(dmAcks.stream().filter(x -> x.getString("msg_id").endsWith("bob")).toList()), DELIVERY);
    for (Device d : List.of(b2, b3, c)) {
      d.awaitMsgs(group, serverIds(groupAcks), DELIVERY);
    }
  }

  /** server_ids of the acks, except the one of {@code msgId} (sent by that device itself). */
  private static List<String> idsNotFrom(List<JsonObject> acks, String msgId) {
    return serverIds(acks.stream().filter(x -> !x.getString("msg_id").equals(msgId)).toList());
  }
}
