package io.parley.e2e;

import static io.parley.e2e.ClusterChecks.DELIVERY;
import static io.parley.e2e.ClusterChecks.RECOVERY;
import static io.parley.e2e.ClusterChecks.assertDevices;
import static io.parley.e2e.ClusterChecks.assertStrictlyIncreasing;
import static io.parley.e2e.ClusterChecks.awaitHistory;
import static io.parley.e2e.ClusterChecks.serverIds;
import static io.parley.e2e.ClusterChecks.user;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of a node: the node a recipient is connected to (the recipient reconnects elsewhere,
 * syncs, and has every acked message once and in order), and the node that just acked a burst
 * (every acked message still reaches a recipient on another node and is in history); and SIGTERM
 * (1012 to its clients, exit 0, rejoins when started again). A stopped node is started again after
 * each test, with the same id and settings (new ports, members the live nodes).
 */
class ClusterFailoverIT {
  static final Duration RETRY_BACKOFF = Duration.ofMillis(250);
  static ClusterNodes cluster;
  final List<Device> devices = new ArrayList<>();

  @BeforeAll
  static void startCluster() {
    cluster = ClusterNodes.start("ClusterFailoverIT", 3, Map.of());
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @AfterEach
  void closeDevicesAndRestartKilledNodes() {
    devices.forEach(Device::close);
    for (ClusterNodes.Node n : cluster.nodes) {
      if (!n.alive()) {
        n.restart();
      }
    }
  }

  Device connect(int node, String user, String token, String name) {
    Device d = Device.connect(cluster, node, user, token, name);
    devices.add(d);
    return d;
  }

  @Test
  void theRecipientsNodeIsKilledAndTheRecipientSyncsEveryAckedMessageOnAnotherNode() {
    String alice = user("alice"), bob = user("bob");
    String ta = cluster.clients(1).token(alice), tb = cluster.clients(2).token(bob);
    String conv = cluster.clients(1).dm(ta, bob);
    Device a = connect(1, alice, ta, "d");
    Device b = connect(2, bob, tb, "phone");

    List<String> before = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      before.add("before-" + i);
      a.sendAsync("before-" + i, conv, "before " + i);
    }
    List<JsonObject> acked = new ArrayList<>(a.acks(before));
    List<String> beforeIds = serverIds(acked);
    b.awaitMsgs(conv, beforeIds, DELIVERY);
    assertDevices(conv, Map.of(b, beforeIds), false);
    String lastSeen = beforeIds.get(beforeIds.size() - 1);

    long killedAt = System.nanoTime();
    cluster.node(2).kill9();
    b.awaitClosed(Duration.ofSeconds(30));
    System.out.printf("[failover] node 2 killed; bob's socket closed after %d ms%n", (System.nanoTime() - killedAt) / 1_000_000);

    // sent while bob has no connection at all; a client retries `unavailable` with the same msg_id
    List<JsonObject> whileAway = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      whileAway.add(a.sendRetrying("away-" + i, conv, "away " + i, RECOVERY, RETRY_BACKOFF));
    }
    acked.addAll(whileAway);
    System.out.printf("[failover] 10 sends acked during the outage (%d retries after unavailable)%n", a.retries);

    Device b2 = connect(3, bob, tb, "phone");
    List<JsonObject> synced = b2.sync(conv, lastSeen);
    long syncedAt = System.nanoTime();
    JsonObject end = synced.get(synced.size() - 1);
    assertThat(end.getBoolean("more")).isFalse();
    List<String> backfill = serverIds(synced.subList(0, synced.size() - 1));
    assertStrictlyIncreasing("bob's backfill", backfill);
    assertThat(backfill).as("bob's backfill").doesNotHaveDuplicates().allMatch(id -> Long.parseLong(id) > Long.parseLong(lastSeen));

    List<String> after = List.of("after-0", "after-1", "after-2", "after-3", "after-4");
    after.forEach(id -> a.sendAsync(id, conv, "after " + id));
    acked.addAll(a.acks(after));
    List<String> expected = serverIds(acked).subList(beforeIds.size(), acked.size());
    assertStrictlyIncreasing("acks", serverIds(acked));
    ClusterChecks.Soft soft = new ClusterChecks.Soft(RECOVERY);
    soft.check(() -> b2.awaitMsgs(conv, expected, soft.left()));
    long completeMs = (System.nanoTime() - syncedAt) / 1_000_000;
    soft.check(() -> {
      b2.ping();
      ClusterChecks.assertDevicesAfter(conv, Map.of(b2, expected), lastSeen);
    });
    System.out.printf("[failover] bob on node 3: %d messages, %d of them in the sync (of %d acked while he was away),"
        + " %d frames in all, complete %d ms after synced, %d ms after node 2 was killed%n", expected.size(), backfill.size(),
        whileAway.size(), b2.msgIds(conv).size(), completeMs, (System.nanoTime() - killedAt) / 1_000_000);

