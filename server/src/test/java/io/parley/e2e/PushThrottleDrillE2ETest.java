package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.push.PushStats;
import io.parley.pushfakes.FakeFcmService;
import io.parley.pushfakes.Pacing.Accepted;
import io.parley.testing.Await;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17's throttle drill, end to end on the embedded profile: FCM (the local fake) answers every
 * push 429 with {@code Retry-After} for 30 s while messages keep arriving for 50 offline devices
 * in five groups (each device in two: 100 (device, conversation) pairs). During the throttle the
 * online member of every group gets each message live, as fast as without push load; afterwards
 * the backlog drains: each pair's last push names its conversation's newest message, and the
 * pair's pushes together count each of its messages exactly once — nothing lost, nothing counted
 * twice. Runs about 35 s: the 30 s are the drill, kept whole on purpose.
 */
class PushThrottleDrillE2ETest {
  static final int DEVICES = 50;
  static final int GROUPS = 5;
  static final int MESSAGES = 300;
  static final long THROTTLE_MS = 30_000;
  static final int RETRY_AFTER_S = 2;
  static final long SEND_EVERY_MS = 80;
  static final long ONLINE_BOUND_MS = 1000;

  @Test
  void aThrottledProviderBuildsABacklogThatDrainsWithNothingLostWhileOnlineDeliveryIsUnaffected(@TempDir Path dir)
      throws Exception {
    try (FakeFcmService fcm = new FakeFcmService()) {
      Path account = fcm.writeServiceAccount(dir.resolve("service-account.json"));
      TestNode node = TestNode.start(Files.createDirectories(dir.resolve("data")), Map.of(
          "PARLEY_PUSH_FCM_SERVICE_ACCOUNT_FILE", account.toString(), "PARLEY_PUSH_FCM_BASE_URL", fcm.origin(),
          "PARLEY_PUSH_WEBPUSH_ENABLED", "false", "PARLEY_PUSH_COALESCE_MS", "1000"));
      Clients clients = new Clients(node.port);
      try {
        drill(fcm, node, clients);
      } finally {
        clients.close();
        node.close();
      }
    }
  }

