package io.parley.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.config.RoutingSettings;
import io.parley.fanout.FanoutBatch;
import io.parley.protocol.Addresses;
import io.parley.protocol.ChatMessage;
import io.parley.protocol.LocalCodec;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.parley.protocol.ErrorCode;
import io.parley.testing.Await;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Routing over a scripted log: what it hands to fan-out and what it commits, in particular when a
 * rebalance took a partition away between the poll and the hand-over, and when storage refuses a
 * record (parked, the rest goes on) or fails transiently (retried; only its partition waits).
 */
class LogRoutingVerticleTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void recordsOfAPartitionNoLongerOwnedAreNeitherFannedOutNorCommitted() throws Exception {
    List<LogSource.Logged> batch = List.of(
        logged(0, 5, 10, "m1"), logged(1, 7, 11, "m2"), logged(0, 6, 10, "m3"), logged(1, 8, 11, "m4"));
    ScriptedSource source = new ScriptedSource(batch, 1);
    List<Long> fannedOut = new CopyOnWriteArrayList<>();
    List<Long> prevs = new CopyOnWriteArrayList<>();
    List<Integer> batches = new CopyOnWriteArrayList<>();
    vertx.eventBus().registerDefaultCodec(FanoutBatch.class, new LocalCodec<>(FanoutBatch.class));
    vertx.eventBus().<FanoutBatch>localConsumer(Addresses.FANOUT, m -> {
      batches.add(m.body().fanouts().size());
      m.body().fanouts().forEach(f -> fannedOut.add(f.serverId()));
      m.body().fanouts().forEach(f -> prevs.add(f.prev()));
      m.reply(null);
    });
    MessageArchive archive = messages -> Future.succeededFuture(List.copyOf(messages));

    vertx.deployVerticle(new LogRoutingVerticle(source, archive, new ParkedRecords(), FixedMembers.of("alice", "bob"),
        new RoutingSettings(20_000, 1024, 8, 10_000), 100, 60_000))
        .await(10, TimeUnit.SECONDS);
    List<LogSource.Logged> committed = source.committed.future().await(10, TimeUnit.SECONDS);

