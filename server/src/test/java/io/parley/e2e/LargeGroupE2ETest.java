package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.gateway.Auth;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A group at the large-group cap: 5,000 members, each with a live connection, gets every message
 * on every connection exactly once and in order (10,000 sockets in this JVM: both ends).
 */
class LargeGroupE2ETest {
  static final int MEMBERS = 5000;
  @TempDir
  static Path dir;
  static TestNode node;
  static Clients clients;

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

  @Test
  void everyConnectionOfAFiveThousandMemberGroupGetsEachMessageOnceInOrder() {
    List<String> users = new ArrayList<>();
    for (int i = 0; i < MEMBERS; i++) {
      users.add("big-" + i);
    }
    Auth auth = new Auth(clients.vertx, node.node.config().jwtSecret());
    List<String> tokens = users.stream().map(u -> auth.issue(u, 600)).toList();
    String conv = clients.group(tokens.get(0), users.subList(1, MEMBERS));

    List<WsClient> conns = new ArrayList<>();
    for (int start = 0; start < MEMBERS; start += 250) {
      List<Future<WsClient>> batch = new ArrayList<>();
      for (int i = start; i < Math.min(MEMBERS, start + 250); i++) {
        batch.add(clients.connectAsync(tokens.get(i), "d"));
      }
      for (Future<WsClient> f : batch) {
        conns.add(Await.result(f, Clients.WAIT));
      }
    }
    int[] senders = {0, 2500, 4999};
    List<String> ids = new ArrayList<>();
    for (int s : senders) {
      ids.add(conns.get(s).sendMsgSkippingDeliveries("big-msg-" + s, conv, "hello " + s));
    }
    for (int c = 0; c < MEMBERS; c++) {
      List<String> expected = new ArrayList<>();
      for (int k = 0; k < senders.length; k++) {
        if (senders[k] != c) {
          expected.add(ids.get(k));
        }
      }
      WsClient conn = conns.get(c);
      List<String> got = new ArrayList<>(conn.skipped);
      while (got.size() < expected.size()) {
        JsonObject msg = conn.next("msg");
        got.add(msg.getString("server_id"));
      }
      assertThat(got).as("connection %d", c).containsExactlyElementsOf(expected);
    }
    // nothing extra anywhere: a round trip on a sample of connections, including every sender
    for (int c : new int[] {0, 1, 2500, 3333, 4998, 4999}) {
      assertThat(conns.get(c).drainWithPing()).isEmpty();
    }
  }
}
