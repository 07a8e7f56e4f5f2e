package io.parley.storage.kafka;

import io.parley.push.PushJob;
import io.parley.push.PushQueue;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster profile's {@link PushQueue}: a Kafka topic keyed (so partitioned) by user, read by
 * the push verticles of every node as one consumer group. One user's jobs reach one consumer, so
 * coalescing per device sees all of them.
 *
 * <p>An append is acked by all in-sync replicas (the message log's producer settings). A job
 * handed out stays open until {@link #done}; each second, and when partitions are revoked, the
 * consumer commits per partition the lowest open offset (or the one after the highest read when
 * none is open). So a job waiting for a throttled provider or a backoff holds its partition's
 * commit back, and a node killed with {@code kill -9} leaves everything unfinished to the
 * partition's next owner (which sends some finished ones again: harmless, same collapse id).
 * Beyond {@code maxOutstanding} open jobs the consumer pauses; it resumes at half.
 *
 * <p>Nothing blocks an event loop: the clients are created on a worker; the Vert.x consumer and
 * producer are created on the caller's context, so records and completions arrive there.
 */
public final class KafkaPushQueue implements PushQueue {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaPushQueue.class);
  static final long COMMIT_INTERVAL_MS = 1000;

  private final Vertx vertx;
  private final String bootstrap;
  private final String topic;
  private final String group;
  private final KafkaLogSource.Timing timing;
  private final long sendTimeoutMs;
  private KafkaProducer<String, String> producer;
  private KafkaConsumer<String, String> consumer;
  private Handler<Queued> handler;
  private int maxOutstanding;
  private int outstanding;
  private boolean paused;
  private long commitTimer = -1;
  private int commitFailures;
  static final int COMMIT_FAILURES_WARN = 5;
  private final Map<Integer, Partition> partitions = new HashMap<>();

  /** Per assigned partition: open offsets, the next offset to read, and what was committed. */
  private static final class Partition {
    final TreeSet<Long> open = new TreeSet<>();
    long next = -1;
    long committed = -1;

    long commitable() {
      return open.isEmpty() ? next : open.first();
    }
  }

  public KafkaPushQueue(Vertx vertx, String bootstrap, String topic, String group, KafkaLogSource.Timing timing,
      long sendTimeoutMs) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.bootstrap = Objects.requireNonNull(bootstrap, "bootstrap");
    this.topic = Objects.requireNonNull(topic, "topic");
    this.group = Objects.requireNonNull(group, "group");
    this.timing = timing;
    this.sendTimeoutMs = sendTimeoutMs;
  }

  @Override
  public Future<Void> start(Handler<Queued> handler, int maxOutstanding) {
    if (maxOutstanding < 1) {
      return Future.failedFuture(new IllegalArgumentException("maxOutstanding must be at least 1: " + maxOutstanding));
    }
    this.handler = handler;
    this.maxOutstanding = maxOutstanding;
    Map<String, Object> producerConfig = KafkaMessageLog.producerConfig(bootstrap, sendTimeoutMs);
    Map<String, Object> consumerConfig = KafkaLogSource.consumerConfig(bootstrap, group, timing);
    consumerConfig.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(1, Math.min(500, maxOutstanding)));
    // a node joining or leaving moves only the partitions that change owner: with the default
    // (eager) assignors every member gives up all of its partitions and reads them again from the
    // last commit, repeating the pushes finished since
    consumerConfig.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
    return vertx.executeBlocking(() -> new org.apache.kafka.clients.producer.KafkaProducer<>(producerConfig,
            new StringSerializer(), new StringSerializer()))
        .compose(p -> {
          producer = KafkaProducer.create(vertx, p);
          producer.exceptionHandler(e -> LOG.debug("kafka send to {} failed: {}", topic, e.toString()));
          return vertx.executeBlocking(() -> new org.apache.kafka.clients.consumer.KafkaConsumer<>(consumerConfig,
              new StringDeserializer(), new StringDeserializer()));
        })
        .compose(c -> {
          consumer = KafkaConsumer.create(vertx, c);
          consumer.exceptionHandler(e -> LOG.warn("kafka consumer of {}: {}", topic, e.toString()));
          consumer.partitionsRevokedHandler(revoked -> {
            commit();
            revoked.forEach(tp -> {
              Partition p = partitions.remove(tp.getPartition());
              if (p != null) {
                outstanding -= p.open.size();
              }
            });
            LOG.info("{}: partitions revoked {}", topic, revoked.stream().map(TopicPartition::getPartition).sorted().toList());
            maybeResume();
          });
          consumer.partitionsAssignedHandler(assigned -> LOG.info("{}: partitions assigned {}", topic,
              assigned.stream().map(TopicPartition::getPartition).sorted().toList()));
          consumer.handler(this::onRecord);
          commitTimer = vertx.setPeriodic(COMMIT_INTERVAL_MS, t -> commit());
          return consumer.subscribe(topic);
        });
  }

  private void onRecord(KafkaConsumerRecord<String, String> r) {
    Partition p = partitions.computeIfAbsent(r.partition(), k -> new Partition());
    p.next = Math.max(p.next, r.offset() + 1);
    PushJob job;
    try {
      job = PushJob.fromJson(new JsonObject(r.value()));
    } catch (RuntimeException e) {
      LOG.error("skipping unreadable push job {}-{}@{}: {}", topic, r.partition(), r.offset(), e.getMessage());
      return;
    }
    p.open.add(r.offset());
    outstanding++;
    if (outstanding >= maxOutstanding && !paused) {
      paused = true;
      consumer.pause();
    }
    try {
      handler.handle(new Queued(job, r.partition(), r.offset()));
    } catch (RuntimeException e) {
      LOG.error("push queue handler failed on {}-{}@{}: {}", topic, r.partition(), r.offset(), e.toString(), e);
    }
  }

  @Override
  public Future<Void> append(List<PushJob> jobs) {
    if (producer == null) {
      return Future.failedFuture(new IllegalStateException("push queue not started"));
    }
    List<Future<?>> sent = new ArrayList<>(jobs.size());
    for (PushJob j : jobs) {
      sent.add(producer.send(KafkaProducerRecord.create(topic, j.user(), j.toJson().encode())));
    }
    return Future.all(sent).mapEmpty();
  }

  @Override
  public void done(Queued job) {
    if (!job.finish()) {
      return;
    }
    Partition p = partitions.get(job.partition());
    if (p != null && p.open.remove(job.position())) {
      outstanding--;
      maybeResume();
    }
  }

  private void maybeResume() {
    if (paused && outstanding <= maxOutstanding / 2) {
      paused = false;
      consumer.resume();
    }
  }

  private Future<Void> commit() {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    partitions.forEach((n, p) -> {
      long at = p.commitable();
      if (at > p.committed) {
        offsets.put(new TopicPartition(topic, n), new OffsetAndMetadata(at, ""));
      }
    });
    if (offsets.isEmpty() || consumer == null) {
      return Future.succeededFuture();
    }
    return consumer.commit(offsets).onSuccess(v -> {
      commitFailures = 0;
      offsets.forEach((tp, o) -> {
        Partition p = partitions.get(tp.getPartition());
        if (p != null) {
          p.committed = Math.max(p.committed, o.getOffset());
        }
      });
    }).<Void>mapEmpty().onFailure(e -> {
      // one failure during a rebalance is expected; several in a row mean the backlog's progress is not kept
      if (++commitFailures % COMMIT_FAILURES_WARN == 0) {
        LOG.warn("push queue: {} commits in a row failed (finished pushes would be sent again after a restart): {}",
            commitFailures, e.toString());
      } else {
        LOG.debug("push queue commit failed (will retry): {}", e.toString());
      }
    });
  }

  @Override
  public int outstanding() {
    return outstanding;
  }

  /** Commits what is finished, leaves the group (its partitions move at once) and closes both clients. */
  @Override
  public Future<Void> close() {
    if (commitTimer >= 0) {
      vertx.cancelTimer(commitTimer);
      commitTimer = -1;
    }
    Future<Void> consumerClosed = consumer == null ? Future.succeededFuture()
        : commit().otherwiseEmpty().compose(v -> consumer.close());
    return consumerClosed.otherwiseEmpty().compose(v -> producer == null ? Future.succeededFuture() : producer.close());
  }
}