    assertThat(fannedOut).containsExactly(batch.get(0).message().serverId(), batch.get(2).message().serverId());
    assertThat(batches).as("one fan-out request per polled batch").containsExactly(2);
    assertThat(prevs).as("each fan-out names the conversation's message routed before it (0: none known)")
        .containsExactly(0L, batch.get(0).message().serverId());
    assertThat(committed).containsExactly(batch.get(0), batch.get(2));
  }

  @Test
  void aRecordStorageRefusesIsParkedAndTheRestOfItsBatchAndPartitionGoThrough() throws Exception {
    List<LogSource.Logged> batch = List.of(logged(0, 1, 10, "m1"), logged(1, 1, 11, "m2"), logged(0, 2, 10, "bad"),
        logged(0, 3, 10, "m4"), logged(1, 2, 11, "m5"));
    ScriptedSource source = new ScriptedSource(batch, -1);
    FanoutLog fanout = new FanoutLog();
    List<JsonArray> verdicts = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonArray>consumer(Addresses.intakeVerdicts("node-a"), m -> verdicts.add(m.body()));
    // the store refuses any batch holding "bad" with a value it cannot bind: permanent
    StandInArchive archive = new StandInArchive(m -> m.msgId().equals("bad")
        ? new IllegalArgumentException("value of " + m.msgId() + " not accepted") : null);
    ParkedRecords parked = new ParkedRecords();
    LogRoutingVerticle routing = deploy(source, archive, parked, 60_000);

    Await.until("the five records committed", () -> source.committedOffsets().equals(Map.of(0, 3L, 1, 2L)),
        Await.TIMEOUT);

    assertThat(parked.records).extracting(l -> l.message().msgId()).containsExactly("bad");
    assertThat(parked.errors.get(0)).startsWith("refused by storage: ").contains("value of bad not accepted");
    assertThat(routing.parked()).isEqualTo(1);
    assertThat(archive.stored).as("stored once each, the refused one never")
        .containsExactlyInAnyOrder("m1", "m2", "m4", "m5");
    assertThat(fanout.msgIds()).as("delivered: all but the refused one").containsExactlyInAnyOrder("m1", "m2", "m4", "m5");
    assertThat(fanout.msgIds().indexOf("m1")).as("partition order kept").isLessThan(fanout.msgIds().indexOf("m4"));
    Await.until("verdicts for all five", () -> verdicts.stream().mapToInt(JsonArray::size).sum() == 5, Await.TIMEOUT);
    List<Object> entries = verdicts.stream().flatMap(v -> v.stream()).toList();
    assertThat(entries).filteredOn(JsonObject.class::isInstance).singleElement().satisfies(e -> {
      Verdicts.Rejected r = Verdicts.parseRejected((JsonObject) e);
      assertThat(r.msgId()).isEqualTo("bad");
      assertThat(r.code()).isEqualTo(ErrorCode.REJECTED);
    });
    assertThat(entries).filteredOn(String.class::isInstance).extracting(f -> ChatMessage.fromFrame((String) f).msgId())
        .containsExactlyInAnyOrder("m1", "m2", "m4", "m5");
    assertThat(archive.calls.get()).as("one batched persist, then the partitions and halves of the failing one")
        .isLessThanOrEqualTo(8);
  }

  @Test
  void aPartitionRetryingATransientFailureStallsAloneAndKeepsItsOrder() throws Exception {
    List<LogSource.Logged> first = List.of(logged(0, 1, 10, "m1"), logged(1, 1, 11, "m2"), logged(0, 2, 10, "m3"));
    List<LogSource.Logged> second = List.of(logged(1, 2, 11, "m4"));
    ScriptedSource source = new ScriptedSource(first, -1);
    source.batches.add(second);
    AtomicBoolean timingOut = new AtomicBoolean(true);
    FanoutLog fanout = new FanoutLog();
    // m1 times out until m4, polled later from the other partition, was delivered
    fanout.onDelivered = id -> {
      if (id.equals("m4")) {
        timingOut.set(false);
      }
    };
    StandInArchive archive = new StandInArchive(m -> m.msgId().equals("m1") && timingOut.get()
        ? new RuntimeException("write timeout (stand-in)") : null);
    ParkedRecords parked = new ParkedRecords();
    deploy(source, archive, parked, 60_000);

    Await.until("all four delivered", () -> fanout.msgIds().size() == 4, Await.TIMEOUT);
    assertThat(fanout.msgIds()).as("partition 1 routed while partition 0 retried; partition 0 in log order")
        .containsExactly("m2", "m4", "m1", "m3");
    Await.until("all committed", () -> source.committedOffsets().equals(Map.of(0, 2L, 1, 2L)), Await.TIMEOUT);
    assertThat(parked.records).as("a transient failure that ends parks nothing").isEmpty();
    // the failed batch's partitions are each retried alone, paused meanwhile: 1 at once succeeded
    assertThat(source.pauses).contains(0);
    Await.until("every paused partition resumed", () -> source.resumes.containsAll(source.pauses), Await.TIMEOUT);
  }

  @Test
  void aRecordFailingTransientlyBeyondTheBoundWhileOthersAreStoredIsParked() throws Exception {
    ScriptedSource source = new ScriptedSource(List.of(logged(0, 1, 10, "slow"), logged(0, 2, 10, "after")), -1);
    // the other partition keeps getting messages, which the store takes
    AtomicLong next = new AtomicLong(1);
    source.endless = () -> List.of(logged(1, next.get(), 11, "p1-" + next.getAndIncrement()));
    FanoutLog fanout = new FanoutLog();
    StandInArchive archive = new StandInArchive(m -> m.msgId().equals("slow")
        ? new RuntimeException("write timeout (stand-in)") : null);
    ParkedRecords parked = new ParkedRecords();
    LogRoutingVerticle routing = deploy(source, archive, parked, 300);

    Await.until("the slow record parked", () -> parked.records.size() == 1, Await.TIMEOUT);
    assertThat(parked.errors.get(0)).startsWith("failing for longer than the bound: ");
    assertThat(parked.attempts.get(0)).isGreaterThan(2);
    // counted once the dead-letter write is confirmed, a moment after the stand-in took it
    Await.until("the parked record counted", () -> routing.parked() == 1, Await.TIMEOUT);
    Await.until("the record after it delivered", () -> fanout.msgIds().contains("after"), Await.TIMEOUT);
    Await.until("partition 0 committed past both", () -> source.committedOffsets().getOrDefault(0, -1L) == 2L,
        Await.TIMEOUT);
    assertThat(fanout.msgIds()).doesNotContain("slow");
  }

  @Test
  void aStoreDownAsAWholeParksNothingHoweverLong() throws Exception {
    List<LogSource.Logged> batch = List.of(logged(0, 1, 10, "m1"), logged(1, 1, 11, "m2"), logged(0, 2, 10, "m3"));
    ScriptedSource source = new ScriptedSource(batch, -1);
    FanoutLog fanout = new FanoutLog();
    AtomicLong failuresLeft = new AtomicLong(12);
    StandInArchive archive = new StandInArchive(m -> null);
    archive.down = () -> failuresLeft.getAndDecrement() > 0;
    ParkedRecords parked = new ParkedRecords();
    // a bound far below the outage (12 failed calls at up to 50 ms apart)
    deploy(source, archive, parked, 1);

    Await.until("all three delivered", () -> fanout.msgIds().size() == 3, Await.TIMEOUT);
    assertThat(failuresLeft.get()).as("the outage happened").isLessThanOrEqualTo(0);
    assertThat(parked.records).isEmpty();
    assertThat(fanout.msgIds().indexOf("m1")).isLessThan(fanout.msgIds().indexOf("m3"));
    Await.until("all committed", () -> source.committedOffsets().equals(Map.of(0, 2L, 1, 1L)), Await.TIMEOUT);
  }

  @Test
  void aStoreRefusingEverythingParksNothing() throws Exception {
    List<LogSource.Logged> batch = List.of(logged(0, 1, 10, "m1"), logged(1, 1, 11, "m2"), logged(0, 2, 10, "m3"));
    ScriptedSource source = new ScriptedSource(batch, -1);
    FanoutLog fanout = new FanoutLog();
    // every statement refused "for good" for a while (a table missing until the schema is fixed)
    AtomicLong refusalsLeft = new AtomicLong(15);
    StandInArchive archive = new StandInArchive(m -> refusalsLeft.getAndDecrement() > 0
        ? new IllegalArgumentException("unconfigured table messages_by_bucket") : null);
    ParkedRecords parked = new ParkedRecords();
    deploy(source, archive, parked, 60_000);

    Await.until("all three delivered once the store takes them", () -> fanout.msgIds().size() == 3, Await.TIMEOUT);
    assertThat(refusalsLeft.get()).as("the refusals happened").isLessThanOrEqualTo(0);
    assertThat(parked.records).as("no record singled out: nothing was stored meanwhile").isEmpty();
    assertThat(fanout.msgIds().indexOf("m1")).isLessThan(fanout.msgIds().indexOf("m3"));
  }

  private LogRoutingVerticle deploy(ScriptedSource source, MessageArchive archive, DeadLetters dead,
      long deadLetterAfterMs) throws Exception {
    LogRoutingVerticle routing = new LogRoutingVerticle(source, archive, dead, FixedMembers.of("alice", "bob"),
        new RoutingSettings(20_000, 1024, 8, 10_000), 50, deadLetterAfterMs);
    vertx.deployVerticle(routing).await(10, TimeUnit.SECONDS);
    return routing;
  }

  /** Fan-out stand-in: confirms every batch and keeps the msg ids handed to it, in order. */
  private final class FanoutLog {
    private final List<Long> serverIds = new CopyOnWriteArrayList<>();
    private final Map<Long, String> ids = new ConcurrentHashMap<>();
    volatile Consumer<String> onDelivered = id -> {};

    FanoutLog() {
      vertx.eventBus().registerDefaultCodec(FanoutBatch.class, new LocalCodec<>(FanoutBatch.class));
      vertx.eventBus().<FanoutBatch>localConsumer(Addresses.FANOUT, m -> {
        m.body().fanouts().forEach(f -> {
          String msgId = ChatMessage.fromFrame(f.frame()).msgId();
          ids.put(f.serverId(), msgId);
          serverIds.add(f.serverId());
          onDelivered.accept(msgId);
        });
        m.reply(null);
      });
    }

    List<String> msgIds() {
      return serverIds.stream().map(ids::get).toList();
    }
  }

  /**
   * Archive stand-in: a batch fails as a whole with the failure {@code verdict} gives its first
   * refused message, or (while {@code down} says so) with a transient one; otherwise every message is
   * stored under its own id (no dedupe needed here).
   */
  private static final class StandInArchive implements MessageArchive {
    private final Function<ChatMessage, RuntimeException> verdict;
    final Set<String> stored = ConcurrentHashMap.newKeySet();
    final AtomicInteger calls = new AtomicInteger();
    volatile BooleanSupplier down = () -> false;

    StandInArchive(Function<ChatMessage, RuntimeException> verdict) {
      this.verdict = verdict;
    }

    @Override
    public Future<List<ChatMessage>> persist(List<ChatMessage> batch) {
      calls.incrementAndGet();
      if (down.getAsBoolean()) {
        return Future.failedFuture(new RuntimeException("no node available (stand-in)"));
      }
      for (ChatMessage m : batch) {
        RuntimeException e = verdict.apply(m);
        if (e != null) {
          return Future.failedFuture(e);
        }
      }
      batch.forEach(m -> assertThat(stored.add(m.msgId())).as("%s stored once", m.msgId()).isTrue());
      return Future.succeededFuture(List.copyOf(batch));
    }
  }

  /** Dead-letter stand-in: keeps what it was given. */
  private static final class ParkedRecords implements DeadLetters {
    final List<LogSource.Logged> records = new CopyOnWriteArrayList<>();
    final List<String> errors = new CopyOnWriteArrayList<>();
    final List<Integer> attempts = new CopyOnWriteArrayList<>();

    @Override
    public Future<Void> park(LogSource.Logged record, String error, int n) {
      records.add(record);
      errors.add(error);
      attempts.add(n);
      return Future.succeededFuture();
    }

    @Override
    public String describe() {
      return "stand-in";
    }
  }

  private static LogSource.Logged logged(int partition, long offset, long conv, String msgId) {
    long serverId = ((offset + 1) << 10) | partition;
    return new LogSource.Logged(partition, offset,
        new ChatMessage(conv, serverId, "alice", msgId, "hi", null, 1_700_000_000_000L), "conn-1", "node-a");
  }

  /**
   * Gives its batches (of partitions not paused), then {@code endless}'s or nothing; owns every
   * partition but {@code lost}; records the first commit, every committed offset, pauses and resumes.
   */
  private final class ScriptedSource implements LogSource {
    final Queue<List<Logged>> batches = new ConcurrentLinkedQueue<>();
    private final int lost;
    final Promise<List<Logged>> committed = Promise.promise();
    private final Map<Integer, Long> offsets = new ConcurrentHashMap<>();
    final List<Integer> pauses = new CopyOnWriteArrayList<>();
    final List<Integer> resumes = new CopyOnWriteArrayList<>();
    volatile Supplier<List<Logged>> endless;

    ScriptedSource(List<Logged> batch, int lost) {
      batches.add(batch);
      this.lost = lost;
    }

    @Override
    public Future<List<Logged>> poll() {
      List<Logged> next = batches.poll();
      if (next == null && endless != null) {
        next = endless.get();
      }
      Promise<List<Logged>> polled = Promise.promise(); // a poll that waited a little
      List<Logged> out = next == null ? List.of() : next;
      vertx.setTimer(next == null ? 20 : 5, t -> polled.complete(out));
      return polled.future();
    }

    @Override
    public Future<Void> commit(List<Logged> handled) {
      committed.tryComplete(List.copyOf(handled));
      handled.forEach(l -> offsets.merge(l.partition(), l.offset(), Math::max));
      return Future.succeededFuture();
    }

    Map<Integer, Long> committedOffsets() {
      return Map.copyOf(offsets);
    }

    @Override
    public Future<Void> close() {
      return Future.succeededFuture();
    }

    @Override
    public boolean owns(int partition) {
      return partition != lost;
    }

    @Override
    public void pause(int partition) {
      pauses.add(partition);
    }

    @Override
    public void resume(int partition) {
      resumes.add(partition);
    }
  }
}
