package io.parley.storage.kafka;

import static io.parley.storage.kafka.KafkaFixture.BOOTSTRAP;
import static io.parley.storage.kafka.KafkaFixture.pollUntil;
import static org.assertj.core.api.Assertions.assertThat;

import io.parley.routing.LogSource.Logged;
import io.parley.routing.MessageLog.Appended;
import io.parley.routing.MessageLog.NewMessage;
import io.parley.testing.Await;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.kafka.client.producer.RecordMetadata;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link KafkaLogSource} on a real broker, fed by {@link KafkaMessageLog}: what routing reads is
 * what the gateways acked (same server ids, same frames, send order per conversation); a record
 * that is not a message is skipped without holding its partition up; what was committed is not
 * read again by the group, what was not is (per partition, from the offset after the highest
 * committed one).
 *
 * <p>Every test writes to a topic of its own (3 partitions) and reads in groups of its own.
 */
class KafkaLogSourceIT {
  private static final AtomicLong CONV_SEQ = new AtomicLong(5_000);
  private static final AtomicLong MSG_SEQ = new AtomicLong();
  private static final int PARTITIONS = 3;

  private static Vertx vertx;
  private static final List<String> topics = new ArrayList<>();
  private String topic;
  private KafkaMessageLog log;
  private VerdictStandIn verdicts;
  private final List<KafkaLogSource> sources = new ArrayList<>();

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() throws Exception {
    if (vertx != null) {
      KafkaFixture.deleteTopics(vertx, topics);
      Await.result(vertx.close(), Duration.ofSeconds(30));
    }
  }

  @BeforeEach
  void newTopic() throws Exception {
    topic = KafkaFixture.uniqueName("source");
    topics.add(topic);
    Await.result(KafkaTopics.ensure(vertx, BOOTSTRAP, topic, PARTITIONS, (short) 1, KafkaFixture.ADMIN_TIMEOUT_MS), Duration.ofSeconds(60));
    // the log acks an append once routing's verdict is in: the stand-in gives it
    verdicts = Await.result(VerdictStandIn.start(vertx, BOOTSTRAP, topic), Duration.ofSeconds(30));
    log = Await.result(KafkaMessageLog.create(vertx, BOOTSTRAP, topic, "node-1", 10_000), Duration.ofSeconds(30));
  }

  @AfterEach
  void closeClients() throws Exception {
    for (KafkaLogSource s : sources) {
      Await.result(s.close().otherwiseEmpty(), Duration.ofSeconds(60));
    }
    Await.result(log.close(), Duration.ofSeconds(30));
    Await.result(verdicts.close().otherwiseEmpty(), Duration.ofSeconds(30));
  }

  private KafkaLogSource newSource(String group) throws Exception {
    KafkaLogSource source = Await.result(KafkaLogSource.create(vertx, BOOTSTRAP, topic, group, KafkaFixture.TIMING), Duration.ofSeconds(30));
    sources.add(source);
    return source;
  }

  private static NewMessage msg(String from, long conv, String body) {
    return new NewMessage(from, "m-" + MSG_SEQ.incrementAndGet(), conv, body, null);
  }

  private List<Appended> append(List<NewMessage> batch) throws Exception {
    return Await.result(log.append(batch), Duration.ofSeconds(30));
  }

  private static Set<String> msgIds(Collection<Logged> logged) {
    return logged.stream().map(l -> l.message().msgId()).collect(Collectors.toSet());
  }

  private static java.util.function.Predicate<List<Logged>> seenAll(Collection<Appended> acked) {
    Set<String> wanted = acked.stream().map(a -> a.message().msgId()).collect(Collectors.toSet());
    return seen -> msgIds(seen).containsAll(wanted);
  }

  private static Set<String> positions(Collection<Logged> logged) {
    return logged.stream().map(l -> l.partition() + "@" + l.offset()).collect(Collectors.toSet());
  }

