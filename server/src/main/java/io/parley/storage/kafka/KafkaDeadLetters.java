package io.parley.storage.kafka;

import io.parley.routing.DeadLetters;
import io.parley.routing.LogSource;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The cluster profile's {@link DeadLetters}: parked records go to {@code <topic>.dead}
 * ({@link KafkaTopics#deadLetters}, ensured at start like the log's topic) under their own key,
 * each as a {@link KafkaRecords.DeadLetter} (the record's value plus where it was, why and when it
 * was parked). {@link DeadLetterReplay} writes them back to the log. The producer is the message
 * log's (idempotent, acked by all in-sync replicas, bounded by the send timeout).
 */
public final class KafkaDeadLetters implements DeadLetters {
  private final KafkaProducer<String, String> producer;
  private final String topic;
  private final String dead;
  private final long sendTimeoutMs;

  private KafkaDeadLetters(KafkaProducer<String, String> producer, String topic, long sendTimeoutMs) {
    this.producer = producer;
    this.topic = topic;
    this.dead = KafkaTopics.deadLetters(topic);
    this.sendTimeoutMs = sendTimeoutMs;
  }

  /** Parks records of the log {@code topic} in its dead-letter topic (which must exist). */
  public static Future<KafkaDeadLetters> create(Vertx vertx, String bootstrap, String topic, long sendTimeoutMs) {
    Objects.requireNonNull(topic, "topic");
    Map<String, Object> config = KafkaMessageLog.producerConfig(bootstrap, sendTimeoutMs);
    // creating a Kafka client resolves the bootstrap addresses: not on the event loop
    return vertx.executeBlocking(() -> new org.apache.kafka.clients.producer.KafkaProducer<>(config,
            new StringSerializer(), new StringSerializer()))
        .map(p -> new KafkaDeadLetters(KafkaProducer.create(vertx, p), topic, sendTimeoutMs));
  }

  @Override
  public Future<Void> park(LogSource.Logged record, String error, int attempts) {
    String key = KafkaRecords.key(record.message().conv());
    KafkaRecords.DeadLetter letter = new KafkaRecords.DeadLetter(topic, record.partition(), record.offset(), key,
        KafkaRecords.encode(record), error, attempts, System.currentTimeMillis());
    try {
      return producer.send(KafkaProducerRecord.create(dead, key, letter.encode())).mapEmpty();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public String describe() {
    return dead;
  }

  public Future<Void> close() {
    return producer.close(sendTimeoutMs);
  }
}
