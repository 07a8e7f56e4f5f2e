package io.parley.e2e;

import static io.parley.e2e.ClusterChecks.DELIVERY;
import static io.parley.e2e.ClusterChecks.RECOVERY;
import static io.parley.e2e.ClusterChecks.serverIds;
import static io.parley.e2e.ClusterChecks.user;
import static org.assertj.core.api.Assertions.assertThat;

import io.parley.pushfakes.FakeFcmService;
import io.parley.pushfakes.Pacing.Accepted;
import io.parley.testing.Await;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.ConsumerGroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Push on the cluster profile: two nodes as separate JVMs (Hazelcast, Kafka, Cassandra, Redis), a
 * local FCM ({@link FakeFcmService}) on every node, push jobs in the Kafka push queue of the run
 * ({@code push.queue_topic} of its own, {@value #PARTITIONS} partitions keyed by user, read by both
 * nodes as one consumer group). Each test starts its own cluster, so tests never share a backlog.
 *
 * <p>Decisions across nodes: an offline device gets its pushes (collapse key per conversation, the
 * message's server_id, a burst as one push now and one follow-up), a device of the same user that
 * is connected to the other node gets the messages live and no push, a member whose token FCM
 * calls UNREGISTERED loses the registration and gets nothing more, a member who muted the
 * conversation gets none. "None" is checked with a barrier: one user's jobs are one partition's, in
 * order, so once a later message's push reached a device, any earlier one would have too.
 *
 * <p>kill -9: with FCM throttling (429, Retry-After), a backlog for a dozen users on every
 * partition builds up in Kafka, held by both nodes; the node holding half of it is killed, FCM
 * recovers, and once the Kafka session has timed out the survivor takes the dead node's
 * partitions over: every (device, conversation) gets a push for its newest message. Duplicates
 * (the survivor re-reads from the last committed offsets) are allowed; they are counted and printed.
 */
class ClusterPushIT {
  static final int PARTITIONS = 6;
  static final AtomicInteger SEQ = new AtomicInteger();
  @TempDir
  Path dir;
  ClusterNodes cluster;
  final List<FakeFcmService> fakes = new ArrayList<>();
  final List<Device> devices = new ArrayList<>();

  @AfterEach
  void stop() {
    devices.forEach(Device::close);
    if (cluster != null) {
      cluster.close();
    }
    fakes.forEach(FakeFcmService::close);
  }

  /** A node's FCM: the fake's service account (key file in the test's directory) and its origin. */
  Map<String, String> fcmEnv(FakeFcmService fcm) {
    try {
      Path account = fcm.writeServiceAccount(dir.resolve("fcm-" + SEQ.incrementAndGet() + ".json"));
      return Map.of("PARLEY_PUSH_FCM_SERVICE_ACCOUNT_FILE", account.toString(), "PARLEY_PUSH_FCM_BASE_URL", fcm.origin());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  FakeFcmService fake() {
    FakeFcmService f = new FakeFcmService();
    fakes.add(f);
    return f;
  }

  Device connect(int node, String user, String token, String name) {
    Device d = Device.connect(cluster, node, user, token, name);
    devices.add(d);
    return d;
  }

  /** Registers {@code device} of the token's user for FCM through node {@code node}; returns its FCM token. */
  String register(int node, String userToken, String device) {
    String fcmToken = "fcm-" + device + "-" + SEQ.incrementAndGet();
    Clients.Response r = cluster.clients(node).request(HttpMethod.PUT, "/v1/devices/" + device + "/push", userToken,
        new JsonObject().put("provider", "fcm").put("token", fcmToken));
    assertThat(r.status()).as(r.body()).isEqualTo(204);
    return fcmToken;
  }

  void mute(int node, String userToken, String conv, boolean muted) {
    Clients.Response r = cluster.clients(node).request(HttpMethod.PUT, "/v1/conversations/" + conv + "/settings", userToken,
        new JsonObject().put("muted", muted));
    assertThat(r.status()).as(r.body()).isEqualTo(204);
  }

  boolean online(int node, String userToken, String device) {
    Clients.Response r = cluster.clients(node).request(HttpMethod.GET, "/v1/devices", userToken, null);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json().getJsonArray("devices").stream().map(JsonObject.class::cast)
        .anyMatch(d -> device.equals(d.getString("id")) && d.getBoolean("online"));
  }

  boolean hasRegistration(int node, String userToken, String device) {
    Clients.Response r = cluster.clients(node).request(HttpMethod.GET, "/v1/devices", userToken, null);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json().getJsonArray("devices").stream().map(JsonObject.class::cast)
        .anyMatch(d -> device.equals(d.getString("id")) && d.getString("provider") != null);
  }

  static List<Accepted> to(FakeFcmService fcm, String fcmToken) {
    return fcm.pacing.accepted.stream().filter(a -> a.address().equals(fcmToken)).toList();
  }

  static String push(Accepted a) {
    return a.serverId() + "×" + a.count();
  }

  @Test
  void anOfflineDeviceIsPushedItsOtherDeviceConnectedToTheOtherNodeIsNotNorIsAMutedMember() {
    FakeFcmService fcm = fake();
    cluster = ClusterNodes.start("ClusterPushIT-devices", 2, fcmEnv(fcm));
    try (Admin admin = admin()) {
      awaitBothNodesConsume(admin, cluster.common.get("PARLEY_PUSH_QUEUE_TOPIC"));
    }
    String alice = user("alice"), bob = user("bob"), carol = user("carol"), dave = user("dave");
    String ta = cluster.clients(1).token(alice), tb = cluster.clients(2).token(bob), tc = cluster.clients(1).token(carol);
    String td = cluster.clients(2).token(dave);
    String conv = cluster.clients(1).group(ta, List.of(bob, carol, dave));
    String phone = register(1, tb, "phone");
    String tablet = register(2, tb, "tablet");
    String carols = register(2, tc, "phone");
    String daves = register(1, td, "phone");
    fcm.answer(daves, FakeFcmService.Answer.UNREGISTERED); // an app uninstalled: its token is dead
    mute(1, tc, conv, true);
    Device a = connect(1, alice, ta, "desk");
    Device bobTablet = connect(2, bob, tb, "tablet");

    // a burst of three: bob's phone gets the first at once and the two others as one follow-up at
    // the end of the coalescing window; his tablet, on node 2, gets all three live
    List<String> burst = List.of("m1", "m2", "m3");
    burst.forEach(id -> a.sendAsync(id, conv, "hello " + id));
    List<String> ids = serverIds(a.acks(burst));
    bobTablet.awaitMsgs(conv, ids, DELIVERY);
    Await.until("bob's phone gets a push for m3", () -> to(fcm, phone).stream().anyMatch(p -> p.serverId().equals(ids.get(2))),
        DELIVERY, ClusterChecks.POLL);

    // barrier: the tablet goes offline and carol unmutes; the next message reaches all three
    // devices, and nothing else came before it
    devices.remove(bobTablet);
    bobTablet.close();
    Await.until("bob's tablet is offline", () -> !online(1, tb, "tablet"), DELIVERY, ClusterChecks.POLL);
    mute(2, tc, conv, false);
    Await.until("dave's dead token removed (Cassandra registrations, either node)",
        () -> !hasRegistration(2, td, "phone") && !hasRegistration(1, td, "phone"), DELIVERY, ClusterChecks.POLL);
    long refusedBeforeM4 = fcm.pacing.otherCount();
    String m4 = a.sendAcked("m4", conv, "again").getString("server_id");
    Await.until("m4 pushed to bob's phone and tablet and to carol's phone",
        () -> Stream.of(phone, tablet, carols).allMatch(t -> to(fcm, t).stream().anyMatch(p -> p.serverId().equals(m4))),
        DELIVERY, ClusterChecks.POLL);

    System.out.printf("[push] bob's phone %s, tablet %s, carol %s (server_id×count)%n",
        to(fcm, phone).stream().map(ClusterPushIT::push).toList(), to(fcm, tablet).stream().map(ClusterPushIT::push).toList(),
        to(fcm, carols).stream().map(ClusterPushIT::push).toList());
    assertThat(to(fcm, phone)).extracting(ClusterPushIT::push).as("bob's phone: one push per coalescing window")
        .containsExactly(ids.get(0) + "×1", ids.get(2) + "×2", m4 + "×1");
    assertThat(to(fcm, tablet)).extracting(ClusterPushIT::push).as("bob's tablet: nothing while connected to node 2")
        .containsExactly(m4 + "×1");
    assertThat(to(fcm, carols)).extracting(ClusterPushIT::push).as("carol: nothing while she muted the conversation")
        .containsExactly(m4 + "×1");
    assertThat(fcm.pacing.acceptedCount()).as("no other push").isEqualTo(5);
    assertThat(to(fcm, daves)).as("dave's dead token: nothing accepted").isEmpty();
    assertThat(fcm.pacing.otherCount()).as("nothing more sent to dave's removed token").isEqualTo(refusedBeforeM4)
        .isPositive();
    for (FakeFcmService.Received r : fcm.received) {
      assertThat(r.collapseKey()).isEqualTo("c" + conv);
      assertThat(r.priority()).isEqualTo("high");
      assertThat(r.data().getString("conv")).isEqualTo(conv);
      assertThat(r.data().getString("sender")).isEqualTo(alice);
      assertThat(r.data().getString("fetch")).isEqualTo("true");
      assertThat(r.data().getString("badge")).as("one conversation with unread messages").isEqualTo("1");
    }
    assertThat(fcm.errors).isEmpty();
  }

  @Test
  void killNineOfANodeHoldingPartOfAThrottledBacklogLosesNoPush() {
    // one FCM per node: what each node sent is told apart
    FakeFcmService fcm1 = fake(), fcm2 = fake();
    Map<Integer, Map<String, String>> fcmOf = Map.of(1, fcmEnv(fcm1), 2, fcmEnv(fcm2));
    fcm1.pacing.throttle(0, 1, 0);
    fcm2.pacing.throttle(0, 1, 0);
    cluster = ClusterNodes.start("ClusterPushIT-kill", 2, Map.of("PARLEY_PUSH_QUEUE_PARTITIONS", Integer.toString(PARTITIONS)),
        fcmOf::get);
    String topic = cluster.common.get("PARLEY_PUSH_QUEUE_TOPIC");
    try (Admin admin = admin()) {
      awaitBothNodesConsume(admin, topic);
    }

    // two offline users on every partition of the push queue (keyed by user, Kafka's default partitioner)
    Map<Integer, List<String>> byPartition = new TreeMap<>();
    while (byPartition.size() < PARTITIONS || byPartition.values().stream().anyMatch(l -> l.size() < 2)) {
      String u = user("u");
      List<String> users = byPartition.computeIfAbsent(partitionOf(u), p -> new ArrayList<>());
      if (users.size() < 2) {
        users.add(u);
      }
    }
    List<String> users = byPartition.values().stream().flatMap(List::stream).toList();
    String alice = user("alice");
    String ta = cluster.clients(1).token(alice);
    Map<String, List<String>> fcmTokens = new LinkedHashMap<>();
    Map<String, String> dms = new LinkedHashMap<>();
    for (int i = 0; i < users.size(); i++) {
      String u = users.get(i);
      int node = i % 2 + 1;
      String t = cluster.clients(node).token(u);
      List<String> own = new ArrayList<>(List.of(register(node, t, "phone")));
      if (i % 3 == 0) {
        own.add(register(node, t, "tablet"));
      }
      fcmTokens.put(u, own);
      dms.put(u, cluster.clients(1).dm(ta, u));
    }
    String group = cluster.clients(1).group(ta, users);
    Device a = connect(1, alice, ta, "desk");
    // alice's other device gets her messages once fan-out has handled them (and handed them to push)
    Device watch = connect(1, alice, ta, "watch");

    List<String> msgIds = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      msgIds.add("g-" + i);
      a.sendAsync("g-" + i, group, "to all " + i);
    }
    for (String u : users) {
      for (int i = 0; i < 2; i++) {
        msgIds.add(u + "-" + i);
        a.sendAsync(u + "-" + i, dms.get(u), "to " + u + " " + i);
      }
    }
    List<JsonObject> acks = a.acks(msgIds);
    // newest server_id per conversation, and the jobs queued: one per (message, device)
    Map<String, String> newest = new HashMap<>();
    int jobs = 0;
    for (JsonObject ack : acks) {
      newest.merge(ack.getString("conv"), ack.getString("server_id"), (x, y) -> Long.parseLong(x) > Long.parseLong(y) ? x : y);
    }
    Map<String, String> owed = new LinkedHashMap<>(); // "fcm token conv" → newest server_id
    for (String u : users) {
      for (String t : fcmTokens.get(u)) {
        owed.put(t + " " + group, newest.get(group));
        owed.put(t + " " + dms.get(u), newest.get(dms.get(u)));
        jobs += 3 + 2;
      }
    }
    watch.awaitMsgs(group, List.of(newest.get(group)), DELIVERY);
    dms.values().forEach(dm -> watch.awaitMsgs(dm, List.of(newest.get(dm)), DELIVERY));

    try (Admin admin = admin()) {
      int expectedJobs = jobs;
      Map<Integer, Long> ends = Await.value("all " + jobs + " push jobs in " + topic, () -> {
        Map<Integer, Long> e = endOffsets(admin, topic);
        return e.values().stream().mapToLong(Long::longValue).sum() >= expectedJobs ? e : null;
      }, DELIVERY, ClusterChecks.POLL);
      assertThat(ends.values()).as("jobs on every partition %s", ends).allMatch(n -> n > 0);
      // both nodes hold backlog, FCM answering each of them 429
      Await.until("both nodes tried FCM and were throttled",
          () -> fcm1.pacing.throttledCount() > 0 && fcm2.pacing.throttledCount() > 0, DELIVERY, ClusterChecks.POLL);
      System.out.printf("[push] %d jobs queued on %d partitions %s; throttled so far: node 1 %d, node 2 %d; committed %s%n",
          jobs, PARTITIONS, ends, fcm1.pacing.throttledCount(), fcm2.pacing.throttledCount(), committed(admin, topic));

      long killedAt = System.nanoTime();
      cluster.node(2).kill9();
      fcm1.pacing.throttleOff();
      try {
        Await.until("every (device, conversation) pushed its newest message by node 1", () -> missing(fcm1, owed).isEmpty(),
            RECOVERY, ClusterChecks.POLL);
      } catch (AssertionError e) {
        StringBuilder b = new StringBuilder(e.getMessage()).append("; committed ").append(committed(admin, topic))
            .append(", ends ").append(endOffsets(admin, topic)).append("; missing (user partition, device conv → newest: got):");
        missing(fcm1, owed).forEach(pair -> {
          String[] tc = pair.split(" ");
          String u = fcmTokens.entrySet().stream().filter(x -> x.getValue().contains(tc[0])).findFirst().orElseThrow().getKey();
          b.append("\n  ").append(u).append(" p").append(partitionOf(u)).append(", ").append(pair).append(" → ")
              .append(owed.get(pair)).append(": ").append(to(fcm1, tc[0]).stream().filter(x -> x.conv().equals(tc[1]))
                  .map(ClusterPushIT::push).toList());
        });
        throw new AssertionError(b.toString(), e);
      }
      long completeMs = (System.nanoTime() - killedAt) / 1_000_000;

      // duplicates are allowed: a push whose message is not newer than one the pair already got
      // covers nothing new (a job re-read after the takeover); count and print them
      Map<String, Long> newestSent = new HashMap<>();
      List<String> duplicates = new ArrayList<>();
      for (Accepted p : fcm1.pacing.accepted) {
        String pair = p.address() + " " + p.conv();
        long id = Long.parseLong(p.serverId());
        Long before = newestSent.get(pair);
        if (before != null && id <= before) {
          duplicates.add(pair + " " + push(p) + " (had " + before + ")");
        }
        newestSent.merge(pair, id, Math::max);
      }
      System.out.printf("[push] after kill -9 of node 2: all %d (device, conversation) pushed their newest message %d ms later;"
              + " node 1 sent %d pushes, %d of them duplicates, node 2 none; throttled: node 1 %d, node 2 %d%n",
          owed.size(), completeMs, fcm1.pacing.acceptedCount(), duplicates.size(), fcm1.pacing.throttledCount(),
          fcm2.pacing.throttledCount());
      duplicates.forEach(d -> System.out.println("[push]   duplicate: " + d));
      assertThat(newestSent.keySet()).as("only devices and conversations that were owed a push").isSubsetOf(owed.keySet());
      assertThat(fcm2.pacing.acceptedCount()).as("node 2 never got through: all it held was taken over").isZero();
      assertThat(fcm1.errors).isEmpty();
      assertThat(fcm2.errors).isEmpty();

      // the survivor finishes its jobs and commits the whole backlog, the dead node's partitions too
      Await.until("the push queue's group committed every job", () -> committed(admin, topic).equals(endOffsets(admin, topic)),
          DELIVERY, ClusterChecks.POLL);
    }
  }

  /**
   * Waits until the push queue's consumer group is stable with both nodes in it, each with
   * partitions: a node that joins later makes the group rebalance, and the jobs the other one
   * finished since its last commit are handed out again (duplicates a test would see).
   */
  static void awaitBothNodesConsume(Admin admin, String topic) {
    Await.until("both nodes consume the push queue " + topic, () -> {
      try {
        ConsumerGroupDescription g = admin.describeConsumerGroups(List.of(topic)).all().get(20, TimeUnit.SECONDS).get(topic);
        return g.state() == ConsumerGroupState.STABLE && g.members().size() == 2
            && g.members().stream().allMatch(m -> !m.assignment().topicPartitions().isEmpty());
      } catch (Exception e) {
        return false; // not there yet
      }
    }, DELIVERY, ClusterChecks.POLL);
  }

  /** The (fcm token, conv) pairs of {@code owed} without a push of their newest server_id yet. */
  static List<String> missing(FakeFcmService fcm, Map<String, String> owed) {
    return owed.entrySet().stream().filter(e -> to(fcm, e.getKey().split(" ")[0]).stream()
        .noneMatch(p -> p.conv().equals(e.getKey().split(" ")[1]) && p.serverId().equals(e.getValue())))
        .map(Map.Entry::getKey).toList();
  }

  /** The push queue's partition of a user: Kafka's default partitioner on the key (the user, UTF-8). */
  static int partitionOf(String user) {
    return Utils.toPositive(Utils.murmur2(user.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
  }

  static Admin admin() {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, ClusterNodes.KAFKA,
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000, AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000));
  }

  static Map<Integer, Long> endOffsets(Admin admin, String topic) {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < PARTITIONS; p++) {
      latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    try {
      Map<Integer, Long> out = new TreeMap<>();
      admin.listOffsets(latest).all().get(20, TimeUnit.SECONDS).forEach((tp, info) -> out.put(tp.partition(), info.offset()));
      return out;
    } catch (Exception e) {
      throw new IllegalStateException("end offsets of " + topic, e);
    }
  }

  /** The push queue's committed offsets (its consumer group is named as the topic); 0 where none. */
  static Map<Integer, Long> committed(Admin admin, String topic) {
    try {
      Map<TopicPartition, OffsetAndMetadata> c = admin.listConsumerGroupOffsets(topic).partitionsToOffsetAndMetadata()
          .get(20, TimeUnit.SECONDS);
      Map<Integer, Long> out = new TreeMap<>();
      for (int p = 0; p < PARTITIONS; p++) {
        OffsetAndMetadata o = c.get(new TopicPartition(topic, p));
        out.put(p, o == null ? 0L : o.offset());
      }
      return out;
    } catch (Exception e) {
      throw new IllegalStateException("committed offsets of " + topic, e);
    }
  }
}
