package io.parley.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.config.RoutingSettings;
import io.parley.fanout.Fanout;
import io.parley.fanout.FanoutBatch;
import io.parley.fanout.FanoutBatchCodec;
import io.parley.fanout.FanoutStats;
import io.parley.protocol.Addresses;
import io.parley.protocol.ChatMessage;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Routing hands a hot conversation's fan-out to the nodes of its sub-partitions: each node's part
 * to that node's fan-out address, this node's to the local fan-out, every member exactly once per
 * message; a node without the address yet gets its part fanned out here; a node that refuses is
 * logged, left out for a while, and the batch is committed all the same (its recipients catch up by
 * sync, as with a failed local fan-out).
 */
class HotFanoutRoutingTest {
  static final List<String> MEMBERS = List.of("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
      "ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "zoe");
  private final Vertx vertx = Vertx.vertx();
  /** server id → node → recipients fanned out there */
  private final Map<Long, Map<String, List<String>>> fannedOut = new ConcurrentHashMap<>();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void eachNodeFansOutItsSubPartitionsAndOneWithoutTheAddressYetIsDoneHere() throws Exception {
    List<String> nodes = List.of("self", "other", "absent");
    fanoutAt(Addresses.FANOUT, "self", true);
    fanoutAt(Addresses.nodeFanout("other"), "other", true);
    FanoutStats stats = new FanoutStats();
    OneBatchSource source = new OneBatchSource(List.of(logged(1, "m1"), logged(2, "m2")));

    deploy(source, new HotFanout(8, 4, new HotFanout.Nodes("self", () -> nodes), stats, 100, 1 << 20));
    source.committed.future().await(10, TimeUnit.SECONDS);

    for (long id : List.of(serverId(1), serverId(2))) {
      Map<String, List<String>> byNode = fannedOut.get(id);
      List<String> all = new ArrayList<>();
      byNode.values().forEach(all::addAll);
      assertThat(all).as("message " + id + ": every member once, the sender too").doesNotHaveDuplicates()
          .containsExactlyInAnyOrderElementsOf(MEMBERS);
      assertThat(byNode.get("other")).isNotEmpty().allSatisfy(u ->
          assertThat(HotFanout.nodeFor(HotFanout.shardOf(u, 4), List.of("absent", "other", "self"))).isEqualTo("other"));
      assertThat(byNode.get("self")).as("its own and the absent node's sub-partitions")
          .allSatisfy(u -> assertThat(HotFanout.nodeFor(HotFanout.shardOf(u, 4), List.of("absent", "other", "self")))
              .isIn("self", "absent"));
    }
    assertThat(stats.toJson().getLong("sent_to_others")).as("a part for each other node").isEqualTo(2);
    assertThat(stats.toJson().getLong("unconfirmed_by_others")).isZero();
  }

  @Test
  void aNodeThatRefusesItsPartIsLeftOutAndTheBatchIsCommittedAllTheSame() throws Exception {
    List<String> nodes = List.of("self", "other");
    fanoutAt(Addresses.FANOUT, "self", true);
    fanoutAt(Addresses.nodeFanout("other"), "other", false);
    FanoutStats stats = new FanoutStats();
    OneBatchSource source = new OneBatchSource(List.of(logged(1, "m1")));
    source.batches.add(List.of(logged(2, "m2")));

    deploy(source, new HotFanout(8, 4, new HotFanout.Nodes("self", () -> nodes), stats, 100, 1 << 20));
    Await.until("both batches committed", () -> source.offsets.size() == 2, Await.TIMEOUT);

    assertThat(fannedOut.get(serverId(1)).get("other")).as("asked, and it refused").isNotEmpty();
    assertThat(fannedOut.get(serverId(2))).as("the next batch: all of it here").containsOnlyKeys("self");
    assertThat(fannedOut.get(serverId(2)).get("self")).containsExactlyInAnyOrderElementsOf(MEMBERS);
    assertThat(stats.toJson().getLong("unconfirmed_by_others")).isEqualTo(1);
  }

  @Test
  void aLargePartGoesToItsNodeInSeveralRequestsThatArriveInOrder() throws Exception {
    List<String> nodes = List.of("self", "other");
    fanoutAt(Addresses.FANOUT, "self", true);
    List<Long> arrived = new CopyOnWriteArrayList<>();
    vertx.eventBus().<FanoutBatch>consumer(Addresses.nodeFanout("other"), m -> {
      m.body().fanouts().forEach(f -> arrived.add(f.serverId()));
      m.reply(null);
    });
    FanoutStats stats = new FanoutStats();
    List<LogSource.Logged> batch = new ArrayList<>();
    for (int i = 1; i <= 6; i++) {
      batch.add(logged(i, "m" + i));
    }
    OneBatchSource source = new OneBatchSource(batch);

    deploy(source, new HotFanout(8, 4, new HotFanout.Nodes("self", () -> nodes), stats, 100, 1));
    source.committed.future().await(10, TimeUnit.SECONDS);

    assertThat(arrived).as("each message its own request, in log order")
        .containsExactly(serverId(1), serverId(2), serverId(3), serverId(4), serverId(5), serverId(6));
    assertThat(stats.toJson().getLong("sent_to_others")).isEqualTo(6);
  }

  /** A fan-out stand-in at {@code address}: records what it got as {@code node}'s, and confirms or refuses. */
  private void fanoutAt(String address, String node, boolean confirm) {
    vertx.eventBus().<FanoutBatch>consumer(address, m -> {
      for (Fanout f : m.body().fanouts()) {
        fannedOut.computeIfAbsent(f.serverId(), id -> new ConcurrentHashMap<>())
            .computeIfAbsent(node, n -> new CopyOnWriteArrayList<>()).addAll(f.recipients());
      }
      if (confirm) {
        m.reply(null);
      } else {
        m.fail(500, "stand-in refuses");
      }
    });
  }

  private void deploy(LogSource source, HotFanout hot) throws Exception {
    vertx.eventBus().registerDefaultCodec(FanoutBatch.class, new FanoutBatchCodec());
    MessageArchive archive = messages -> Future.succeededFuture(List.copyOf(messages));
    vertx.deployVerticle(new LogRoutingVerticle(source, archive, new DeadLetters() {
      @Override
      public Future<Void> park(LogSource.Logged record, String error, int attempts) {
        return Future.failedFuture("not expected");
      }

      @Override
      public String describe() {
        return "none";
      }
    }, FixedMembers.of(MEMBERS.toArray(String[]::new)), new RoutingSettings(20_000, 1024, 8, 10_000), 50, 60_000,
        null, hot)).await(10, TimeUnit.SECONDS);
  }

  private static long serverId(long offset) {
    return (offset + 1) << 10;
  }

  private static LogSource.Logged logged(long offset, String msgId) {
    return new LogSource.Logged(0, offset, new ChatMessage(10, serverId(offset), "alice", msgId, "hi", null,
        1_700_000_000_000L), "conn-1", null);
  }

  /** Gives its batches one per poll, then nothing; owns partition 0; records commits. */
  private final class OneBatchSource implements LogSource {
    final Queue<List<Logged>> batches = new ConcurrentLinkedQueue<>();
    final Promise<Void> committed = Promise.promise();
    final Map<Long, Boolean> offsets = new ConcurrentHashMap<>();

    OneBatchSource(List<Logged> first) {
      batches.add(first);
    }

    @Override
    public Future<List<Logged>> poll() {
      List<Logged> next = batches.poll();
      Promise<List<Logged>> polled = Promise.promise();
      vertx.setTimer(next == null ? 20 : 5, t -> polled.complete(next == null ? List.of() : next));
      return polled.future();
    }

    @Override
    public Future<Void> commit(List<Logged> handled) {
      handled.forEach(l -> offsets.put(l.offset(), true));
      committed.tryComplete();
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> close() {
      return Future.succeededFuture();
    }

    @Override
    public boolean owns(int partition) {
      return partition == 0;
    }
  }
}
