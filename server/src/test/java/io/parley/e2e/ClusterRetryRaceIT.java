package io.parley.e2e;

import static io.parley.e2e.ClusterChecks.DELIVERY;
import static io.parley.e2e.ClusterChecks.assertDevices;
import static io.parley.e2e.ClusterChecks.awaitHistory;
import static io.parley.e2e.ClusterChecks.serverIds;
import static io.parley.e2e.ClusterChecks.user;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A retried send is acked with the original {@code server_id} and {@code ts} on the cluster
 * profile, whichever node the retry reaches and however it races the original: one msg_id sent
 * through two nodes at the same moment, and again through a third connection once acked, while
 * every Cassandra round trip of both nodes is slowed down by a {@link DelayProxy} (40–60 ms each
 * way), so routing's persist is slow and retries overtake it. Every pair is acked with one id,
 * history holds each message once under that id, and the recipient gets each once. Again with the
 * first copy flagged as the client's first attempt ({@code "first": true}, whose dedupe read
 * routing skips) and every other copy as a retry ({@code "first": false}): half the pairs at once
 * (mostly routed in one batch), half with the first attempt sent only once its retry through the
 * other node was acked (a node that stalled with the first copy unread): routing must resolve each
 * late first attempt to the retry stored ahead of it.
 */
class ClusterRetryRaceIT {
  static final int SENDS = 100;
  static DelayProxy cassandra;
  static ClusterNodes cluster;

  @BeforeAll
  static void startCluster() {
    cassandra = DelayProxy.to(ClusterNodes.CASSANDRA);
    cluster = ClusterNodes.start("ClusterRetryRaceIT", 2,
        Map.of("PARLEY_CASSANDRA_CONTACT", "127.0.0.1:" + cassandra.port()));
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
    if (cassandra != null) {
      cassandra.close();
    }
  }

  int resends;
  /** The flag resends carry: false when the test flags its sends, null when it does not. */
  Boolean resendFlag;

  /**
   * The acks of {@code msgIds} on {@code d}, in that order, behaving as a client: a send answered
   * {@code unavailable} (storage slower than the send timeout) is sent again with the same msg_id.
   */
  List<JsonObject> acks(Device d, String conv, List<String> msgIds) {
    List<JsonObject> out = new ArrayList<>();
    for (String id : msgIds) {
      for (int attempt = 0; ; attempt++) {
        JsonObject r = d.reply(id, Device.FRAME_WAIT);
        if ("ack".equals(r.getString("op"))) {
          out.add(r);
          break;
        }
        assertThat(r.getString("code")).as("%s: reply to %s (attempt %d): %s", d, id, attempt, r.encode())
            .isEqualTo("unavailable");
        assertThat(attempt).as("%s: attempts at %s", d, id).isLessThan(20);
        resends++;
        d.sendAsync(id, conv, "resent", resendFlag);
      }
    }
    return out;
  }

  @Test
  void oneMsgIdThroughTwoNodesAtOnceUnderSlowStorageIsAckedWithOneIdStoredAndDeliveredOnce() {
    race("race-", null, null);
  }

  @Test
  void aFlaggedFirstAttemptRacingItsRetryThroughAnotherNodeIsAckedWithOneIdStoredAndDeliveredOnce() {
    race("first-", true, false);
  }

  /**
   * The race, its first copies flagged {@code first} (through node 1), its retries {@code retry}
   * (through node 2 at once, then through node 1 again once acked, and after {@code unavailable}).
   * With flags, the second half's first copies go only once their retries were acked.
   */
  void race(String prefix, Boolean first, Boolean retry) {
    resends = 0;
    resendFlag = retry;
    String alice = user("alice"), bob = user("bob");
    String ta = cluster.clients(1).token(alice), tb = cluster.clients(2).token(bob);
    String conv = cluster.clients(1).dm(ta, bob);
    Device a1 = Device.connect(cluster, 1, alice, ta, "phone");
    Device a2 = Device.connect(cluster, 2, alice, ta, "laptop");
    Device b = Device.connect(cluster, 2, bob, tb, "phone");
    try {
      cassandra.delay(40, 20);
      List<String> msgIds = new ArrayList<>();
      int together = first == null ? SENDS : SENDS / 2;
      for (int i = 0; i < SENDS; i++) {
        String id = prefix + i;
        msgIds.add(id);
        // the same send through both nodes at once: a client retrying on another connection
        if (i < together) {
          a1.sendAsync(id, conv, "race " + i, first);
        }
        a2.sendAsync(id, conv, "race " + i, retry);
      }
      List<JsonObject> acks2 = acks(a2, conv, msgIds);
      // the late first copies: their retries are stored already
      for (int i = together; i < SENDS; i++) {
        a1.sendAsync(msgIds.get(i), conv, "race " + i, first);
      }
      List<JsonObject> acks1 = acks(a1, conv, msgIds);
      // a late retry of every send, once acked, through a third connection
      Device a3 = Device.connect(cluster, 1, alice, ta, "tablet");
      msgIds.forEach(id -> a3.sendAsync(id, conv, "retried late", retry));
      List<JsonObject> acks3 = acks(a3, conv, msgIds);
      a3.close();
      cassandra.delay(0, 0);

      int differing = 0;
      for (int i = 0; i < SENDS; i++) {
        JsonObject x = acks1.get(i), y = acks2.get(i), z = acks3.get(i);
        if (!x.getString("server_id").equals(y.getString("server_id"))
            || !x.getString("server_id").equals(z.getString("server_id"))
            || !x.getLong("ts").equals(y.getLong("ts")) || !x.getLong("ts").equals(z.getLong("ts"))) {
          differing++;
          System.out.printf("[race] %s acked as %s / %s / %s%n", msgIds.get(i), x.encode(), y.encode(), z.encode());
        }
      }
      System.out.printf("[race %s] %d sends through two nodes at once under slow storage (%d resends after unavailable):"
          + " %d acked with differing ids%n", prefix, SENDS, resends, differing);
      assertThat(differing).as("sends whose acks carry differing server_id or ts").isZero();

      List<JsonObject> ordered = new ArrayList<>(acks1);
      ordered.sort((p, q) -> Long.compare(Long.parseLong(p.getString("server_id")), Long.parseLong(q.getString("server_id"))));
      awaitHistory("history on node 1", cluster.clients(1), ta, conv, ordered, DELIVERY);
      awaitHistory("history on node 2", cluster.clients(2), tb, conv, ordered, DELIVERY);
      b.awaitMsgs(conv, serverIds(ordered), DELIVERY);
      b.ping();
      assertDevices(conv, Map.of(b, serverIds(ordered)), false);
    } finally {
      cassandra.delay(0, 0);
      a1.close();
      a2.close();
      b.close();
    }
  }
}
