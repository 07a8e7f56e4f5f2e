package io.parley.e2e;

import static io.parley.e2e.ClusterChecks.DELIVERY;
import static org.assertj.core.api.Assertions.assertThat;
import static io.parley.e2e.ClusterChecks.RECOVERY;
import static io.parley.e2e.ClusterChecks.assertDevices;
import static io.parley.e2e.ClusterChecks.assertStrictlyIncreasing;
import static io.parley.e2e.ClusterChecks.awaitHistory;
import static io.parley.e2e.ClusterChecks.serverIds;
import static io.parley.e2e.ClusterChecks.user;

import io.parley.e2e.InfraControl.Server;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Cassandra stopped (through scripts/infra/infra) after some traffic: an ack means the message is
 * stored, so sends while it is down are answered {@code unavailable} (their records wait in Kafka);
 * once Cassandra is back, each resend with the same msg_id is acked with the one id its message got,
 * and every message is delivered and in history exactly once.
 */
class ClusterCassandraDownIT {
  static ClusterNodes cluster;
  final List<Device> devices = new ArrayList<>();

  @BeforeAll
  static void startCluster() {
    cluster = ClusterNodes.start("ClusterCassandraDownIT", 3, Map.of());
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @AfterEach
  void restartCassandra() {
    devices.forEach(Device::close);
    InfraControl.start(Server.CASSANDRA);
  }

  Device connect(int node, String user, String token, String name) {
    Device d = Device.connect(cluster, node, user, token, name);
    devices.add(d);
    return d;
  }

  @Test
  void sendsWhileCassandraIsDownAreUnavailableAndTheirResendsAreAckedOnceWithOneIdWhenItIsBack() {
    String alice = user("alice"), bob = user("bob"), carol = user("carol");
    String ta = cluster.clients(1).token(alice), tb = cluster.clients(2).token(bob), tc = cluster.clients(3).token(carol);
    String dm = cluster.clients(1).dm(ta, bob);
    String group = cluster.clients(2).group(tb, List.of(alice, carol));
    Device a = connect(1, alice, ta, "d");
    Device b = connect(2, bob, tb, "d");
    Device b3 = connect(3, bob, tb, "tablet");
    Device c = connect(3, carol, tc, "d");

    // traffic first: every sender has sent in every conversation it will send in during the outage
    List<JsonObject> dmAcks = new ArrayList<>(), groupAcks = new ArrayList<>();
    dmAcks.add(a.sendAcked("dm-up-a", dm, "hi"));
    dmAcks.add(b.sendAcked("dm-up-b", dm, "hi back"));
    groupAcks.add(b.sendAcked("g-up-b", group, "welcome"));
    groupAcks.add(a.sendAcked("g-up-a", group, "thanks"));
    groupAcks.add(c.sendAcked("g-up-c", group, "hello"));
    b3.awaitMsgs(dm, serverIds(dmAcks), DELIVERY);
    b3.awaitMsgs(group, serverIds(groupAcks), DELIVERY);
    awaitHistory("dm history before the outage", cluster.clients(3), tb, dm, dmAcks, DELIVERY);

    List<String> dmDown = new ArrayList<>(), groupDown = new ArrayList<>();
    try {
      InfraControl.stop(Server.CASSANDRA);
      for (int i = 0; i < 10; i++) {
        dmDown.add("dm-down-" + i);
        a.sendAsync("dm-down-" + i, dm, "while cassandra is down " + i);
        groupDown.add("g-down-" + i);
        c.sendAsync("g-down-" + i, group, "group while cassandra is down " + i);
      }
      b.sendAsync("dm-down-b", dm, "bob while cassandra is down");
      for (String id : dmDown) {
        assertUnavailable(a.reply(id, DELIVERY));
      }
      for (String id : groupDown) {
        assertUnavailable(c.reply(id, DELIVERY));
      }
      assertUnavailable(b.reply("dm-down-b", DELIVERY));
      System.out.println("[cassandra-down] 21 sends answered unavailable with Cassandra stopped");
    } finally {
      InfraControl.start(Server.CASSANDRA);
    }
    // each client resends what was not acked, with the same msg_id, in its order
    for (int i = 0; i < 10; i++) {
      dmAcks.add(a.sendRetrying(dmDown.get(i), dm, "while cassandra is down " + i, RECOVERY, Duration.ofMillis(500)));
      groupAcks.add(c.sendRetrying(groupDown.get(i), group, "group while cassandra is down " + i, RECOVERY,
          Duration.ofMillis(500)));
    }
    dmAcks.add(b.sendRetrying("dm-down-b", dm, "bob while cassandra is down", RECOVERY, Duration.ofMillis(500)));
    dmAcks.add(a.sendRetrying("dm-back", dm, "cassandra is back", RECOVERY, Duration.ofMillis(500)));
    groupAcks.add(a.sendRetrying("g-back", group, "cassandra is back", RECOVERY, Duration.ofMillis(500)));

    // one sender's sends keep its order; between senders the log decides
    assertStrictlyIncreasing("alice's dm acks", serverIds(dmAcks.stream().filter(x -> x.getString("msg_id").startsWith("dm-down-")
        && !x.getString("msg_id").equals("dm-down-b")).toList()));
    assertStrictlyIncreasing("carol's group acks", serverIds(groupAcks.stream().filter(x -> x.getString("msg_id").startsWith("g-down-")).toList()));
    Comparator<JsonObject> byId = Comparator.comparingLong(x -> Long.parseLong(x.getString("server_id")));
    dmAcks.sort(byId);
    groupAcks.sort(byId);
    assertThat(serverIds(dmAcks)).as("one id per dm send").doesNotHaveDuplicates().hasSize(14);
    assertThat(serverIds(groupAcks)).as("one id per group send").doesNotHaveDuplicates().hasSize(14);
    List<String> dmIds = serverIds(dmAcks), groupIds = serverIds(groupAcks);
    // bob's tablet gets everything of both; alice's and carol's devices what others sent
    b3.awaitMsgs(dm, dmIds, RECOVERY);
    b3.awaitMsgs(group, groupIds, RECOVERY);
    List<String> groupNotByCarol = groupAcks.stream().filter(x -> !x.getString("msg_id").startsWith("g-down") && !x.getString("msg_id").equals("g-up-c"))
        .map(x -> x.getString("server_id")).toList();
    c.awaitMsgs(group, groupNotByCarol, RECOVERY);
    for (Device d : List.of(b3, c)) {
      d.ping();
    }
    assertDevices(dm, Map.of(b3, dmIds), true);
    assertDevices(group, Map.of(b3, groupIds, c, groupNotByCarol), true);

    for (int node = 1; node <= 3; node++) {
      String token = node == 1 ? ta : node == 2 ? tb : tc;
      awaitHistory("group history on node " + node, cluster.clients(node), token, group, groupAcks, RECOVERY);
    }
    awaitHistory("dm history on node 1", cluster.clients(1), ta, dm, dmAcks, RECOVERY);
    awaitHistory("dm history on node 2", cluster.clients(2), tb, dm, dmAcks, RECOVERY);
  }

  private static void assertUnavailable(JsonObject reply) {
    assertThat(reply.getString("op")).as("a send while Cassandra is down: %s", reply).isEqualTo("error");
    assertThat(reply.getString("code")).as("a send while Cassandra is down: %s", reply).isEqualTo("unavailable");
  }
}
