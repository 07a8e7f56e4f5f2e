package io.parley.storage.kafka;

import io.parley.protocol.Addresses;
import io.parley.protocol.ChatMessage;
import io.parley.routing.LogSource.Logged;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.kafka.client.common.PartitionInfo;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Test-only stand-in for routing's half of a send, for the Kafka log's own tests: reads every
 * record of the topic (group-less, from the beginning), resolves each (sender, msg id) to the
 * first record that carried it, as the archive does, and sends each record's writer that verdict.
 * {@link #hold()} keeps verdicts back (routing behind, or down) until {@link #release()}.
 */
final class VerdictStandIn {
  private final Vertx vertx;
  private final KafkaConsumer<String, String> consumer;
  /** Original frame per "from\0msgId"; event-loop only. */
  private final Map<String, String> firsts = new HashMap<>();
  private final List<Logged> held = new ArrayList<>();
  private boolean holding;

  private VerdictStandIn(Vertx vertx, KafkaConsumer<String, String> consumer) {
    this.vertx = vertx;
    this.consumer = consumer;
  }

  static Future<VerdictStandIn> start(Vertx vertx, String bootstrap, String topic) {
    KafkaConsumer<String, String> consumer = KafkaConsumer.create(vertx, Map.of(
        "bootstrap.servers", bootstrap,
        "key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer",
        "value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer",
        "enable.auto.commit", "false",
        "auto.offset.reset", "earliest",
        "fetch.max.wait.ms", "10"));
    VerdictStandIn standIn = new VerdictStandIn(vertx, consumer);
    consumer.handler(r -> {
      Logged l;
      try {
        l = KafkaRecords.decode(r.partition(), r.offset(), r.value());
      } catch (IllegalArgumentException e) {
        return;
      }
      standIn.onRecord(l);
    });
    return consumer.partitionsFor(topic).compose(infos -> {
      Set<TopicPartition> partitions = infos.stream().map(PartitionInfo::getPartition)
          .map(p -> new TopicPartition(topic, p)).collect(Collectors.toSet());
      return consumer.assign(partitions);
    }).map(standIn);
  }

  /** Keeps verdicts back from now on. */
  synchronized void hold() {
    holding = true;
  }

  /** Sends the verdicts held back, and every later one at once. */
  void release() {
    List<Logged> out;
    synchronized (this) {
      holding = false;
      out = List.copyOf(held);
      held.clear();
    }
    out.forEach(this::decide);
  }

  private void onRecord(Logged l) {
    synchronized (this) {
      if (holding) {
        held.add(l);
        return;
      }
    }
    decide(l);
  }

  private synchronized void decide(Logged l) {
    ChatMessage m = l.message();
    String original = firsts.computeIfAbsent(m.from() + '\0' + m.msgId(), k -> m.toFrame());
    if (l.via() != null) {
      vertx.eventBus().send(Addresses.intakeVerdicts(l.via()), new JsonArray().add(original));
    }
  }

  Future<Void> close() {
    return consumer.close();
  }
}
