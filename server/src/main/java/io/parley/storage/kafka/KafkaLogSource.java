package io.parley.storage.kafka;

import io.parley.routing.LogSource;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.HashSet;
import java.util.Set;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster profile's {@link LogSource}: routing's reader of the message log, one member of a
 * consumer group that shares the topic's partitions among the routing nodes.
 *
 * <p>Manual polling ({@link #poll}, no record handler) and manual commits ({@link #commit}, no
 * auto-commit): what routing has not committed is read again by whoever owns the partition next
 * (at least once). A new group starts at the earliest record. A node that dies without leaving the
 * group loses its partitions after the session timeout ({@code kafka.session_timeout_ms}, 6 s by
 * default), so a {@code kill -9}'ed routing node's conversations move within seconds.
 *
 * <p>A record that is not a message ({@link KafkaRecords#decode} rejects it) is logged with its
 * position and skipped: it never blocks its partition.
 *
 * <p>Nothing blocks an event loop: the Vert.x consumer runs the Kafka consumer on a thread of its
 * own, and the consumer is created on a worker. Futures complete on the caller's context.
 */
public final class KafkaLogSource implements LogSource {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaLogSource.class);

  /** Most records one poll returns. */
  public static final int MAX_POLL_RECORDS = 1000;

  /**
   * The consumer's timing.
   *
   * @param pollTimeoutMs longest wait of one {@link #poll} for records ({@code kafka.poll_timeout_ms})
   * @param sessionTimeoutMs how long the group waits for a silent member before moving its
   *     partitions ({@code kafka.session_timeout_ms}; the broker accepts
   *     {@code group.min.session.timeout.ms}..{@code group.max.session.timeout.ms}, 6 s..30 min by default)
   * @param heartbeatIntervalMs how often the member tells the group it lives, below the session
   *     timeout ({@code kafka.heartbeat_interval_ms})
   */
  public record Timing(long pollTimeoutMs, int sessionTimeoutMs, int heartbeatIntervalMs) {
    public Timing {
      if (pollTimeoutMs < 1 || sessionTimeoutMs < 1 || heartbeatIntervalMs < 1) {
        throw new IllegalArgumentException("kafka consumer timeouts must be at least 1 ms: " + pollTimeoutMs + ", "
            + sessionTimeoutMs + ", " + heartbeatIntervalMs);
      }
      if (heartbeatIntervalMs >= sessionTimeoutMs) {
        throw new IllegalArgumentException("kafka heartbeat interval (" + heartbeatIntervalMs
            + " ms) must be below the session timeout (" + sessionTimeoutMs + " ms)");
      }
    }
  }

  private final Vertx vertx;
  private final KafkaConsumer<String, String> consumer;
  private final String topic;
  private final Duration pollTimeout;

  /**
   * Partitions assigned to this reader and not revoked since, each with a number that grows with
   * every assignment; updated by the consumer's rebalance callbacks.
   */
  private final Map<Integer, Long> owned;

  private KafkaLogSource(Vertx vertx, KafkaConsumer<String, String> consumer, String topic, Map<Integer, Long> owned,
      Duration pollTimeout) {
    this.vertx = vertx;
    this.consumer = consumer;
    this.topic = topic;
    this.owned = owned;
    this.pollTimeout = pollTimeout;
  }

  /**
   * A source reading {@code topic} on the brokers {@code bootstrap} as a member of consumer group
   * {@code group}; completes once subscribed (partitions are assigned during the first polls).
   */
  public static Future<KafkaLogSource> create(Vertx vertx, String bootstrap, String topic, String group, Timing timing) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(topic, "topic");
    Map<String, Object> config = consumerConfig(bootstrap, group, timing);
    // creating a Kafka client resolves the bootstrap addresses: not on the event loop
    return vertx.executeBlocking(() -> new org.apache.kafka.clients.consumer.KafkaConsumer<>(config,
            new StringDeserializer(), new StringDeserializer()))
        .compose(kafka -> {
          KafkaConsumer<String, String> consumer = KafkaConsumer.create(vertx, kafka);
          consumer.exceptionHandler(e -> LOG.warn("kafka consumer of {}: {}", topic, e.toString()));
          Map<Integer, Long> owned = new ConcurrentHashMap<>();
          AtomicLong assignments = new AtomicLong();
          consumer.partitionsRevokedHandler(revoked -> {
            revoked.forEach(tp -> owned.remove(tp.getPartition()));
            LOG.info("{}: partitions revoked {}", topic, revoked.stream().map(tp -> tp.getPartition()).sorted().toList());
          });
          consumer.partitionsAssignedHandler(assigned -> {
            assigned.forEach(tp -> owned.put(tp.getPartition(), assignments.incrementAndGet()));
            LOG.info("{}: partitions assigned {}", topic, assigned.stream().map(tp -> tp.getPartition()).sorted().toList());
          });
          return consumer.subscribe(topic)
              .map(v -> new KafkaLogSource(vertx, consumer, topic, owned, Duration.ofMillis(timing.pollTimeoutMs())))
              .recover(e -> consumer.close().transform(ignored -> Future.failedFuture(e)));
        });
  }

  static Map<String, Object> consumerConfig(String bootstrap, String group, Timing timing) {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, Objects.requireNonNull(bootstrap, "bootstrap"));
    config.put(ConsumerConfig.GROUP_ID_CONFIG, Objects.requireNonNull(group, "group"));
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, MAX_POLL_RECORDS);
    config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, timing.sessionTimeoutMs());
    config.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, timing.heartbeatIntervalMs());
    return config;
  }

  @Override
  public Future<List<Logged>> poll() {
    return onCaller(consumer.poll(pollTimeout).map(records -> {
      List<Logged> out = new ArrayList<>(records.size());
      for (ConsumerRecord<String, String> r : records.records()) {
        try {
          out.add(KafkaRecords.decode(r.partition(), r.offset(), r.value()));
        } catch (IllegalArgumentException e) {
          LOG.error("skipping undecodable record {}-{}@{} (key {}): {}", topic, r.partition(), r.offset(), r.key(),
              e.getMessage());
        }
      }
      return out;
    }));
  }

  /** Commits, per partition, the offset after the highest handled one. */
  @Override
  public Future<Void> commit(List<Logged> handled) {
    if (handled.isEmpty()) {
      return Future.succeededFuture();
    }
    Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
    for (Logged l : handled) {
      next.merge(new TopicPartition(topic, l.partition()), new OffsetAndMetadata(l.offset() + 1, ""),
          (a, b) -> a.getOffset() >= b.getOffset() ? a : b);
    }
    return onCaller(consumer.commit(next).mapEmpty());
  }

  @Override
  public boolean owns(int partition) {
    return owned.containsKey(partition);
  }

  @Override
  public long ownership(int partition) {
    return owned.getOrDefault(partition, -1L);
  }

  /** Pauses fetching {@code partition} (the consumer runs it before any later poll); a failure is only logged. */
  @Override
  public void pause(int partition) {
    consumer.pause(new TopicPartition(topic, partition))
        .onFailure(e -> LOG.debug("{}: pause of partition {} failed: {}", topic, partition, e.toString()));
  }

  @Override
  public void resume(int partition) {
    consumer.resume(new TopicPartition(topic, partition))
        .onFailure(e -> LOG.debug("{}: resume of partition {} failed: {}", topic, partition, e.toString()));
  }

  /**
   * The lag of each partition this reader owns: the log's end offset minus the consumer's position
   * (records on the broker not yet polled), for {@code parley_kafka_consumer_lag_records}. One
   * end-offsets request to the broker and a position look-up per partition, on the consumer's
   * thread: for a periodic sample, not per poll.
   */
  public Future<Map<Integer, Long>> lag() {
    Set<TopicPartition> partitions = new HashSet<>();
    owned.keySet().forEach(p -> partitions.add(new TopicPartition(topic, p)));
    if (partitions.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    return onCaller(consumer.endOffsets(partitions).compose(ends -> {
      Map<Integer, Long> out = new ConcurrentHashMap<>();
      List<Future<?>> positions = new ArrayList<>();
      ends.forEach((tp, end) -> positions.add(consumer.position(tp)
          .onSuccess(pos -> out.put(tp.getPartition(), Math.max(0, end - pos)))));
      return Future.join(positions).transform(ignored -> Future.succeededFuture(out));
    }));
  }

  /** Leaves the group (its partitions move to the other members at once) and closes the consumer. */
  @Override
  public Future<Void> close() {
    return onCaller(consumer.close());
  }

  /**
   * {@code future}, completing on the caller's context: the Vert.x consumer completes on the
   * context that created it, which need not be the caller's.
   */
  private <T> Future<T> onCaller(Future<T> future) {
    Context caller = vertx.getOrCreateContext();
    Promise<T> promise = Promise.promise();
    future.onComplete(ar -> {
      if (Vertx.currentContext() == caller) {
        promise.handle(ar);
      } else {
        caller.runOnContext(v -> promise.handle(ar));
      }
    });
    return promise.future();
  }
}
