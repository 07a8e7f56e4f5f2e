package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's drain (issue 22; docs/protocol.md, "Restart"), on the embedded profile: with clients
 * sending throughout, the node stops being ready and refuses new connections at once, tells every
 * client to reconnect within the window, closes each connection with 1012 spread over the window
 * (not all at once), and no acked message is lost or stored twice: after a restart on the same data
 * dir, every acked msg_id is in its conversation's history once with the server_id its ack gave, and
 * a send the drain refused, resent with the same msg_id, is stored once.
 */
class DrainE2ETest {
  private static final int USERS = 20;
  private static final int DEVICES = 2;
  private static final long WINDOW_MS = 3_000;

  @TempDir
  Path dir;

  @Test
  void aDrainTellsEveryClientClosesSpreadOverTheWindowAndLosesNothing() throws Exception {
    Map<String, String> settings = Map.of("PARLEY_DRAIN_WINDOW_MS", Long.toString(WINDOW_MS),
        "PARLEY_DRAIN_TIMEOUT_MS", "30000");
    List<String> tokens = new ArrayList<>();
    Map<String, String> convOf = new HashMap<>(); // user → the DM they send into
    // msg_id → server_id of every ack, and every msg_id sent (acked or not)
    Map<String, String> acked = new ConcurrentHashMap<>();
    Map<String, String> sent = new ConcurrentHashMap<>(); // msg_id → conv
    List<Long> closedAt = new CopyOnWriteArrayList<>();
    List<WsClient> sockets = new ArrayList<>();
    long drainStart;

    try (TestNode node = TestNode.start(dir, settings); Clients clients = new Clients(node.port)) {
      for (int u = 0; u < USERS; u++) {
        tokens.add(clients.token("drain-u" + u));
      }
      for (int u = 0; u < USERS; u += 2) {
        String conv = clients.dm(tokens.get(u), "drain-u" + (u + 1));
        convOf.put("drain-u" + u, conv);
        convOf.put("drain-u" + (u + 1), conv);
      }
      for (int u = 0; u < USERS; u++) {
        for (int d = 0; d < DEVICES; d++) {
          WsClient ws = clients.online(tokens.get(u), "d" + d);
          ws.closed.thenRun(() -> closedAt.add(System.nanoTime()));
          sockets.add(ws);
        }
      }
      // every first device sends on its own timer until its connection is closed
      AtomicInteger seq = new AtomicInteger();
      for (int u = 0; u < USERS; u++) {
        WsClient ws = sockets.get(u * DEVICES);
        String conv = convOf.get("drain-u" + u);
        String user = "drain-u" + u;
        clients.vertx.setPeriodic(25 + u, id -> {
          if (ws.closed.isDone()) {
            clients.vertx.cancelTimer(id);
            return;
          }
          String msgId = user + "-" + seq.incrementAndGet();
          sent.put(msgId, conv);
          ws.send(new JsonObject().put("op", "send").put("msg_id", msgId).put("conv", conv).put("body", "b"));
        });
      }
      Await.until("every sender has an ack", () -> IntStream.range(0, USERS).allMatch(u ->
          sockets.get(u * DEVICES).frames.stream().anyMatch(f -> "ack".equals(f.getString("op")))), Duration.ofSeconds(20));

      drainStart = System.nanoTime();
      Future<Void> drained = node.node.drain();
      assertThat(clients.request(HttpMethod.GET, "/health/ready", null, null).status())
          .as("not ready from the drain's start").isEqualTo(503);
      assertThat(clients.rejectedUpgrade("/v1/ws?access_token=" + tokens.get(0) + "&device=late"))
          .as("no new connection on a draining node").isEqualTo(503);
      Await.result("the drain", drained, Duration.ofSeconds(30));

      for (WsClient ws : sockets) {
        assertThat(ws.awaitClose()).as("closed with 1012").isEqualTo((short) 1012);
        JsonObject notice = ws.frames.stream().filter(f -> "reconnect".equals(f.getString("op"))).findFirst()
            .orElseThrow(() -> new AssertionError("no reconnect frame"));
        assertThat(notice.getString("reason")).isEqualTo("restart");
        assertThat(notice.getLong("within_ms")).isEqualTo(WINDOW_MS);
        for (JsonObject f : ws.frames) {
          if ("ack".equals(f.getString("op"))) {
            assertThat(acked.put(f.getString("msg_id"), f.getString("server_id"))).as("one ack per send").isNull();
          }
        }
      }
    }

    // spread, not all at once: at most half of the connections in any one second (a window of 3 s
    // gives a third per second; the rest is slack for a loaded machine), over at least half the window
    int n = USERS * DEVICES;
    List<Long> ms = closedAt.stream().map(t -> TimeUnit.NANOSECONDS.toMillis(t - drainStart)).sorted().toList();
    assertThat(ms).hasSize(n);
    int busiest = 0;
    for (int i = 0, j = 0; i < n; i++) {
      while (ms.get(i) - ms.get(j) >= 1_000) {
        j++;
      }
      busiest = Math.max(busiest, i - j + 1);
    }
    assertThat(busiest).as("closes in the busiest second, of %d (%s ms after the drain began)", n, ms).isLessThanOrEqualTo(n / 2);
    assertThat(ms.get(n - 1) - ms.get(0)).as("closes spread over the window: %s", ms).isGreaterThanOrEqualTo(WINDOW_MS / 2);
    assertThat(acked).as("sends were acked during the drain").isNotEmpty();

    // restarted on the same data: every acked message stored once, with its acked id; an unacked
    // one, resent with its msg_id, stored once too
    try (TestNode node = TestNode.start(dir, settings); Clients clients = new Clients(node.port)) {
      WsClient ws = clients.online(tokens.get(0), "after");
      for (Map.Entry<String, String> e : sent.entrySet()) {
        if (!acked.containsKey(e.getKey())) {
          String user = e.getKey().substring(0, e.getKey().lastIndexOf('-'));
          WsClient sender = clients.online(tokens.get(Integer.parseInt(user.substring("drain-u".length()))), "resend");
          JsonObject ack = sender.sendMsg(e.getKey(), e.getValue(), "b");
          assertThat(ack.getString("op")).as("a resend is acked: %s", ack).isEqualTo("ack");
          acked.put(e.getKey(), ack.getString("server_id"));
          sender.close();
        }
      }
      Map<String, String> stored = new HashMap<>();
      for (int u = 0; u < USERS; u += 2) {
        String conv = convOf.get("drain-u" + u);
        String before = null;
        do {
          Clients.Response page = clients.request(HttpMethod.GET, "/v1/conversations/" + conv + "/messages?limit=200"
              + (before == null ? "" : "&before=" + before), tokens.get(u), null);
          assertThat(page.status()).isEqualTo(200);
          JsonArray messages = page.json().getJsonArray("messages");
          for (int i = 0; i < messages.size(); i++) {
            JsonObject m = messages.getJsonObject(i);
            assertThat(stored.put(m.getString("msg_id"), m.getString("server_id"))).as("stored once: %s", m).isNull();
          }
          before = page.json().getString("next_cursor");
        } while (before != null);
      }
      assertThat(stored).as("every sent message stored, once, under the id its ack gave").isEqualTo(acked);
      ws.close();
    }
  }
}
