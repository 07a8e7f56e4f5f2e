package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.pushfakes.FakeFcmService;
import io.parley.pushfakes.FakePushService;
import io.parley.pushfakes.Pacing.Accepted;
import io.parley.testing.Await;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17's kill -9 drill: the jar as a process, FCM (the local fake) throttling every push, so
 * the offline devices' pushes pile up in the RocksDB queue; the process is killed with SIGKILL,
 * FCM stops throttling and the process restarts on the same data dir: every (device,
 * conversation) gets a push naming its conversation's newest message. Repeats are allowed (a
 * finished job's delete may die with the process) and printed.
 *
 * <p>Each recipient also has a Web Push device, which nothing throttles: a message's jobs for all
 * of a user's devices are appended to the queue in one write, so once every Web Push device has
 * its conversations' newest messages, the FCM jobs for them are durable too and the kill comes
 * mid-backlog, never before the backlog exists.
 */
class PushKillIT {
  static final String SECRET = "push-kill-it-secret-push-kill-it-secret-01";
  static final int RECIPIENTS = 10;
  static final Duration DRAIN = Duration.ofSeconds(60);
  @TempDir
  Path dir;
  ServerProcess server;
  Clients clients;
  FakeFcmService fcm;
  FakePushService webPush;

  @AfterEach
  void cleanup() throws InterruptedException {
    if (clients != null) {
      clients.close();
    }
    if (server != null && server.process.isAlive()) {
      server.kill9();
    }
    if (webPush != null) {
      webPush.close();
    }
    if (fcm != null) {
      fcm.close();
    }
  }