  @Test
  void routingReadsWhatWasAckedInSendOrderPerConversation() throws Exception {
    long c1 = CONV_SEQ.incrementAndGet();
    long c2 = CONV_SEQ.incrementAndGet();
    long c3 = CONV_SEQ.incrementAndGet();
    List<Appended> acked = new ArrayList<>();
    for (int b = 0; b < 4; b++) {
      List<NewMessage> batch = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        long conv = i % 3 == 0 ? c1 : i % 3 == 1 ? c2 : c3;
        batch.add(msg("u" + (i % 5), conv, "b" + b + " #" + i));
      }
      acked.addAll(append(batch));
    }
    KafkaLogSource source = newSource(KafkaFixture.uniqueName("group"));
    List<Logged> read = Await.result(pollUntil(source, seenAll(acked), 30), Duration.ofSeconds(40));

    assertThat(read).hasSize(acked.size());
    for (long conv : List.of(c1, c2, c3)) {
      List<Appended> sent = acked.stream().filter(a -> a.message().conv() == conv).toList();
      List<Logged> got = read.stream().filter(l -> l.message().conv() == conv).toList();
      assertThat(got).as("conversation %d", conv).hasSize(40);
      assertThat(got).extracting(l -> l.message().msgId())
          .as("read in send order").containsExactlyElementsOf(sent.stream().map(a -> a.message().msgId()).toList());
      assertThat(got).extracting(l -> l.message().serverId())
          .as("ids the writer acked").containsExactlyElementsOf(sent.stream().map(a -> a.message().serverId()).toList())
          .isSorted().doesNotHaveDuplicates();
      assertThat(got).extracting(l -> l.message().toFrame())
          .as("frames the writer acked").containsExactlyElementsOf(sent.stream().map(Appended::frame).toList());
      assertThat(got).extracting(Logged::partition).as("one partition per conversation").containsOnly(got.get(0).partition());
      for (Logged l : got) {
        assertThat(l.message().serverId()).isEqualTo(KafkaIds.serverId(l.partition(), l.offset()));
      }
    }
  }

  @Test
  void aRecordThatIsNotAMessageIsSkipped() throws Exception {
    long conv = CONV_SEQ.incrementAndGet();
    Appended before = append(List.of(msg("alice", conv, "before"))).get(0);
    KafkaProducer<String, String> raw = KafkaProducer.create(vertx, Map.of(
        "bootstrap.servers", BOOTSTRAP,
        "key.serializer", "org.apache.kafka.common.serialization.StringSerializer",
        "value.serializer", "org.apache.kafka.common.serialization.StringSerializer"));
    List<RecordMetadata> poison;
    try {
      String key = KafkaRecords.key(conv); // same partition as the conversation
      poison = List.of(
          Await.result(raw.send(KafkaProducerRecord.create(topic, key, "not json")), Duration.ofSeconds(30)),
          Await.result(raw.send(KafkaProducerRecord.create(topic, key, "{\"conv\":\"" + conv + "\"}")), Duration.ofSeconds(30)),
          Await.result(raw.send(KafkaProducerRecord.create(topic, key, (String) null)), Duration.ofSeconds(30)));
    } finally {
      Await.result(raw.close(), Duration.ofSeconds(30));
    }
    Appended after = append(List.of(msg("alice", conv, "after"))).get(0);

    KafkaLogSource source = newSource(KafkaFixture.uniqueName("group"));
    List<Logged> read = Await.result(pollUntil(source, seenAll(List.of(before, after)), 30), Duration.ofSeconds(40));

    assertThat(read).extracting(l -> l.message().msgId())
        .containsExactly(before.message().msgId(), after.message().msgId());
    int partition = KafkaIds.partition(after.message().serverId());
    assertThat(poison).extracting(RecordMetadata::getPartition).containsOnly(partition);
    assertThat(KafkaIds.offset(after.message().serverId()))
        .as("the good record after the bad ones was reached")
        .isGreaterThan(poison.get(2).getOffset());
  }

  @Test
  void whatWasCommittedIsNotReadAgainWhatWasNotIs() throws Exception {
    List<NewMessage> batch = new ArrayList<>();
    for (int c = 0; c < 9; c++) {
      long conv = CONV_SEQ.incrementAndGet();
      for (int i = 0; i < 6; i++) {
        batch.add(msg("u" + i, conv, "c" + c + " #" + i));
      }
    }
    List<Appended> acked = append(batch);
    Set<Integer> used = acked.stream().map(a -> KafkaIds.partition(a.message().serverId())).collect(Collectors.toSet());
    assertThat(used).as("partitions written").hasSizeGreaterThan(1);

    String group = KafkaFixture.uniqueName("group");
    KafkaLogSource first = newSource(group);
    List<Logged> read = Await.result(pollUntil(first, seenAll(acked), 30), Duration.ofSeconds(40));
    assertThat(read).hasSize(acked.size());

    // handle (and commit) the first half of each partition, in no particular order; leave the rest
    Map<Integer, List<Logged>> byPartition = new HashMap<>();
    read.forEach(l -> byPartition.computeIfAbsent(l.partition(), p -> new ArrayList<>()).add(l));
    List<Logged> handled = new ArrayList<>();
    List<Logged> unhandled = new ArrayList<>();
    byPartition.values().forEach(records -> {
      int half = records.size() / 2;
      handled.addAll(records.subList(0, half));
      unhandled.addAll(records.subList(half, records.size()));
    });
    java.util.Collections.reverse(handled);
    Await.result(first.commit(handled), Duration.ofSeconds(30));
    Await.result(first.close(), Duration.ofSeconds(60));

    KafkaLogSource second = newSource(group);
    Set<String> rest = msgIds(unhandled);
    List<Logged> reread = Await.result(pollUntil(second, seen -> msgIds(seen).containsAll(rest), 30), Duration.ofSeconds(40));

    assertThat(msgIds(reread)).as("read again: exactly what was not committed").isEqualTo(rest);
    assertThat(reread).as("each once").hasSize(unhandled.size());
    assertThat(positions(reread)).isEqualTo(positions(unhandled));

    // the second reader commits everything: a third one in the group finds nothing left
    Await.result(second.commit(reread), Duration.ofSeconds(30));
    Await.result(second.close(), Duration.ofSeconds(60));
    Appended marker = append(List.of(msg("alice", CONV_SEQ.incrementAndGet(), "marker"))).get(0);
    KafkaLogSource third = newSource(group);
    List<Logged> last = Await.result(pollUntil(third, seenAll(List.of(marker)), 30), Duration.ofSeconds(40));
    assertThat(last).extracting(l -> l.message().msgId()).containsExactly(marker.message().msgId());
  }

  @Test
  void ownershipFollowsTheGroupsAssignment() throws Exception {
    String group = KafkaFixture.uniqueName("group");
    KafkaLogSource first = newSource(group);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (owned(first).size() < PARTITIONS) {
      assertThat(System.nanoTime()).as("first reader owns every partition in time").isLessThan(deadline);
      Await.result(first.poll(), Duration.ofSeconds(30));
    }
    // a second reader joins: the partitions are shared out, and each knows which ones it lost or got
    KafkaLogSource second = newSource(group);
    while (owned(second).isEmpty() || owned(first).size() + owned(second).size() != PARTITIONS
        || owned(first).stream().anyMatch(owned(second)::contains)) {
      assertThat(System.nanoTime()).as("partitions shared out in time: %s / %s", owned(first), owned(second))
          .isLessThan(deadline);
      Await.result(first.poll(), Duration.ofSeconds(30));
      Await.result(second.poll(), Duration.ofSeconds(30));
    }
    assertThat(owned(first)).isNotEmpty();
  }

  private static Set<Integer> owned(KafkaLogSource source) {
    Set<Integer> out = new java.util.TreeSet<>();
    for (int p = 0; p < PARTITIONS; p++) {
      if (source.owns(p)) {
        out.add(p);
      }
    }
    return out;
  }

  @Test
  void committingNothingIsANoOp() throws Exception {
    KafkaLogSource source = newSource(KafkaFixture.uniqueName("group"));
    Await.result(source.commit(List.of()), Duration.ofSeconds(10));
    Appended a = append(List.of(msg("alice", CONV_SEQ.incrementAndGet(), "x"))).get(0);
    assertThat(Await.result(pollUntil(source, seenAll(List.of(a)), 30), Duration.ofSeconds(40))).hasSize(1);
  }
}
