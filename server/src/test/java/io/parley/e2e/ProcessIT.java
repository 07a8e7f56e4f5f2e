package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar as a process: acked messages survive kill -9 and a restart, a retried msg_id keeps its
 * server_id across the restart, and SIGTERM drains (1012 to clients, storage flushed, exit 0).
 */
class ProcessIT {
  static final String SECRET = "process-it-secret-process-it-secret-0123";
  @TempDir
  Path dataDir;
  ServerProcess server;
  Clients clients;

  @AfterEach
  void cleanup() throws InterruptedException {
    if (clients != null) {
      clients.close();
    }
    if (server != null && server.process.isAlive()) {
      server.kill9();
    }
  }

  @Test
  void ackedMessagesSurviveKillDashNineAndRetriesKeepTheirServerIdAcrossRestart() throws Exception {
    server = ServerProcess.start(dataDir, 0, SECRET);
    clients = new Clients(server.port);
    String ta = EdgeE2ETest.sign("alice", SECRET, 0);
    String conv = clients.dm(ta, "bob");
    WsClient a = clients.connect(ta, "d");

    Map<String, String> acked = new HashMap<>();
    for (int i = 0; i < 100; i++) {
      a.send(new JsonObject().put("op", "send").put("msg_id", "k" + i).put("conv", conv).put("body", "body " + i));
    }
    for (int i = 0; i < 100; i++) {
      JsonObject ack = a.next("ack");
      acked.put(ack.getString("msg_id"), ack.getString("server_id"));
    }
    // more sends in flight when the process dies: those acked before the kill must survive too
    for (int i = 100; i < 150; i++) {
      a.send(new JsonObject().put("op", "send").put("msg_id", "k" + i).put("conv", conv).put("body", "body " + i));
    }
    for (int i = 0; i < 10; i++) {
      JsonObject ack = a.next("ack");
      acked.put(ack.getString("msg_id"), ack.getString("server_id"));
    }
    server.kill9();
    for (JsonObject late; (late = a.poll(java.time.Duration.ZERO)) != null; ) {
      if ("ack".equals(late.getString("op"))) {
        acked.put(late.getString("msg_id"), late.getString("server_id"));
      }
    }
    clients.close();

    server = ServerProcess.start(dataDir, 0, SECRET);
    clients = new Clients(server.port);
    JsonArray stored = clients.request(HttpMethod.GET, "/v1/conversations/" + conv + "/messages?limit=200", ta, null)
        .json().getJsonArray("messages");
    Map<String, String> storedIds = new HashMap<>();
    List<Long> order = new ArrayList<>();
    for (Object o : stored) {
      JsonObject m = (JsonObject) o;
      assertThat(storedIds.put(m.getString("msg_id"), m.getString("server_id"))).as("stored once").isNull();
      order.add(Long.parseLong(m.getString("server_id")));
    }
    assertThat(storedIds).containsAllEntriesOf(acked);
    for (int i = 1; i < order.size(); i++) {
      assertThat(order.get(i)).isLessThan(order.get(i - 1));
    }

    WsClient again = clients.connect(ta, "d");
    JsonObject retry = again.sendMsg("k7", conv, "body 7");
    assertThat(retry.getString("server_id")).isEqualTo(acked.get("k7"));
    JsonObject fresh = again.sendMsg("after-restart", conv, "new");
    assertThat(Long.parseLong(fresh.getString("server_id"))).isGreaterThan(order.get(0));
    JsonArray after = clients.request(HttpMethod.GET, "/v1/conversations/" + conv + "/messages?limit=200", ta, null)
        .json().getJsonArray("messages");
    assertThat(after.size()).isEqualTo(stored.size() + 1);
  }

  @Test
  void sigtermClosesSocketsWith1012FlushesAndExitsZero() throws Exception {
    server = ServerProcess.start(dataDir, 0, SECRET);
    clients = new Clients(server.port);
    String ta = EdgeE2ETest.sign("carol", SECRET, 0);
    String conv = clients.dm(ta, "dave");
    WsClient a = clients.connect(ta, "d");
    LinkedHashSet<String> ids = new LinkedHashSet<>();
    for (int i = 0; i < 20; i++) {
      ids.add(a.sendMsg("t" + i, conv, "t" + i).getString("server_id"));
    }
    server.terminate();
    JsonObject notice = a.next("reconnect");
    assertThat(notice.getLong("within_ms")).as("the embedded default window").isEqualTo(2_000L);
    assertThat(a.awaitClose()).isEqualTo((short) 1012);
    assertThat(server.awaitExit()).isZero();
    clients.close();

    server = ServerProcess.start(dataDir, 0, SECRET);
    clients = new Clients(server.port);
    JsonArray stored = clients.request(HttpMethod.GET, "/v1/conversations/" + conv + "/messages", ta, null)
        .json().getJsonArray("messages");
    List<String> storedIds = stored.stream().map(o -> ((JsonObject) o).getString("server_id")).toList();
    List<String> expected = new ArrayList<>(ids);
    java.util.Collections.reverse(expected);
    assertThat(storedIds).containsExactlyElementsOf(expected);
  }

  /**
   * A drain waits out its window (here ten minutes; the second connection's moment falls in its
   * second half) unless a second SIGTERM comes: then every connection left is closed with 1012 at
   * once and the process exits 0 well within the wait below.
   */
  @Test
  void aSecondSigtermSkipsTheRestOfTheDrainWindow() throws Exception {
    server = ServerProcess.start(dataDir, 0, SECRET, Map.of("PARLEY_DRAIN_WINDOW_MS", "600000",
        "PARLEY_DRAIN_TIMEOUT_MS", "600000"));
    clients = new Clients(server.port);
    String token = EdgeE2ETest.sign("erin", SECRET, 0);
    WsClient a = clients.connect(token, "a");
    WsClient b = clients.connect(token, "b");
    server.terminate();
    assertThat(a.next("reconnect").getLong("within_ms")).isEqualTo(600_000L);
    assertThat(b.next("reconnect").getLong("within_ms")).isEqualTo(600_000L);
    server.terminate();
    assertThat(a.awaitClose()).isEqualTo((short) 1012);
    assertThat(b.awaitClose()).isEqualTo((short) 1012);
    assertThat(server.awaitExit()).isZero();
  }
}
