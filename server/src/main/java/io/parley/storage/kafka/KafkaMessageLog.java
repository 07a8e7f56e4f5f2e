package io.parley.storage.kafka;

import io.parley.protocol.ChatMessage;
import io.parley.routing.MessageLog;
import io.parley.routing.SendIndex;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.kafka.client.producer.RecordMetadata;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster profile's {@link MessageLog} on the gateway side: an accepted send is acked once
 * Kafka has it (all in-sync replicas), and its server id is its log position ({@link KafkaIds}).
 * Routing nodes read the topic back through {@link KafkaLogSource}, persist and fan out.
 *
 * <h2>An append</h2>
 *
 * Per message of the batch, in order, keyed on (sender, client msg id):
 *
 * <ol>
 *   <li>a repeat of an earlier message of the same batch resolves to that first occurrence;
 *   <li>a message this writer acked recently (a bounded LRU of {@code recentMax} entries) or is
 *       still appending resolves to that original;
 *   <li>otherwise, when the message {@linkplain NewMessage#maybeRetry may be a retry} from another
 *       connection or its key failed to append here before, the {@link SendIndex} (what routing
 *       persisted, e.g. after this writer restarted or the retry came through another gateway) is
 *       asked, at most {@link #INDEX_TIMEOUT_MS} ms:
 *       a failure or a late answer counts as "not found", so sends never wait on a store that is
 *       down; a found message is the original;
 *   <li>otherwise the message is produced (key and value: {@link KafkaRecords}), all of a batch's
 *       records in batch order once every look-up of the batch has answered and the previous
 *       batch was produced, so records of one conversation get increasing offsets in call order.
 *       Batches may overlap: the next one's look-ups run while this one waits for Kafka.
 * </ol>
 *
 * An original comes back with {@code duplicate} set and its stored fields (server id, body,
 * media, ts). Results are in batch order. Dedupe is best effort across writers: a retry racing
 * its original on two gateways, or one whose original append failed after all reaching Kafka,
 * can be logged twice; routing's archive drops such a second copy (see
 * {@code MessageArchive#persist}).
 *
 * <h2>Failure</h2>
 *
 * The batch succeeds as a whole or fails as a whole, within {@code sendTimeoutMs} of the call: the
 * producer's own timeouts ({@code delivery.timeout.ms}, {@code max.block.ms}) are derived from it,
 * and a timer fails the batch in any case, since a send waiting for metadata from a dead broker
 * can stay pending. A failed batch records nothing in the LRU; its records may still reach Kafka
 * later, which the retry's dedupe (or routing's archive) absorbs. While the producer holds a
 * backlog of unacked records beyond a bound (the broker is down, say), a batch fails at once
 * instead of queueing behind them: memory stays bounded, and the caller's retry comes back soon.
 *
 * <h2>Threading</h2>
 *
 * Nothing blocks an event loop: the producer is created on a worker, and the Vert.x producer runs
 * every {@code send} on an ordered worker (so records leave in call order). The LRU and the
 * in-flight table live on the context that created the log; {@link #append} may be called from
 * any thread and completes on the caller's context.
 */
public final class KafkaMessageLog implements MessageLog {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaMessageLog.class);

  /** Default bound of the recently-acked table. */
  public static final int DEFAULT_RECENT_MAX = 100_000;
  /** Longest wait for the {@link SendIndex}, per batch (less when {@code sendTimeoutMs / 3} is shorter). */
  public static final long INDEX_TIMEOUT_MS = 500;
  /** Shortest accepted {@code sendTimeoutMs}. */
  public static final long MIN_SEND_TIMEOUT_MS = 100;
  /** How long the producer waits to fill a batch: a group commit of concurrent sends for 1 ms. */
  static final int LINGER_MS = 1;
  /**
   * Bound of the producer's backlog, in characters of record values handed to it and not yet
   * acked or failed (the Vert.x producer's write queue). While it is exceeded, a batch fails at
   * once instead of queueing behind records Kafka is not taking (a broker down, or unknown
   * metadata: then each send holds the producer's worker up to {@code max.block.ms}).
   */
  static final int DEFAULT_MAX_PENDING_CHARS = 8 * 1024 * 1024;

  private final Vertx vertx;
  private final Context owner;
  private final KafkaProducer<String, String> producer;
  private final String topic;
  private final SendIndex index;
  private final long sendTimeoutMs;
  private final long indexTimeoutMs;
  /**
   * Frames of recently acked or found messages, by key; owner context only. Only the frame is
   * kept (the message is parsed back from it on a hit, which is rare), halving the memory.
   */
  private final Map<Key, String> recent;
  /**
   * Keys whose append failed here (their records may still have reached Kafka), so that their
   * retries are looked up in the index even from an established connection; bounded, owner
   * context only.
   */
  private final Map<Key, Boolean> suspects;
  /** Messages being appended (looked up or produced), by key; owner context only. */
  private final Map<Key, Future<Appended>> inFlight = new HashMap<>();
  /** Completes once the latest batch's records were handed to the producer; owner context only. */
  private Future<Void> produced = Future.succeededFuture();
  private boolean closed;

  private KafkaMessageLog(Vertx vertx, Context owner, KafkaProducer<String, String> producer, String topic,
      SendIndex index, long sendTimeoutMs, int recentMax) {
    this.vertx = vertx;
    this.owner = owner;
    this.producer = producer;
    this.topic = topic;
    this.index = index;
    this.sendTimeoutMs = sendTimeoutMs;
    this.indexTimeoutMs = Math.min(INDEX_TIMEOUT_MS, sendTimeoutMs / 3);
    this.recent = new LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Key, String> eldest) {
        return size() > recentMax;
      }
    };
    this.suspects = new LinkedHashMap<>(64, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Key, Boolean> eldest) {
        return size() > recentMax;
      }
    };
  }

  /** {@link #create(Vertx, String, String, SendIndex, long, int)} with {@link #DEFAULT_RECENT_MAX}. */
  public static Future<KafkaMessageLog> create(Vertx vertx, String bootstrap, String topic, SendIndex index,
      long sendTimeoutMs) {
    return create(vertx, bootstrap, topic, index, sendTimeoutMs, DEFAULT_RECENT_MAX);
  }

  /**
   * A log writing to {@code topic} (which must exist: {@link KafkaTopics#ensure}) on the brokers
   * {@code bootstrap} ({@code host:port,...}). Does not contact the brokers: the first append does.
   *
   * @param index where routing's persisted messages are found by (sender, msg id)
   * @param sendTimeoutMs upper bound of an append, at least {@value #MIN_SEND_TIMEOUT_MS}
   * @param recentMax bound of the recently-acked table (at least 1)
   */
  public static Future<KafkaMessageLog> create(Vertx vertx, String bootstrap, String topic, SendIndex index,
      long sendTimeoutMs, int recentMax) {
    return create(vertx, bootstrap, topic, index, sendTimeoutMs, recentMax, DEFAULT_MAX_PENDING_CHARS);
  }

  /** As above, with the producer backlog bounded by {@code maxPendingChars} (tests). */
  static Future<KafkaMessageLog> create(Vertx vertx, String bootstrap, String topic, SendIndex index,
      long sendTimeoutMs, int recentMax, int maxPendingChars) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(index, "index");
    if (sendTimeoutMs < MIN_SEND_TIMEOUT_MS || sendTimeoutMs > Integer.MAX_VALUE) {
      return Future.failedFuture(new IllegalArgumentException("kafka send timeout must be " + MIN_SEND_TIMEOUT_MS
          + ".." + Integer.MAX_VALUE + " ms: " + sendTimeoutMs));
    }
    if (recentMax < 1 || maxPendingChars < 1) {
      return Future.failedFuture(new IllegalArgumentException(
          "recentMax and maxPendingChars must be at least 1: " + recentMax + ", " + maxPendingChars));
    }
    Context owner = vertx.getOrCreateContext();
    Map<String, Object> config = producerConfig(bootstrap, sendTimeoutMs);
    // creating a Kafka client resolves the bootstrap addresses: not on the event loop
    return vertx.executeBlocking(() -> new org.apache.kafka.clients.producer.KafkaProducer<>(config,
            new StringSerializer(), new StringSerializer()))
        .map(p -> {
          KafkaProducer<String, String> producer = KafkaProducer.create(vertx, p);
          // a failed send also fails its future, which fails the append: no "unhandled exception" report
          producer.exceptionHandler(e -> LOG.debug("kafka send to {} failed: {}", topic, e.toString()));
          producer.setWriteQueueMaxSize(maxPendingChars);
          return new KafkaMessageLog(vertx, owner, producer, topic, index, sendTimeoutMs, recentMax);
        });
  }

  /**
   * Idempotent producer (so broker-side retries neither duplicate nor reorder records; 5 requests
   * in flight keep per-partition order with idempotence), acked by all in-sync replicas, every
   * wait bounded by {@code sendTimeoutMs}. Kafka requires
   * {@code delivery.timeout.ms >= linger.ms + request.timeout.ms}.
   */
  static Map<String, Object> producerConfig(String bootstrap, long sendTimeoutMs) {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
    config.put(ProducerConfig.LINGER_MS_CONFIG, LINGER_MS);
    config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) sendTimeoutMs);
    config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) sendTimeoutMs - LINGER_MS);
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, sendTimeoutMs);
    return config;
  }

  @Override
  public Future<List<Appended>> append(List<NewMessage> batch) {
    if (batch.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    List<NewMessage> copy = List.copyOf(batch);
    Context caller = vertx.getOrCreateContext();
    Promise<List<Appended>> result = Promise.promise();
    on(owner, () -> appendOnOwner(copy).onComplete(ar -> on(caller, () -> result.handle(ar))));
    return result.future();
  }

  /**
   * Closes the producer, waiting at most the send timeout for records still in flight; appends
   * made after this fail.
   */
  public Future<Void> close() {
    Promise<Void> done = Promise.promise();
    on(owner, () -> {
      closed = true;
      producer.close(sendTimeoutMs).onComplete(done);
    });
    return done.future();
  }

  // --- one batch, on the owner context --------------------------------------------------------

  private Future<List<Appended>> appendOnOwner(List<NewMessage> batch) {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("kafka message log is closed"));
    }
    int n = batch.size();
    List<Future<Appended>> slots = new ArrayList<>(n);
    boolean[] repeated = new boolean[n];
    Map<Key, Integer> firstAt = new HashMap<>();
    List<Fresh> fresh = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      NewMessage m = batch.get(i);
      Key key = new Key(m.from(), m.msgId());
      Integer first = firstAt.putIfAbsent(key, i);
      Future<Appended> known = first != null ? slots.get(first) : known(key);
      if (known != null) {
        slots.add(known);
        repeated[i] = true;
        continue;
      }
      Fresh f = new Fresh(key, m, Promise.promise());
      inFlight.put(key, f.outcome().future());
      fresh.add(f);
      slots.add(f.outcome().future());
    }
    Future<List<Appended>> result = Future.all(slots).map(all -> {
      List<Appended> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        Appended a = slots.get(i).result();
        out.add(repeated[i] && !a.duplicate() ? new Appended(a.message(), a.frame(), true) : a);
      }
      return out;
    });
    if (!fresh.isEmpty()) {
      long timer = vertx.setTimer(sendTimeoutMs, id -> fresh.forEach(f -> f.outcome().tryFail(new TimeoutException(
          "kafka did not ack within " + sendTimeoutMs + " ms (topic " + topic + ")"))));
      // batches appended one after another produce in call order, even when a later batch's
      // look-ups answer first: a sender's next message never gets the lower offset
      Future<List<Optional<ChatMessage>>> found = lookUp(fresh);
      Promise<Void> handedOn = Promise.promise();
      produced.transform(v -> found).onComplete(ar -> on(owner, () -> {
        try {
          produce(fresh, ar.result()); // look-ups never fail
        } finally {
          handedOn.complete();
        }
      }));
      produced = handedOn.future();
      result.onComplete(ar -> on(owner, () -> {
        vertx.cancelTimer(timer);
        settle(fresh, ar.succeeded() ? null : ar.cause());
      }));
    }
    return result;
  }

  /** The original of a message this writer acked recently or is appending, or null. */
  private Future<Appended> known(Key key) {
    String frame = recent.get(key);
    return frame != null
        ? Future.succeededFuture(new Appended(ChatMessage.fromFrame(frame), frame, true))
        : inFlight.get(key);
  }

  /**
   * Asks the index about every fresh message at once; answers, in order, what it found, or empty
   * for "not found", "failed" and "no answer within the index timeout". Never fails.
   */
  private Future<List<Optional<ChatMessage>>> lookUp(List<Fresh> fresh) {
    List<Promise<Optional<ChatMessage>>> answers = new ArrayList<>(fresh.size());
    for (Fresh f : fresh) {
      Promise<Optional<ChatMessage>> answer = Promise.promise();
      answers.add(answer);
      if (!f.message().maybeRetry() && !suspects.containsKey(f.key())) {
        answer.complete(Optional.empty()); // cannot repeat a send of another connection
        continue;
      }
      find(f.message()).onComplete(ar -> {
        if (ar.failed()) {
          LOG.debug("send index look-up of ({}, {}) failed: {}", f.key().from(), f.key().msgId(), ar.cause().toString());
        }
        answer.tryComplete(ar.succeeded() && ar.result() != null ? ar.result() : Optional.empty());
      });
    }
    if (answers.stream().allMatch(a -> a.future().isComplete())) {
      return Future.succeededFuture(answers.stream().map(a -> a.future().result()).toList());
    }
    long timer = vertx.setTimer(indexTimeoutMs, id -> answers.forEach(a -> a.tryComplete(Optional.empty())));
    return Future.all(answers.stream().map(Promise::future).toList())
        .map(all -> {
          vertx.cancelTimer(timer);
          return answers.stream().map(a -> a.future().result()).toList();
        });
  }

  private Future<Optional<ChatMessage>> find(NewMessage m) {
    try {
      Future<Optional<ChatMessage>> found = index.find(m.from(), m.msgId());
      return found != null ? found : Future.succeededFuture(Optional.empty());
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * Resolves found messages to their originals and produces the others, in batch order: all of
   * them, or none when the producer's backlog is full.
   */
  private void produce(List<Fresh> fresh, List<Optional<ChatMessage>> found) {
    List<Fresh> toSend = new ArrayList<>(fresh.size());
    for (int i = 0; i < fresh.size(); i++) {
      Fresh f = fresh.get(i);
      if (f.outcome().future().isComplete()) {
        continue; // timed out meanwhile: the batch has failed, produce nothing more of it
      }
      Optional<ChatMessage> original = found.get(i);
      if (original.isPresent()) {
        ChatMessage m = original.get();
        f.outcome().tryComplete(new Appended(m, m.toFrame(), true));
      } else {
        toSend.add(f);
      }
    }
    if (toSend.isEmpty()) {
      return;
    }
    if (producer.writeQueueFull()) {
      IllegalStateException full = new IllegalStateException("kafka producer backlog full (topic " + topic
          + "): earlier records are not acked yet");
      toSend.forEach(f -> f.outcome().tryFail(full));
      return;
    }
    long ts = System.currentTimeMillis();
    toSend.forEach(f -> send(f, ts));
  }

  private void send(Fresh f, long ts) {
    NewMessage m = f.message();
    KafkaProducerRecord<String, String> record =
        KafkaProducerRecord.create(topic, KafkaRecords.key(m.conv()), KafkaRecords.encode(m, ts), ts, null);
    Future<RecordMetadata> sent;
    try {
      sent = producer.send(record);
    } catch (RuntimeException e) {
      sent = Future.failedFuture(e);
    }
    sent.onComplete(ar -> on(owner, () -> {
      if (ar.failed()) {
        f.outcome().tryFail(ar.cause());
        return;
      }
      try {
        ChatMessage logged = KafkaRecords.message(m, ts, ar.result().getPartition(), ar.result().getOffset());
        f.outcome().tryComplete(new Appended(logged, logged.toFrame(), false));
      } catch (IllegalArgumentException e) {
        f.outcome().tryFail(e); // a partition beyond the id range: the topic was not made by KafkaTopics
      }
    }));
  }

  /**
   * The batch succeeded ({@code failure} null) or failed as a whole: its fresh messages leave the
   * in-flight table, and only when it succeeded enter the recent table. On failure the ones still
   * unresolved fail too, so retries waiting on them fail rather than wait.
   */
  private void settle(List<Fresh> fresh, Throwable failure) {
    for (Fresh f : fresh) {
      inFlight.remove(f.key(), f.outcome().future());
      if (failure != null) {
        f.outcome().tryFail(failure);
      }
      if (f.outcome().future().failed()) {
        suspects.put(f.key(), Boolean.TRUE); // may have reached Kafka after all: its retry is looked up
      } else {
        suspects.remove(f.key());
      }
      // also a record Kafka acked inside a failed batch: it will be delivered, so a retry must get it back
      if (f.outcome().future().succeeded()) {
        recent.put(f.key(), f.outcome().future().result().frame());
      }
    }
  }

  /** Runs {@code action} on {@code context}: right away when already there, else as a task on it. */
  private static void on(Context context, Runnable action) {
    if (Vertx.currentContext() == context) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }

  /** Dedupe key: sender and client msg id, compared as a pair (no separator to collide on). */
  private record Key(String from, String msgId) {}

  /** A message of the batch that is neither a repeat nor known: looked up, then produced. */
  private record Fresh(Key key, NewMessage message, Promise<Appended> outcome) {}
}
