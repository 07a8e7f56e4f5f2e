package io.parley.storage.kafka;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.admin.NewTopic;
import io.vertx.kafka.admin.OffsetSpec;
import io.vertx.kafka.client.common.TopicPartition;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Makes sure the message log's topic exists with the partition count this deployment expects.
 *
 * <p>The partition count is fixed for the life of the topic: the default partitioner maps a
 * conversation to {@code hash(conv) % partitions}, and a conversation's order and server ids
 * ({@link KafkaIds}) only hold within one partition. So an existing topic with another count is
 * an error to fix (configuration or a new topic), never something to adjust here. The count is
 * also bounded by {@link KafkaIds#MAX_PARTITIONS}, since partition numbers are part of the ids.
 */
public final class KafkaTopics {
  private static final long CLOSE_TIMEOUT_MS = 5_000;
  private static final long LEADER_POLL_MS = 100;

  private KafkaTopics() {}

  /**
   * The dead-letter topic of the message log {@code topic}: {@code <topic>.dead}, where routing
   * parks records storage refused ({@link KafkaDeadLetters}); made like the log's topic, with as
   * many partitions (a parked record keeps its conversation's key).
   */
  public static String deadLetters(String topic) {
    return topic + ".dead";
  }

  /**
   * Creates {@code topic} with {@code partitions} partitions and {@code replicationFactor}
   * replicas unless it exists. Succeeds when the topic exists (already, or created concurrently by
   * another node) with exactly {@code partitions} partitions; fails otherwise, or when the broker
   * cannot be reached within {@code adminTimeoutMs}. Completes only once every partition's
   * leader serves it. An existing topic's replication
   * factor is not checked (it can be changed later by reassignment; the partition count cannot).
   *
   * @param partitions 1..{@link KafkaIds#MAX_PARTITIONS}
   * @param adminTimeoutMs upper bound of one admin call and of the wait for partition leaders (each
   *     admin request gets a third of it), so a missing broker fails startup instead of hanging it
   *     ({@code kafka.admin_timeout_ms})
   */
  public static Future<Void> ensure(Vertx vertx, String bootstrap, String topic, int partitions,
      short replicationFactor, int adminTimeoutMs) {
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(topic, "topic");
    if (partitions < 1 || partitions > KafkaIds.MAX_PARTITIONS) {
      return Future.failedFuture(new IllegalArgumentException(
          "kafka topic partitions must be 1.." + KafkaIds.MAX_PARTITIONS + " (partition numbers are part of server ids): "
              + partitions));
    }
    if (replicationFactor < 1) {
      return Future.failedFuture(new IllegalArgumentException(
          "kafka topic replication factor must be at least 1: " + replicationFactor));
    }
    if (adminTimeoutMs < 3) {
      return Future.failedFuture(new IllegalArgumentException("kafka admin timeout must be at least 3 ms: " + adminTimeoutMs));
    }
    // creating a Kafka client resolves the bootstrap addresses: not on the event loop
    return vertx.executeBlocking(() -> AdminClient.create(Map.<String, Object>of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, adminTimeoutMs / 3,
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, adminTimeoutMs)))
        .compose(client -> {
          KafkaAdminClient admin = KafkaAdminClient.create(vertx, client);
          long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(adminTimeoutMs);
          return ensure(admin, topic, partitions, replicationFactor)
              .compose(v -> leadersReady(vertx, admin, topic, partitions, deadline, adminTimeoutMs))
              .eventually(() -> admin.close(CLOSE_TIMEOUT_MS));
        });
  }

  private static Future<Void> ensure(KafkaAdminClient admin, String topic, int partitions, short replicationFactor) {
    return partitionsOf(admin, topic).compose(existing -> {
      if (existing.isPresent()) {
        return check(topic, existing.get(), partitions);
      }
      return admin.createTopics(List.of(new NewTopic(topic, partitions, replicationFactor)))
          .recover(e -> causedBy(e, TopicExistsException.class)
              // another node created it meanwhile: it must agree with us
              ? partitionsOf(admin, topic).compose(now -> check(topic, now.orElse(partitions), partitions))
              : Future.failedFuture(e));
    });
  }

  /**
   * Waits until every partition's leader serves it (asks each for its latest offset, again every
   * {@value #LEADER_POLL_MS} ms until all answer, or fails at the deadline). Right after a topic is
   * created its metadata already names the leaders while the broker is still setting the
   * partitions up: an idempotent producer whose first batch met that window got
   * NOT_LEADER_OR_FOLLOWER and then OUT_OF_ORDER_SEQUENCE_NUMBER on every retry until its delivery
   * timeout.
   */
  private static Future<Void> leadersReady(Vertx vertx, KafkaAdminClient admin, String topic, int partitions,
      long deadline, int adminTimeoutMs) {
    Map<TopicPartition, OffsetSpec> all = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      all.put(new TopicPartition(topic, p), OffsetSpec.LATEST);
    }
    return admin.listOffsets(all).<Void>mapEmpty().recover(e -> {
      if (System.nanoTime() - deadline > 0) {
        return Future.failedFuture(new IllegalStateException(
            "kafka topic '" + topic + "': partition leaders not ready within " + adminTimeoutMs + " ms", e));
      }
      Promise<Void> again = Promise.promise();
      vertx.setTimer(LEADER_POLL_MS, t -> leadersReady(vertx, admin, topic, partitions, deadline, adminTimeoutMs).onComplete(again));
      return again.future();
    });
  }

  /** The partition count of {@code topic}; empty when it does not exist. */
  private static Future<Optional<Integer>> partitionsOf(KafkaAdminClient admin, String topic) {
    return admin.describeTopics(List.of(topic))
        .map(found -> Optional.of(found.get(topic).getPartitions().size()))
        .recover(e -> causedBy(e, UnknownTopicOrPartitionException.class)
            ? Future.succeededFuture(Optional.empty())
            : Future.failedFuture(e));
  }

  private static Future<Void> check(String topic, int existing, int expected) {
    if (existing == expected) {
      return Future.succeededFuture();
    }
    return Future.failedFuture(new IllegalStateException("kafka topic '" + topic + "' has " + existing
        + " partitions but " + expected + " are configured: the partition count of the message log must never"
        + " change (it decides which partition, hence which order and server ids, a conversation has);"
        + " configure " + existing + " or use a new topic"));
  }

  private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }
}
