package io.parley.storage.kafka;

import static io.parley.storage.kafka.KafkaFixture.BOOTSTRAP;
import static org.assertj.core.api.Assertions.assertThat;

import io.parley.config.RoutingSettings;
import io.parley.fanout.FanoutBatch;
import io.parley.history.Conversation;
import io.parley.history.ConversationStore;
import io.parley.protocol.Addresses;
import io.parley.protocol.ChatMessage;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.LocalCodec;
import io.parley.routing.LogRoutingVerticle;
import io.parley.routing.MessageArchive;
import io.parley.routing.MessageLog.Appended;
import io.parley.routing.MessageLog.NewMessage;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A poison record on a real broker: the gateway's intake ({@link KafkaMessageLog}) logs a batch in
 * which one send storage refuses for good; routing ({@link LogRoutingVerticle} over
 * {@link KafkaLogSource}, with {@link KafkaDeadLetters}) parks it in {@code <topic>.dead}, delivers
 * and commits the rest — the other partitions and the records after it in its own — and the sender
 * of the refused send is answered {@code rejected}. Then, the store accepting it again,
 * {@link DeadLetterReplay} writes it back (twice), and it is stored and delivered exactly once.
 *
 * <p>The archive is a stand-in (Cassandra accepts every value a client can send, so a real refusal
 * cannot be provoked): idempotent on (sender, msg id) like the real one, refusing chosen msg ids.
 */
class DeadLetterIT {
  private static final int PARTITIONS = 3;