    soft.check(() -> awaitHistory("history on node 1", cluster.clients(1), ta, conv, acked, soft.left()));
    soft.check(() -> awaitHistory("history on node 3", cluster.clients(3), tb, conv, acked, soft.left()));
    soft.done();
  }

  @Test
  void aNodeStoppedWithSigtermClosesItsSocketsWith1012ExitsZeroAndRejoinsWhenStartedAgain() {
    String alice = user("alice"), bob = user("bob");
    String ta = cluster.clients(1).token(alice), tb = cluster.clients(3).token(bob);
    String conv = cluster.clients(1).dm(ta, bob);
    Device a = connect(1, alice, ta, "d");
    Device b = connect(3, bob, tb, "phone");
    List<JsonObject> acked = new ArrayList<>();
    acked.add(a.sendAcked("before", conv, "before"));
    b.awaitMsgs(conv, serverIds(acked), DELIVERY);

    cluster.node(3).terminate();
    assertThat(b.awaitClosed(Duration.ofSeconds(30))).as("close code on SIGTERM").isEqualTo((short) 1012);
    assertThat(cluster.node(3).awaitExit()).as("exit code after SIGTERM").isZero();
    for (int i = 0; i < 5; i++) {
      acked.add(a.sendRetrying("while-down-" + i, conv, "while node 3 is down", RECOVERY, RETRY_BACKOFF));
    }
    Device b2 = connect(2, bob, tb, "phone");
    b2.sync(conv, acked.get(0).getString("server_id"));
    List<String> missed = serverIds(acked).subList(1, acked.size());
    b2.awaitMsgs(conv, missed, RECOVERY);
    ClusterChecks.assertDevicesAfter(conv, Map.of(b2, missed), acked.get(0).getString("server_id"));

    // the node comes back with the same id (new ports), joins the cluster and serves again
    cluster.node(3).restart();
    Device b3 = connect(3, bob, tb, "laptop");
    JsonObject after = a.sendRetrying("after-restart", conv, "node 3 is back", RECOVERY, RETRY_BACKOFF);
    acked.add(after);
    b3.awaitMsgs(conv, List.of(after.getString("server_id")), RECOVERY);
    b2.awaitMsgs(conv, List.of(after.getString("server_id")), RECOVERY);
    awaitHistory("history on the restarted node 3", cluster.clients(3), tb, conv, acked, RECOVERY);
  }

  @Test
  void theNodeThatAckedABurstIsKilledRightAfterTheLastAckAndEveryAckedMessageIsStillDelivered() {
    String alice = user("alice"), bob = user("bob");
    String ta = cluster.clients(1).token(alice), tb = cluster.clients(2).token(bob);
    String conv = cluster.clients(1).dm(ta, bob);
    Device a = connect(1, alice, ta, "d");
    Device b2 = connect(2, bob, tb, "phone");
    Device b3 = connect(3, bob, tb, "laptop");
    // one message end to end first, so that the path is warm and the burst is what is measured
    List<JsonObject> acked = new ArrayList<>();
    acked.add(a.sendAcked("warm", conv, "warm"));
    b2.awaitMsgs(conv, serverIds(acked), DELIVERY);
    b3.awaitMsgs(conv, serverIds(acked), DELIVERY);

    List<String> burst = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      burst.add("burst-" + i);
      a.sendAsync("burst-" + i, conv, "burst " + i);
    }
    acked.addAll(a.acks(burst));
    cluster.node(1).kill9();
    long killedAt = System.nanoTime();

    List<String> expected = serverIds(acked);
    assertStrictlyIncreasing("acks", expected);
    ClusterChecks.Soft soft = new ClusterChecks.Soft(RECOVERY);
    for (Device d : List.of(b2, b3)) {
      soft.check(() -> {
        d.awaitMsgs(conv, expected, soft.left());
        System.out.printf("[failover] %s had all %d acked messages %d ms after node 1 was killed%n", d, expected.size(),
            (System.nanoTime() - killedAt) / 1_000_000);
      });
    }
    soft.check(() -> {
      b2.ping();
      b3.ping();
      assertDevices(conv, Map.of(b2, expected, b3, expected), true);
    });
    soft.check(() -> awaitHistory("history on node 2", cluster.clients(2), tb, conv, acked, soft.left()));
    soft.check(() -> awaitHistory("history on node 3", cluster.clients(3), tb, conv, acked, soft.left()));
    soft.done();
  }
}
