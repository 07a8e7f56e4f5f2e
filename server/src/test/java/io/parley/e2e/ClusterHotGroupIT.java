package io.parley.e2e;

import static io.parley.e2e.ClusterChecks.DELIVERY;
import static io.parley.e2e.ClusterChecks.assertDevices;
import static io.parley.e2e.ClusterChecks.assertStrictlyIncreasing;
import static io.parley.e2e.ClusterChecks.awaitHistory;
import static io.parley.e2e.ClusterChecks.serverIds;
import static io.parley.e2e.ClusterChecks.user;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hot conversations on three nodes of the cluster profile (separate JVMs) with a hot threshold of
 * {@value #HOT} members and {@value #SHARDS} sub-partitions: a group of {@value #GROUP} users with
 * devices on every node, several senders at once. Every device gets every message exactly once and
 * in server_id order, every node's history holds them, and every node did fan-out work for the hot
 * group (the routing node sent parts to the other nodes' fan-out, which served them, read from each
 * node's {@code GET /health/fanout}); a group at the threshold is fanned out by its routing node
 * alone.
 */
class ClusterHotGroupIT {
  static final int HOT = 8;
  static final int SHARDS = 4;
  static final int GROUP = 30;
  static final int NODES = 3;
  static ClusterNodes cluster;
  final List<Device> devices = new ArrayList<>();

  @BeforeAll
  static void startCluster() {
    cluster = ClusterNodes.start("ClusterHotGroupIT", NODES, Map.of(
        "PARLEY_ROUTING_HOT_GROUP_MEMBERS", Integer.toString(HOT),
        "PARLEY_ROUTING_HOT_FANOUT_SHARDS", Integer.toString(SHARDS)));
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

  static JsonObject fanoutStats(int node) {
    Clients.Response r = cluster.clients(node).request(HttpMethod.GET, "/health/fanout", null, null);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json();
  }

  static Map<Integer, JsonObject> allStats() {
    Map<Integer, JsonObject> out = new LinkedHashMap<>();
    for (int n = 1; n <= NODES; n++) {
      out.put(n, fanoutStats(n));
    }
    return out;
  }

  static long delta(Map<Integer, JsonObject> before, Map<Integer, JsonObject> after, int node, String key) {
    return after.get(node).getLong(key) - before.get(node).getLong(key);
  }

  /**
   * {@code senders} members each send {@code perSender} messages at once; returns every ack in
   * server_id order after checking that every device of {@code conns} got exactly the messages of
   * others and of its user's other devices, once each and in order, and that every node's history
   * holds them.
   */
  static List<JsonObject> sendAndCheck(String conv, List<Device> conns, List<String> tokens, int senders, int perSender) {
    Map<Device, List<String>> msgIds = new LinkedHashMap<>();
    for (int k = 0; k < perSender; k++) {
      for (int s = 0; s < senders; s++) {
        Device d = conns.get(s);
        String id = "s" + s + "-" + k;
        msgIds.computeIfAbsent(d, x -> new ArrayList<>()).add(id);
        d.sendAsync(id, conv, "sender " + s + " says " + k);
      }
    }
    List<JsonObject> all = new ArrayList<>();
    Map<Device, List<String>> sentBy = new LinkedHashMap<>();
    msgIds.forEach((d, ids) -> {
      List<JsonObject> acks = d.acks(ids);
      assertStrictlyIncreasing("acks of " + d, serverIds(acks));
      sentBy.put(d, new ArrayList<>(serverIds(acks)));
      all.addAll(acks);
    });
    // a barrier from the first sender: anything duplicated or late shows up before it
    JsonObject barrier = conns.get(0).sendAcked("barrier", conv, "end");
    sentBy.get(conns.get(0)).add(barrier.getString("server_id"));
    all.add(barrier);
    all.sort(Comparator.comparing(a -> Long.parseLong(a.getString("server_id"))));
    List<String> allIds = serverIds(all);
    assertThat(allIds).doesNotHaveDuplicates().hasSize(senders * perSender + 1);

    Map<Device, List<String>> expected = new LinkedHashMap<>();
    for (Device d : conns) {
      List<String> own = sentBy.getOrDefault(d, List.of());
      expected.put(d, allIds.stream().filter(id -> !own.contains(id)).toList());
    }
    for (Map.Entry<Device, List<String>> e : expected.entrySet()) {
      e.getKey().awaitMsgs(conv, e.getValue(), DELIVERY);
      e.getKey().ping();
    }
    assertDevices(conv, expected, false);
    for (int node = 1; node <= NODES; node++) {
      awaitHistory("history on node " + node, cluster.clients(node), tokens.get(0), conv, all, DELIVERY);
    }
    return all;
  }

  @Test
  void aHotGroupIsFannedOutByEveryNodeAndEveryDeviceGetsEveryMessageOnceInOrder() {
    List<String> users = new ArrayList<>();
    List<String> tokens = new ArrayList<>();
    for (int i = 0; i < GROUP; i++) {
      users.add(user("hot"));
      tokens.add(cluster.clients(i % NODES + 1).token(users.get(i)));
    }
    String conv = cluster.clients(1).group(tokens.get(0), users.subList(1, GROUP));
    // the senders first (their sending connections), then one device per member, spread over the
    // nodes, and the first three members with a device on every node (the senders' other devices)
    List<Device> conns = new ArrayList<>();
    for (int i = 0; i < GROUP; i++) {
      conns.add(connect(i % NODES + 1, users.get(i), tokens.get(i), "d"));
    }
    for (int i = 0; i < 3; i++) {
      for (int node = 1; node <= NODES; node++) {
        if (node != i % NODES + 1) {
          conns.add(connect(node, users.get(i), tokens.get(i), "other-" + node));
        }
      }
    }
    Map<Integer, JsonObject> before = allStats();

    sendAndCheck(conv, conns, tokens, 5, 8);

    Map<Integer, JsonObject> after = allStats();
    int served = 0;
    for (int n = 1; n <= NODES; n++) {
      long forOthers = delta(before, after, n, "served_for_others");
      long toOthers = delta(before, after, n, "sent_to_others");
      assertThat(forOthers + toOthers).as("node %d did fan-out work for the hot group (stats before %s, after %s)",
          n, before.get(n), after.get(n)).isPositive();
      assertThat(delta(before, after, n, "unconfirmed_by_others")).as("node %d: every part confirmed", n).isZero();
      if (forOthers > 0) {
        assertThat(delta(before, after, n, "recipients_for_others")).isPositive();
        served++;
      }
    }
    assertThat(served).as("nodes that fanned out parts routed elsewhere: all but the routing node").isGreaterThanOrEqualTo(NODES - 1);
  }

  @Test
  void aGroupAtTheThresholdIsFannedOutByItsRoutingNodeAlone() {
    List<String> users = new ArrayList<>();
    List<String> tokens = new ArrayList<>();
    for (int i = 0; i < HOT; i++) {
      users.add(user("warm"));
      tokens.add(cluster.clients(i % NODES + 1).token(users.get(i)));
    }
    String conv = cluster.clients(2).group(tokens.get(0), users.subList(1, HOT));
    List<Device> conns = new ArrayList<>();
    for (int i = 0; i < HOT; i++) {
      conns.add(connect(i % NODES + 1, users.get(i), tokens.get(i), "d"));
    }
    Map<Integer, JsonObject> before = allStats();

    sendAndCheck(conv, conns, tokens, 3, 5);

    Map<Integer, JsonObject> after = allStats();
    long batches = 0;
    for (int n = 1; n <= NODES; n++) {
      assertThat(delta(before, after, n, "served_for_others")).as("node %d served nothing for other nodes", n).isZero();
      assertThat(delta(before, after, n, "sent_to_others")).as("node %d sent nothing to other nodes", n).isZero();
      batches += delta(before, after, n, "batches");
    }
    assertThat(batches).as("the routing node's own fan-out did the work").isPositive();
  }
}