  private static void drill(FakeFcmService fcm, TestNode node, Clients clients) throws Exception {
    String alice = "alice-drill", olive = "olive-drill";
    String ta = clients.token(alice), to = clients.token(olive);
    List<String> tokens = new ArrayList<>();
    for (int r = 0; r < DEVICES; r++) {
      tokens.add(PushDrillE2ETest.fcmDevice(clients, clients.token("r" + r), "phone"));
    }
    // recipient r is in groups r % 5 and (r + 1) % 5; olive, online, is in all of them
    List<String> groups = new ArrayList<>();
    for (int g = 0; g < GROUPS; g++) {
      List<String> members = new ArrayList<>(List.of(olive));
      for (int r = 0; r < DEVICES; r++) {
        if (r % GROUPS == g || (r + 1) % GROUPS == g) {
          members.add("r" + r);
        }
      }
      groups.add(clients.group(ta, members));
    }
    WsClient a = clients.online(ta, "desk");
    WsClient o = clients.online(to, "desk");

    fcm.pacing.throttle(THROTTLE_MS, RETRY_AFTER_S, 0);
    long throttleEnd = fcm.pacing.throttleUntilMs();
    // messages keep arriving through the throttle: one every 80 ms, round the groups, from a timer
    Map<String, Long> sentAt = new ConcurrentHashMap<>();
    AtomicInteger next = new AtomicInteger();
    clients.vertx.setPeriodic(SEND_EVERY_MS, id -> {
      int i = next.getAndIncrement();
      if (i >= MESSAGES) {
        clients.vertx.cancelTimer(id);
        return;
      }
      sentAt.put("m" + i, System.nanoTime());
      a.send(new JsonObject().put("op", "send").put("msg_id", "m" + i).put("conv", groups.get(i % GROUPS))
          .put("body", "b" + i));
    });

    Map<String, Long> newest = new HashMap<>();
    for (int i = 0; i < MESSAGES; i++) {
      JsonObject ack = a.next("ack");
      newest.merge(ack.getString("conv"), Long.parseLong(ack.getString("server_id")), Math::max);
    }
    List<Long> latencies = new ArrayList<>();
    for (int i = 0; i < MESSAGES; i++) {
      JsonObject msg = o.next("msg");
      latencies.add(TimeUnit.NANOSECONDS.toMillis(o.receivedAt.get(msg) - sentAt.get(msg.getString("msg_id"))));
    }
    long sentAllMs = System.currentTimeMillis();
    assertThat(sentAllMs).as("every message went out during the throttle").isLessThan(throttleEnd);
    assertThat(fcm.pacing.acceptedCount()).as("nothing got through the throttle").isZero();
    assertThat(fcm.pacing.throttledCount()).as("the backlog was being tried").isPositive();
    List<Long> sorted = latencies.stream().sorted().toList();
    System.out.printf("throttle drill: online delivery during the throttle p50 %d ms, p99 %d ms, max %d ms; %d 429s%n",
        sorted.get(MESSAGES / 2), sorted.get(MESSAGES * 99 / 100), sorted.get(MESSAGES - 1),
        fcm.pacing.throttledCount());
    assertThat(latencies).as("send -> online receipt during the throttle, ms").allMatch(ms -> ms < ONLINE_BOUND_MS);

    // the backlog drains: every (device, conversation) gets its conversation's newest message
    Map<String, String> slotsNewest = new LinkedHashMap<>();
    for (int r = 0; r < DEVICES; r++) {
      for (int g : new int[] {r % GROUPS, (r + 1) % GROUPS}) {
        slotsNewest.put(tokens.get(r) + "|" + groups.get(g), Long.toString(newest.get(groups.get(g))));
      }
    }
    assertThat(slotsNewest).hasSize(DEVICES * 2);
    int perGroup = MESSAGES / GROUPS;
    Map<String, List<Accepted>> bySlot = new HashMap<>();
    Await.until("every (device, conversation) got pushes counting all its messages", () -> {
      bySlot.clear();
      for (Accepted acc : fcm.pacing.accepted) {
        bySlot.computeIfAbsent(acc.address() + "|" + acc.conv(), k -> new ArrayList<>()).add(acc);
      }
      return slotsNewest.keySet().stream().allMatch(slot -> bySlot.getOrDefault(slot, List.of()).stream()
          .mapToInt(Accepted::count).sum() >= perGroup);
    }, Duration.ofMillis(THROTTLE_MS + 30_000), Duration.ofMillis(20));
    long drainedMs = System.currentTimeMillis() - throttleEnd;
    System.out.printf("throttle drill: backlog drained %d ms after the throttle ended: %d pushes for %d pairs%n",
        drainedMs, fcm.pacing.acceptedCount(), bySlot.size());
    assertThat(bySlot.keySet()).as("pushes only for the offline devices' conversations")
        .containsExactlyInAnyOrderElementsOf(slotsNewest.keySet());
    bySlot.forEach((slot, pushes) -> {
      String seen = pushes.stream().map(p -> p.serverId() + "x" + p.count()).toList().toString();
      assertThat(pushes.stream().mapToInt(Accepted::count).sum()).as("messages counted by the pushes of %s: %s", slot, seen)
          .isEqualTo(perGroup);
      assertThat(pushes.get(pushes.size() - 1).serverId()).as("the last push of %s names the newest message: %s", slot, seen)
          .isEqualTo(slotsNewest.get(slot));
      assertThat(pushes).as(slot).allMatch(p -> p.atMs() >= throttleEnd);
    });
    PushStats stats = node.node.pushStats();
    assertThat(stats.get("spilled") + stats.get("expired")).isZero();
    assertThat(stats.get("jobs")).isEqualTo((long) MESSAGES * 2 * DEVICES / GROUPS);
    assertThat(fcm.errors).isEmpty();
    a.close();
    o.close();
  }
}