  private Vertx vertx;
  private String topic;
  private KafkaMessageLog log;
  private final Set<String> refused = ConcurrentHashMap.newKeySet();
  private final DedupingArchive archive = new DedupingArchive();
  private final List<String> delivered = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    topic = KafkaFixture.uniqueName("dead");
    Duration minute = Duration.ofSeconds(60);
    Await.result(KafkaTopics.ensure(vertx, BOOTSTRAP, topic, PARTITIONS, (short) 1, KafkaFixture.ADMIN_TIMEOUT_MS), minute);
    Await.result(KafkaTopics.ensure(vertx, BOOTSTRAP, KafkaTopics.deadLetters(topic), PARTITIONS, (short) 1,
        KafkaFixture.ADMIN_TIMEOUT_MS), minute);
    vertx.eventBus().registerDefaultCodec(FanoutBatch.class, new LocalCodec<>(FanoutBatch.class));
    vertx.eventBus().<FanoutBatch>localConsumer(Addresses.FANOUT, m -> {
      m.body().fanouts().forEach(f -> delivered.add(ChatMessage.fromFrame(f.frame()).msgId()));
      m.reply(null);
    });
    KafkaDeadLetters dead = Await.result(KafkaDeadLetters.create(vertx, BOOTSTRAP, topic, 10_000), minute);
    KafkaLogSource source = Await.result(KafkaLogSource.create(vertx, BOOTSTRAP, topic, KafkaFixture.uniqueName("group"),
        KafkaFixture.TIMING), minute);
    Await.result(vertx.deployVerticle(new LogRoutingVerticle(source, archive, dead, everyoneMember(),
        new RoutingSettings(20_000, 1024, 8, 10_000), 200, 60_000)), minute);
    log = Await.result(KafkaMessageLog.create(vertx, BOOTSTRAP, topic, "node-1", 20_000), minute);
  }

  @AfterEach
  void stop() throws Exception {
    if (log != null) {
      Await.result(log.close().otherwiseEmpty(), Duration.ofSeconds(30));
    }
    if (vertx != null) {
      Await.result(vertx.close(), Duration.ofSeconds(30));
      KafkaFixture.deleteTopics(Vertx.vertx(), List.of(topic, KafkaTopics.deadLetters(topic)));
    }
  }

  @Test
  void aRefusedRecordIsParkedItsSenderRejectedTheRestRoutedAndAReplayStoresItOnce() throws Exception {
    // one conversation per partition; the poison is in the middle of the first one's records
    List<Long> convs = onePerPartition();
    long poisoned = convs.get(0);
    refused.add("poison");
    List<NewMessage> batch = new ArrayList<>();
    batch.add(new NewMessage("alice", "before", poisoned, "fine", null, "conn-1"));
    batch.add(new NewMessage("alice", "poison", poisoned, "refused by the store", null, "conn-1"));
    batch.add(new NewMessage("alice", "after", poisoned, "fine", null, "conn-1"));
    for (int i = 1; i < convs.size(); i++) {
      batch.add(new NewMessage("bob", "other-" + i, convs.get(i), "fine", null, "conn-2"));
    }

    List<Appended> answers = Await.result(log.append(batch), Duration.ofSeconds(30));

    assertThat(answers.get(1).rejection()).as("the refused send is answered, with a typed error").isNotNull();
    assertThat(answers.get(1).rejection().code()).isEqualTo(ErrorCode.REJECTED);
    assertThat(answers).filteredOn(a -> a.rejection() == null).extracting(a -> a.message().msgId())
        .containsExactly("before", "after", "other-1", "other-2");
    Await.until("the rest delivered", () -> delivered.containsAll(List.of("before", "after", "other-1", "other-2")),
        Duration.ofSeconds(30));
    assertThat(delivered).as("the refused one is not delivered").doesNotContain("poison");
    assertThat(delivered.indexOf("before")).isLessThan(delivered.indexOf("after"));

    ByteArrayOutputStream listing = new ByteArrayOutputStream();
    DeadLetterReplay.Result dry = DeadLetterReplay.run(BOOTSTRAP, topic, true, Set.of(), Duration.ofSeconds(30),
        new PrintStream(listing, true, StandardCharsets.UTF_8));
    assertThat(dry.listed()).singleElement().satisfies(d -> {
      assertThat(d.logged().message().msgId()).isEqualTo("poison");
      assertThat(d.logged().message().conv()).isEqualTo(poisoned);
      assertThat(d.error()).contains("refused by storage").contains("poison not accepted");
      assertThat(d.topic()).isEqualTo(topic);
    });
    assertThat(dry.replayed()).isZero();
    assertThat(listing.toString(StandardCharsets.UTF_8)).contains("msg_id poison").contains("dry run");

    // the cause fixed: replayed twice (an operator's repeat), stored and delivered once
    refused.clear();
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    assertThat(DeadLetterReplay.run(BOOTSTRAP, topic, false, Set.of(), Duration.ofSeconds(30), quiet).replayed()).isEqualTo(1);
    assertThat(DeadLetterReplay.run(BOOTSTRAP, topic, false, Set.of(), Duration.ofSeconds(30), quiet).replayed()).isEqualTo(1);
    Await.until("both replayed copies persisted", () -> archive.copies("alice", "poison") == 2, Duration.ofSeconds(30));
    assertThat(archive.stored).filteredOn(m -> m.msgId().equals("poison")).hasSize(1);
    assertThat(delivered).filteredOn("poison"::equals).as("delivered once").hasSize(1);
  }

  /** A conversation id for each partition of the topic (the key partitioner: murmur2 of the key). */
  private static List<Long> onePerPartition() {
    List<Long> out = new ArrayList<>();
    Set<Integer> covered = new HashSet<>();
    for (long conv = 7_000; covered.size() < PARTITIONS; conv++) {
      int p = Utils.toPositive(Utils.murmur2(KafkaRecords.key(conv).getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
      if (covered.add(p)) {
        out.add(conv);
      }
    }
    return out;
  }

  private static ConversationStore everyoneMember() {
    return (ConversationStore) Proxy.newProxyInstance(ConversationStore.class.getClassLoader(),
        new Class<?>[] {ConversationStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("get")) {
            long id = (Long) args[0];
            return Future.succeededFuture(Optional.of(
                new Conversation(id, Conversation.DM, null, null, 0, 2, 0, List.of("alice", "bob"))));
          }
          throw new UnsupportedOperationException(method.getName());
        });
  }

  /**
   * The archive's contract in memory: the first record of a (sender, msg id) is stored and is the
   * original of every later one; a batch holding a refused msg id fails as a whole, for good.
   */
  private final class DedupingArchive implements MessageArchive {
    final List<ChatMessage> stored = new CopyOnWriteArrayList<>();
    private final Map<String, ChatMessage> originals = new ConcurrentHashMap<>();
    private final Map<String, Set<Long>> seen = new ConcurrentHashMap<>();

    @Override
    public Future<List<ChatMessage>> persist(List<ChatMessage> batch) {
      for (ChatMessage m : batch) {
        if (refused.contains(m.msgId())) {
          return Future.failedFuture(new IllegalArgumentException("value of " + m.msgId() + " not accepted"));
        }
      }
      List<ChatMessage> out = new ArrayList<>();
      for (ChatMessage m : batch) {
        String key = m.from() + '\0' + m.msgId();
        seen.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(m.serverId());
        ChatMessage original = originals.computeIfAbsent(key, k -> {
          stored.add(m);
          return m;
        });
        out.add(original);
      }
      return Future.succeededFuture(out);
    }

    int copies(String from, String msgId) {
      return seen.getOrDefault(from + '\0' + msgId, Set.of()).size();
    }
  }
}