  @Test
  void pushesQueuedWhenTheNodeIsKilledAreSentAfterItsRestart() throws Exception {
    fcm = new FakeFcmService();
    Path data = Files.createDirectories(dir.resolve("data"));
    Map<String, String> env = Map.of(
        "PARLEY_PUSH_FCM_SERVICE_ACCOUNT_FILE", fcm.writeServiceAccount(dir.resolve("service-account.json")).toString(),
        "PARLEY_PUSH_FCM_BASE_URL", fcm.origin(), "PARLEY_PUSH_COALESCE_MS", "1000");
    server = ServerProcess.start(data, 0, SECRET, env);
    clients = new Clients(server.port);
    webPush = new FakePushService(clients.request(HttpMethod.GET, "/v1/push/webpush-key", null, null).json()
        .getString("public_key"));

    String ta = EdgeE2ETest.sign("alice", SECRET, 0);
    List<String> fcmTokens = new ArrayList<>();
    List<String> subscriptions = new ArrayList<>();
    List<String> recipients = new ArrayList<>();
    for (int r = 0; r < RECIPIENTS; r++) {
      String token = EdgeE2ETest.sign("r" + r, SECRET, 0);
      recipients.add("r" + r);
      fcmTokens.add(PushDrillE2ETest.fcmDevice(clients, token, "phone"));
      FakePushService.Subscription s = webPush.subscribe();
      Clients.Response reg = clients.request(HttpMethod.PUT, "/v1/devices/laptop/push", token, s.registration());
      assertThat(reg.status()).as(reg.body()).isEqualTo(204);
      subscriptions.add(s.id);
    }
    List<String> groups = List.of(clients.group(ta, recipients), clients.group(ta, recipients.subList(0, RECIPIENTS / 2)));
    WsClient a = clients.online(ta, "desk");

    fcm.pacing.throttle(0, 1, 0); // 429, Retry-After: 1, until told otherwise
    int messages = 50;
    for (int i = 0; i < messages; i++) {
      a.send(new JsonObject().put("op", "send").put("msg_id", "m" + i).put("conv", groups.get(i % 5 < 3 ? 0 : 1))
          .put("body", "b" + i));
    }
    Map<String, Long> newest = new HashMap<>();
    Map<String, Integer> perConv = new HashMap<>();
    for (int i = 0; i < messages; i++) {
      JsonObject ack = a.next("ack");
      newest.merge(ack.getString("conv"), Long.parseLong(ack.getString("server_id")), Math::max);
      perConv.merge(ack.getString("conv"), 1, Integer::sum);
    }
    Map<String, String> fcmSlots = new LinkedHashMap<>();
    Map<String, String> webPushSlots = new LinkedHashMap<>();
    for (int r = 0; r < RECIPIENTS; r++) {
      for (String g : r < RECIPIENTS / 2 ? groups : groups.subList(0, 1)) {
        fcmSlots.put(fcmTokens.get(r) + "|" + g, Long.toString(newest.get(g)));
        webPushSlots.put(subscriptions.get(r) + "|" + g, Long.toString(newest.get(g)));
      }
    }
    Await.until("every Web Push device has its conversations' newest messages (so the FCM jobs are queued)",
        () -> covered(webPush.pacing.accepted, webPushSlots), DRAIN, Duration.ofMillis(20));
    Await.until("FCM is being asked and throttles", () -> fcm.pacing.throttledCount() > 0, DRAIN, Duration.ofMillis(20));
    assertThat(fcm.pacing.acceptedCount()).as("nothing through FCM before the kill").isZero();
    long webPushBefore = webPush.pacing.acceptedCount();

    server.kill9();
    clients.close();
    fcm.pacing.throttleOff();
    server = ServerProcess.start(data, 0, SECRET, env);
    clients = new Clients(server.port);

    long restarted = System.nanoTime();
    Await.until("every (device, conversation) got an FCM push for its newest message",
        () -> covered(fcm.pacing.accepted, fcmSlots), DRAIN, Duration.ofMillis(20));
    long drainedMs = (System.nanoTime() - restarted) / 1_000_000;
    Map<String, List<Accepted>> bySlot = bySlot(fcm.pacing.accepted);
    int counted = 0;
    int expected = 0;
    for (Map.Entry<String, String> slot : fcmSlots.entrySet()) {
      List<Accepted> pushes = bySlot.get(slot.getKey());
      String conv = slot.getKey().substring(slot.getKey().indexOf('|') + 1);
      counted += pushes.stream().mapToInt(Accepted::count).sum();
      expected += perConv.get(conv);
      assertThat(pushes.get(pushes.size() - 1).serverId()).as("the last push of %s", slot.getKey()).isEqualTo(slot.getValue());
    }
    assertThat(bySlot.keySet()).containsExactlyInAnyOrderElementsOf(fcmSlots.keySet());
    System.out.printf("kill -9 drill: %d FCM pushes for %d (device, conversation) pairs %d ms after the restart, counting %d"
            + " messages of %d owed (%d counted twice); Web Push pushes repeated after the restart: %d%n",
        fcm.pacing.acceptedCount(), fcmSlots.size(), drainedMs, counted, expected, counted - expected,
        webPush.pacing.acceptedCount() - webPushBefore);
    assertThat(counted).as("every message owed is counted by a push").isGreaterThanOrEqualTo(expected);
    assertThat(fcm.errors).isEmpty();
    assertThat(webPush.errors).isEmpty();
  }

  /** Whether, for every slot ("address|conv"), a push naming its newest message was accepted. */
  private static boolean covered(Iterable<Accepted> accepted, Map<String, String> slots) {
    Map<String, String> missing = new HashMap<>(slots);
    for (Accepted acc : accepted) {
      missing.remove(acc.address() + "|" + acc.conv(), acc.serverId());
    }
    return missing.isEmpty();
  }

  private static Map<String, List<Accepted>> bySlot(Iterable<Accepted> accepted) {
    Map<String, List<Accepted>> out = new HashMap<>();
    for (Accepted acc : accepted) {
      out.computeIfAbsent(acc.address() + "|" + acc.conv(), k -> new ArrayList<>()).add(acc);
    }
    return out;
  }
}
