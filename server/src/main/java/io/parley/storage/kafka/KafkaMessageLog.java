package io.parley.storage.kafka;

import io.parley.metrics.IoMeter;
import io.parley.protocol.Addresses;
import io.parley.protocol.ChatMessage;
import io.parley.protocol.ParleyException;
import io.parley.routing.MessageLog;
import io.parley.routing.Verdicts;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.kafka.client.producer.RecordMetadata;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster profile's {@link MessageLog} on the gateway side: an accepted send is written to
 * Kafka (all in-sync replicas), and acked once routing has persisted it and sent this node its
 * verdict: the stored original of the send's (sender, client msg id). Its server id is the log
 * position of the first record of that key ({@link KafkaIds}), so every ack of one send — a
 * retry through this node or any other, at any moment — carries the same id and ts.
 *
 * <h2>Why routing decides</h2>
 *
 * All records of a conversation share a partition, and routing persists a partition's records in
 * log order, one owner at a time, claiming each (sender, msg id) on the first record that carries
 * it ({@code MessageArchive#persist}). Every record of a retried send therefore resolves to the
 * same original, whichever node wrote it and however the writes raced; a writer on its own cannot
 * know that no other node logged the key a moment earlier. Waiting for the verdict costs the
 * sender the time routing takes to persist (what its recipients wait for anyway), and makes "acked"
 * mean stored in the message store, not only in the log.
 *
 * <h2>An append</h2>
 *
 * Per message of the batch, in order, keyed on (sender, client msg id):
 *
 * <ol>
 *   <li>a repeat of an earlier message of the same batch resolves to that first occurrence;
 *   <li>a key whose verdict this node received recently (a bounded LRU of {@code recentMax}
 *       entries) resolves to that original; a key still waiting for its verdict here joins the
 *       wait (no second record);
 *   <li>otherwise the message is produced (key and value: {@link KafkaRecords}, naming this node
 *       as the writer to send the verdict to), a batch's records in batch order and batches in
 *       call order, so records of one conversation get increasing offsets in call order.
 * </ol>
 *
 * A message resolves once both its record is acked by Kafka and its verdict is in; it comes back
 * with {@code duplicate} set when the original is not the record this append wrote. Results are
 * in batch order.
 *
 * <h2>Failure</h2>
 *
 * A batch succeeds as a whole or fails as a whole within {@code sendTimeoutMs} of the call: the
 * producer's own timeouts ({@code delivery.timeout.ms}, {@code max.block.ms}) are derived from it,
 * and a timer fails the batch in any case (a broker that is down, routing that is behind). A key
 * whose record Kafka acked keeps waiting for its verdict for {@link #VERDICT_HOLD_MS} after a
 * failed batch, so the sender's retry joins that wait instead of writing the key again; a key whose
 * record failed is forgotten, and its retry writes another record — which routing resolves to the
 * first one, should the failed one have reached the log after all. While the producer holds a
 * backlog of unacked records beyond a bound, a batch fails at once instead of queueing behind
 * them: memory stays bounded, and the caller's retry comes back soon.
 *
 * <h2>Threading</h2>
 *
 * Nothing blocks an event loop: the producer is created on a worker, and the Vert.x producer runs
 * every {@code send} on an ordered worker (so records leave in call order). The tables live on the
 * context that created the log, where the verdict consumer runs too; {@link #append} may be called
 * from any thread and completes on the caller's context.
 */
public final class KafkaMessageLog implements MessageLog {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaMessageLog.class);

  /** Default bound of the recent-verdict table. */
  public static final int DEFAULT_RECENT_MAX = 100_000;
  /** How long a key whose record Kafka acked waits for its verdict before it is forgotten. */
  public static final long VERDICT_HOLD_MS = 120_000;
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
  private final String node;
  private final long sendTimeoutMs;
  private final long holdMs;
  /**
   * Frames of recent verdicts, by key; owner context only. Only the frame is kept (the message is
   * parsed back from it on a hit, which is rare), halving the memory.
   */
  private final Map<Key, String> recent;
  /** Keys written here and waiting for their record's ack or their verdict; owner context only. */
  private final Map<Key, Pending> pending = new HashMap<>();
  private MessageConsumer<JsonArray> verdicts;
  private long sweeper = -1;
  private boolean closed;

  private volatile IoMeter meter = IoMeter.NONE;

  private KafkaMessageLog(Vertx vertx, Context owner, KafkaProducer<String, String> producer, String topic,
      String node, long sendTimeoutMs, int recentMax, long holdMs) {
    this.vertx = vertx;
    this.owner = owner;
    this.producer = producer;
    this.topic = topic;
    this.node = node;
    this.sendTimeoutMs = sendTimeoutMs;
    this.holdMs = holdMs;
    this.recent = new LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Key, String> eldest) {
        return size() > recentMax;
      }
    };
  }

  /** {@link #create(Vertx, String, String, String, long, int)} with {@link #DEFAULT_RECENT_MAX}. */
  public static Future<KafkaMessageLog> create(Vertx vertx, String bootstrap, String topic, String node,
      long sendTimeoutMs) {
    return create(vertx, bootstrap, topic, node, sendTimeoutMs, DEFAULT_RECENT_MAX);
  }

  /**
   * A log writing to {@code topic} (which must exist: {@link KafkaTopics#ensure}) on the brokers
   * {@code bootstrap} ({@code host:port,...}), as the intake of node {@code node}: routing's
   * verdicts on its records come to {@link Addresses#intakeVerdicts} of that name, whose consumer
   * is registered (cluster-wide) before the returned future completes. Does not contact the
   * brokers: the first append does.
   *
   * @param node this node's name, unique in the cluster (two live intakes of one name would take
   *     each other's verdicts)
   * @param sendTimeoutMs upper bound of an append, at least {@value #MIN_SEND_TIMEOUT_MS}
   * @param recentMax bound of the recent-verdict table (at least 1)
   */
  public static Future<KafkaMessageLog> create(Vertx vertx, String bootstrap, String topic, String node,
      long sendTimeoutMs, int recentMax) {
    return create(vertx, bootstrap, topic, node, sendTimeoutMs, recentMax, DEFAULT_MAX_PENDING_CHARS, VERDICT_HOLD_MS);
  }

  /** As above, with the producer backlog bounded by {@code maxPendingChars} and the verdict hold {@code holdMs} (tests). */
  static Future<KafkaMessageLog> create(Vertx vertx, String bootstrap, String topic, String node,
      long sendTimeoutMs, int recentMax, int maxPendingChars, long holdMs) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(node, "node");
    if (sendTimeoutMs < MIN_SEND_TIMEOUT_MS || sendTimeoutMs > Integer.MAX_VALUE) {
      return Future.failedFuture(new IllegalArgumentException("kafka send timeout must be " + MIN_SEND_TIMEOUT_MS
          + ".." + Integer.MAX_VALUE + " ms: " + sendTimeoutMs));
    }
    if (recentMax < 1 || maxPendingChars < 1 || holdMs < 1) {
      return Future.failedFuture(new IllegalArgumentException("recentMax, maxPendingChars and holdMs must be at least 1: "
          + recentMax + ", " + maxPendingChars + ", " + holdMs));
    }
    Context owner = vertx.getOrCreateContext();
    Map<String, Object> config = producerConfig(bootstrap, sendTimeoutMs);
    // creating a Kafka client resolves the bootstrap addresses: not on the event loop
    return vertx.executeBlocking(() -> new org.apache.kafka.clients.producer.KafkaProducer<>(config,
            new StringSerializer(), new StringSerializer()))
        .compose(p -> {
          KafkaProducer<String, String> producer = KafkaProducer.create(vertx, p);
          // a failed send also fails its future, which fails the append: no "unhandled exception" report
          producer.exceptionHandler(e -> LOG.debug("kafka send to {} failed: {}", topic, e.toString()));
          producer.setWriteQueueMaxSize(maxPendingChars);
          KafkaMessageLog log = new KafkaMessageLog(vertx, owner, producer, topic, node, sendTimeoutMs, recentMax, holdMs);
          Promise<KafkaMessageLog> ready = Promise.promise();
          on(owner, () -> log.listen().map(log).onComplete(ready));
          return ready.future();
        });
  }

  /** Registers the verdict consumer and the sweeper of stale waits; on the owner context. */
  private Future<Void> listen() {
    verdicts = vertx.eventBus().consumer(Addresses.intakeVerdicts(node), m -> onVerdicts(m.body()));
    sweeper = vertx.setPeriodic(Math.max(1, Math.min(holdMs, 10_000)), id -> sweep());
    return verdicts.completion();
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
   * Stops listening for verdicts (waits still open fail) and closes the producer, waiting at most
   * the send timeout for records still in flight; appends made after this fail.
   */
  public Future<Void> close() {
    Promise<Void> done = Promise.promise();
    on(owner, () -> {
      closed = true;
      vertx.cancelTimer(sweeper);
      IllegalStateException gone = new IllegalStateException("kafka message log is closed");
      List.copyOf(pending.values()).forEach(p -> p.fail(gone));
      Future<Void> unregistered = verdicts == null ? Future.succeededFuture() : verdicts.unregister();
      unregistered.otherwiseEmpty().compose(v -> producer.close(sendTimeoutMs)).onComplete(done);
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
    List<Pending> fresh = new ArrayList<>();
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
      Pending p = new Pending(key, m, System.nanoTime());
      pending.put(key, p);
      fresh.add(p);
      slots.add(p.outcome.future());
    }
    produce(fresh);
    Promise<List<Appended>> result = Promise.promise();
    long timer = slots.stream().allMatch(Future::isComplete) ? -1
        : vertx.setTimer(sendTimeoutMs, id -> result.tryFail(new TimeoutException("no verdict within "
            + sendTimeoutMs + " ms: kafka (topic " + topic + ") or routing is behind")));
    Future.all(slots).onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.failed()) {
        result.tryFail(ar.cause());
        return;
      }
      List<Appended> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        Appended a = slots.get(i).result();
        out.add(repeated[i] && !a.duplicate() && a.rejection() == null ? new Appended(a.message(), a.frame(), true) : a);
      }
      result.tryComplete(out);
    });
    return result.future();
  }

  /** The original of a key whose verdict came recently, its wait when one is open here, or null. */
  private Future<Appended> known(Key key) {
    String frame = recent.get(key);
    if (frame != null) {
      return Future.succeededFuture(new Appended(ChatMessage.fromFrame(frame), frame, true));
    }
    Pending p = pending.get(key);
    return p == null ? null : p.outcome.future();
  }

  /** Produces the fresh messages in order: all of them, or none when the producer's backlog is full. */
  private void produce(List<Pending> fresh) {
    if (fresh.isEmpty()) {
      return;
    }
    if (producer.writeQueueFull()) {
      IllegalStateException full = new IllegalStateException("kafka producer backlog full (topic " + topic
          + "): earlier records are not acked yet");
      fresh.forEach(p -> p.fail(full));
      return;
    }
    long ts = System.currentTimeMillis();
    fresh.forEach(p -> send(p, ts));
  }

  /** Times each produce (send to the broker's ack) and counts the failed ones; set once, before the first send. */
  public void meter(IoMeter meter) {
    this.meter = meter;
  }

  private void send(Pending p, long ts) {
    NewMessage m = p.message;
    KafkaProducerRecord<String, String> record =
        KafkaProducerRecord.create(topic, KafkaRecords.key(m.conv()), KafkaRecords.encode(m, ts, node), ts, null);
    Future<RecordMetadata> sent;
    long t0 = System.nanoTime();
    try {
      sent = producer.send(record);
    } catch (RuntimeException e) {
      sent = Future.failedFuture(e);
    }
    sent.onComplete(ar -> on(owner, () -> {
      if (ar.failed()) {
        meter.failed();
        p.written(-1, ar.cause());
        return;
      }
      meter.succeeded(t0);
      try {
        p.written(KafkaIds.serverId(ar.result().getPartition(), ar.result().getOffset()), null);
      } catch (IllegalArgumentException e) {
        p.written(-1, e); // a partition beyond the id range: the topic was not made by KafkaTopics
      }
    }));
  }

  /** Routing's verdicts on records written here (encoded originals); on the owner context. */
  private void onVerdicts(JsonArray frames) {
    for (int i = 0; i < frames.size(); i++) {
      if (frames.getValue(i) instanceof JsonObject entry) {
        onRejected(entry);
        continue;
      }
      String frame;
      ChatMessage original;
      try {
        frame = frames.getString(i);
        original = ChatMessage.fromFrame(frame);
      } catch (RuntimeException e) {
        LOG.warn("ignoring a malformed verdict: {}", e.toString());
        continue;
      }
      Key key = new Key(original.from(), original.msgId());
      recent.put(key, frame);
      Pending p = pending.get(key);
      if (p != null) {
        p.decided(original, frame);
      }
    }
  }

  /**
   * Routing parked a record written here (storage refused it): its sender's wait fails with the
   * rejection's code. Not remembered: a resend writes the send again, and routing judges it anew.
   */
  private void onRejected(JsonObject entry) {
    Verdicts.Rejected r;
    try {
      r = Verdicts.parseRejected(entry);
    } catch (IllegalArgumentException e) {
      LOG.warn("ignoring a malformed verdict: {}", e.getMessage());
      return;
    }
    Pending p = pending.get(new Key(r.from(), r.msgId()));
    if (p != null) {
      p.rejected(new ParleyException(r.code(), r.message()));
    }
  }

  /** Forgets waits older than the hold: their verdict is not coming (routing lost it, or never read the record). */
  private void sweep() {
    long now = System.nanoTime();
    List<Pending> stale = new ArrayList<>();
    for (Pending p : pending.values()) {
      if (now - p.since > TimeUnit.MILLISECONDS.toNanos(holdMs)) {
        stale.add(p);
      }
    }
    if (!stale.isEmpty()) {
      LOG.warn("{} sends had no verdict from routing within {} ms: forgotten, their retries write them again",
          stale.size(), holdMs);
      TimeoutException late = new TimeoutException("no verdict from routing within " + holdMs + " ms");
      stale.forEach(p -> p.fail(late));
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

  /**
   * A message written here, waiting for its record's ack and its verdict (in either order); owner
   * context only. It leaves the pending table once resolved or failed.
   */
  private final class Pending {
    final Key key;
    final NewMessage message;
    final long since;
    final Promise<Appended> outcome = Promise.promise();
    /** The server id the record got, once acked; -1 before. */
    private long loggedId = -1;
    private boolean writeFailed;
    private ChatMessage original;
    private String originalFrame;

    Pending(Key key, NewMessage message, long since) {
      this.key = key;
      this.message = message;
      this.since = since;
    }

    /** The record's ack ({@code failure} null, {@code id} its server id) or its failure. */
    void written(long id, Throwable failure) {
      if (failure == null) {
        loggedId = id;
      } else {
        writeFailed = true;
      }
      if (original != null) {
        resolve();
      } else if (failure != null) {
        fail(failure);
      }
    }

    /** Routing's verdict: the key's stored original. */
    void decided(ChatMessage m, String frame) {
      original = m;
      originalFrame = frame;
      if (loggedId >= 0 || writeFailed) {
        resolve();
      }
    }

    private void resolve() {
      pending.remove(key, this);
      // written and resolved to another record: a retry of a key logged earlier (or elsewhere)
      outcome.tryComplete(new Appended(original, originalFrame, loggedId != original.serverId()));
    }

    /** Routing refused the key's record: resolves with the rejection (the batch's other sends are unaffected). */
    void rejected(ParleyException rejection) {
      pending.remove(key, this);
      outcome.tryComplete(new Appended(new ChatMessage(message.conv(), loggedId, message.from(), message.msgId(),
          message.body(), message.media(), System.currentTimeMillis()), null, false, rejection));
    }

    void fail(Throwable cause) {
      pending.remove(key, this);
      outcome.tryFail(cause);
    }
  }
}
