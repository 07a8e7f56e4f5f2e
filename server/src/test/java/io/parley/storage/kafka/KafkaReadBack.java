package io.parley.storage.kafka;

import io.parley.history.MessagePage;
import io.parley.history.MessageStore;
import io.parley.history.StoredMessage;
import io.parley.protocol.ChatMessage;
import io.parley.routing.LogSource.Logged;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.common.PartitionInfo;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Test-only {@link MessageStore} over the log topic itself: every query reads the whole topic,
 * from the beginning to the end offsets of the moment, with a group-less consumer (assigned all
 * partitions, nothing committed), and answers from the messages of the conversation. Good for the
 * small topics of the tests; this is what {@code MessageLogContract#readBack()} needs from a log
 * that is not also a store.
 */
final class KafkaReadBack implements MessageStore {
  private static final int READ_SECONDS = 20;

  private final Vertx vertx;
  private final String bootstrap;
  private final String topic;

  KafkaReadBack(Vertx vertx, String bootstrap, String topic) {
    this.vertx = vertx;
    this.bootstrap = bootstrap;
    this.topic = topic;
  }

  @Override
  public Future<Optional<StoredMessage>> get(long conv, long serverId) {
    return messagesOf(conv).map(all -> all.stream().filter(m -> m.serverId() == serverId).findFirst()
        .map(KafkaReadBack::stored));
  }

  @Override
  public Future<MessagePage> before(long conv, long beforeId, int limit) {
    return messagesOf(conv).map(all -> {
      List<ChatMessage> older = all.stream().filter(m -> m.serverId() < beforeId)
          .sorted(Comparator.comparingLong(ChatMessage::serverId).reversed()).toList();
      return new MessagePage(older.stream().limit(limit).map(KafkaReadBack::stored).toList(), older.size() > limit);
    });
  }

  @Override
  public Future<MessagePage> after(long conv, long afterId, int limit) {
    return messagesOf(conv).map(all -> {
      List<ChatMessage> newer = all.stream().filter(m -> m.serverId() > afterId).toList();
      int skip = Math.max(0, newer.size() - limit);
      return new MessagePage(newer.subList(skip, newer.size()).stream().map(KafkaReadBack::stored).toList(), skip > 0);
    });
  }

  /** The messages of one conversation, oldest first. */
  Future<List<ChatMessage>> messagesOf(long conv) {
    return readAll().map(all -> all.stream().map(Logged::message).filter(m -> m.conv() == conv)
        .sorted(Comparator.comparingLong(ChatMessage::serverId)).toList());
  }

  /** Every decodable record of the topic, in log order per partition. */
  Future<List<Logged>> readAll() {
    KafkaConsumer<String, String> consumer = KafkaConsumer.create(vertx, Map.of(
        "bootstrap.servers", bootstrap,
        "key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer",
        "value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer",
        "enable.auto.commit", "false",
        "auto.offset.reset", "earliest"));
    return consumer.partitionsFor(topic)
        .compose(infos -> {
          Set<TopicPartition> partitions = infos.stream().map(PartitionInfo::getPartition)
              .map(p -> new TopicPartition(topic, p)).collect(Collectors.toSet());
          return consumer.assign(partitions)
              .compose(v -> consumer.seekToBeginning(partitions))
              .compose(v -> consumer.endOffsets(partitions))
              .compose(ends -> {
                Map<Integer, Long> remaining = new HashMap<>();
                ends.forEach((tp, end) -> {
                  if (end > 0) {
                    remaining.put(tp.getPartition(), end);
                  }
                });
                Promise<List<Logged>> read = Promise.promise();
                drain(consumer, remaining, new ArrayList<>(), System.nanoTime() + Duration.ofSeconds(READ_SECONDS).toNanos(),
                    read);
                return read.future();
              });
        })
        .eventually(consumer::close);
  }

  /** Polls until every partition was read up to its end offset. */
  private void drain(KafkaConsumer<String, String> consumer, Map<Integer, Long> remaining, List<Logged> out,
      long deadline, Promise<List<Logged>> read) {
    if (remaining.isEmpty()) {
      read.complete(out);
      return;
    }
    if (System.nanoTime() > deadline) {
      read.fail(new AssertionError("topic " + topic + " not read to its end in time; missing " + remaining));
      return;
    }
    consumer.poll(Duration.ofMillis(100)).onComplete(ar -> {
      if (ar.failed()) {
        read.fail(ar.cause());
        return;
      }
      ar.result().records().forEach(r -> {
        try {
          out.add(KafkaRecords.decode(r.partition(), r.offset(), r.value()));
        } catch (IllegalArgumentException e) {
          // not a message: skipped, as KafkaLogSource does
        }
        Long end = remaining.get(r.partition());
        if (end != null && r.offset() + 1 >= end) {
          remaining.remove(r.partition());
        }
      });
      drain(consumer, remaining, out, deadline, read);
    });
  }

  private static StoredMessage stored(ChatMessage m) {
    return new StoredMessage(m.conv(), m.serverId(), m.from(), m.toFrame());
  }
}
