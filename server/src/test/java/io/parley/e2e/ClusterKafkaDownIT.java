package io.parley.e2e;

import static io.parley.e2e.ClusterChecks.DELIVERY;
import static io.parley.e2e.ClusterChecks.RECOVERY;
import static io.parley.e2e.ClusterChecks.assertDevices;
import static io.parley.e2e.ClusterChecks.assertStrictlyIncreasing;
import static io.parley.e2e.ClusterChecks.awaitHistory;
import static io.parley.e2e.ClusterChecks.serverIds;
import static io.parley.e2e.ClusterChecks.user;
import static org.assertj.core.api.Assertions.assertThat;

import io.parley.e2e.InfraControl.Server;
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
 * Kafka stopped (through scripts/infra/infra): a send gets an {@code unavailable} error within the
 * configured send timeout plus some slack, and no ack; once Kafka is back, sends (and the retries of
 * the refused ones, with the same msg_id) are acked, and nothing acked before the outage is missing
 * from history or from delivery.
 */
class ClusterKafkaDownIT {
  static final long SEND_TIMEOUT_MS = 3000;
  static final long SLACK_MS = Long.getLong("parley.it.kafka_slack_ms", 2500);
  static ClusterNodes cluster;
  final List<Device> devices = new ArrayList<>();

  @BeforeAll
  static void startCluster() {
    cluster = ClusterNodes.start("ClusterKafkaDownIT", 3, Map.of("PARLEY_KAFKA_SEND_TIMEOUT_MS", Long.toString(SEND_TIMEOUT_MS)));
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @AfterEach
  void restartKafka() {
    devices.forEach(Device::close);
    InfraControl.start(Server.KAFKA);
  }

  Device connect(int node, String user, String token, String name) {
    Device d = Device.connect(cluster, node, user, token, name);
    devices.add(d);
    return d;
  }

  @Test
  void sendsAreRefusedAsUnavailableInBoundedTimeWhileKafkaIsDownAndNothingAckedIsLost() {
    String alice = user("alice"), bob = user("bob");
    String ta = cluster.clients(1).token(alice), tb = cluster.clients(2).token(bob);
    String conv = cluster.clients(1).dm(ta, bob);
    Device a = connect(1, alice, ta, "d");
    Device b = connect(2, bob, tb, "d");
    Device b3 = connect(3, bob, tb, "other");

    List<JsonObject> acked = new ArrayList<>();
    List<String> first = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      first.add("up-" + i);
      a.sendAsync("up-" + i, conv, "up " + i);
    }
    acked.addAll(a.acks(first));
    acked.add(b.sendAcked("bob-up", conv, "bob while kafka is up"));
    b3.awaitMsgs(conv, serverIds(acked), DELIVERY);

    List<String> refused = new ArrayList<>();
    try {
      InfraControl.stop(Server.KAFKA);
      for (int i = 0; i < 3; i++) {
        refused.add(expectUnavailable(a, "down-a-" + i, conv));
      }
      refused.add(expectUnavailable(b, "down-b-0", conv));
      // none of the refused sends was acked meanwhile
      a.ping();
      b.ping();
      for (Device d : List.of(a, b)) {
        assertThat(d.frames).as("%s: no ack for a refused send", d)
            .noneMatch(f -> "ack".equals(f.getString("op")) && refused.contains(f.getString("msg_id")));
      }
    } finally {
      InfraControl.start(Server.KAFKA);
    }

    // back: the refused sends, retried with their msg_id, and new ones are acked
    long back = System.nanoTime();
    for (String id : refused) {
      Device d = id.startsWith("down-b") ? b : a;
      acked.add(d.sendRetrying(id, conv, "retry " + id, RECOVERY, Duration.ofMillis(500)));
    }
    System.out.printf("[kafka-down] the %d refused sends, retried, were acked within %d ms after Kafka was ready again"
        + " (%d of the retries were refused again)%n", refused.size(), (System.nanoTime() - back) / 1_000_000, a.retries + b.retries);
    List<String> later = List.of("later-0", "later-1", "later-2", "later-3", "later-4");
    later.forEach(id -> a.sendAsync(id, conv, "later " + id));
    acked.addAll(a.acks(later));

    List<String> expected = ClusterChecks.ascending(serverIds(acked));
    assertThat(expected).doesNotHaveDuplicates();
    assertStrictlyIncreasing("acks of alice's later sends", serverIds(acked.subList(acked.size() - 5, acked.size())));
    b3.awaitMsgs(conv, expected, RECOVERY);
    b3.ping();
    assertDevices(conv, Map.of(b3, expected), true);
    List<JsonObject> inOrder = new ArrayList<>(acked);
    inOrder.sort((x, y) -> Long.compare(Long.parseLong(x.getString("server_id")), Long.parseLong(y.getString("server_id"))));
    awaitHistory("history on node 3", cluster.clients(3), tb, conv, inOrder, RECOVERY);
  }

  /** Sends while Kafka is down: an {@code unavailable} error within the send timeout + slack; returns the msg_id. */
  private String expectUnavailable(Device d, String msgId, String conv) {
    long t0 = System.nanoTime();
    d.sendAsync(msgId, conv, "while kafka is down");
    JsonObject reply = d.reply(msgId, Duration.ofMillis(SEND_TIMEOUT_MS + SLACK_MS));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.printf("[kafka-down] %s: %s after %d ms%n", msgId, reply.encode(), ms);
    assertThat(reply.getString("op")).as("reply to %s while Kafka is down: %s", msgId, reply.encode()).isEqualTo("error");
    assertThat(reply.getString("code")).isEqualTo("unavailable");
    assertThat(reply.getString("conv")).isEqualTo(conv);
    assertThat(ms).as("time to the error").isLessThanOrEqualTo(SEND_TIMEOUT_MS + SLACK_MS);
    return msgId;
  }
}
