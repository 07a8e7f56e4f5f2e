package io.parley.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.parley.protocol.ErrorCode;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;

/**
 * One node's meters (the contract: README "Metrics"), held in the node's own Prometheus registry,
 * which Vert.x's meters and the JVM's share ({@link #configure}). Made once per node and handed to
 * the components that count, as {@code FanoutStats} and {@code LoadMonitor} are: no static registry,
 * so several nodes in one JVM (tests, the warm-up's throwaway node) keep theirs apart.
 *
 * <p>The hot path only touches meters resolved here, once: a counter per field, the rejection
 * counters in an array by {@link ErrorCode} ordinal, never a look-up by name or tag per message.
 * With {@code metrics.enabled} false the same fields are Micrometer's no-op meters (an empty
 * composite registry), so callers never test for null, and Vert.x is built without metrics.
 * Labels are bounded sets (error codes, backends, operations, providers, partitions); never a user,
 * device, conversation or message.
 */
public final class NodeMetrics {
  /** Buckets of {@code parley_send_deliver_seconds}: the contract's, from 5 ms to 10 s. */
  public static final List<Duration> SEND_DELIVER_BUCKETS = List.of(Duration.ofMillis(5), Duration.ofMillis(10),
      Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10));
  /** Buckets of the storage and Kafka latencies: 1 ms to 10 s. */
  static final List<Duration> IO_BUCKETS = List.of(Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5),
      Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10));
  /** Providers of {@code parley_push_*}. */
  public static final List<String> PROVIDERS = List.of("apns", "fcm", "webpush");
  /** Shed codes of {@code parley_shed_total}. */
  public static final List<String> SHED_CODES = List.of("unavailable", "rate_limited");
  private static final AtomicLong REGISTRIES = new AtomicLong();
  /** Vert.x's HTTP server gauges that the WebSocket takeover leaves unbalanced (see the constructor). */
  static final Set<String> UNENDED = Set.of("vertx.http.server.active.connections", "vertx.http.server.active.requests");

  /** A node without metrics (tests, the warm-up node): every meter a no-op. */
  public static NodeMetrics none() {
    return new NodeMetrics(false);
  }

  private final PrometheusMeterRegistry prometheus;
  private final MeterRegistry registry;
  private final String registryName = "parley-" + REGISTRIES.incrementAndGet();

  private final Counter acked;
  private final Counter delivered;
  private final Counter[] rejected = new Counter[ErrorCode.values().length];
  private final Timer sendDeliver;
  private final AtomicLong connections = new AtomicLong();
  private final AtomicLong devices = new AtomicLong();
  private final Counter handshakesAccepted;
  private final Counter handshakesRejected;
  private final Counter slowReaderCloses;
  private final Counter syncRequests;
  private final Counter syncReplayed;
  private final Counter shedUnavailable;
  private final Counter shedRateLimited;
  private final Map<String, AtomicLong> backendUp = new ConcurrentHashMap<>();
  private final Map<Integer, AtomicLong> kafkaLag = new ConcurrentHashMap<>();

  private NodeMetrics(boolean enabled) {
    this.prometheus = enabled ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT) : null;
    if (enabled) {
      // The gateway takes each WebSocket's channel away from Vert.x after the 101 (ChannelTakeover):
      // Vert.x never sees those requests and connections end, so its two in-flight gauges would
      // only ever grow, by one per handshake. parley_connections counts the sockets instead.
      prometheus.config().meterFilter(MeterFilter.deny(id -> UNENDED.contains(id.getName())));
    }
    this.registry = enabled ? prometheus : new CompositeMeterRegistry();
    MeterRegistry r = registry;
    acked = counter("parley.messages.acked", "sends acked to the sender (durable) on this node");
    delivered = counter("parley.messages.delivered", "msg frames written live to a recipient's socket on this node");
    for (ErrorCode code : ErrorCode.values()) {
      rejected[code.ordinal()] = Counter.builder("parley.messages.rejected").tag("code", code.wire())
          .description("sends answered with an error frame, by wire error code").register(r);
    }
    sendDeliver = Timer.builder("parley.send.deliver")
        .description("send accepted (the message's ts) to the msg frame written on the recipient's socket")
        .serviceLevelObjectives(SEND_DELIVER_BUCKETS.toArray(Duration[]::new)).register(r);
    Gauge.builder("parley.connections", connections, AtomicLong::get).description("open WebSocket sessions on this node")
        .register(r);
    Gauge.builder("parley.devices.connected", devices, AtomicLong::get)
        .description("distinct (user, device) pairs connected to this node").register(r);
    handshakesAccepted = Counter.builder("parley.handshakes").tag("result", "accepted")
        .description("WebSocket handshakes").register(r);
    handshakesRejected = Counter.builder("parley.handshakes").tag("result", "rejected")
        .description("WebSocket handshakes").register(r);
    slowReaderCloses = counter("parley.slow.reader.closes", "sessions closed because the client did not read");
    syncRequests = counter("parley.sync.requests", "sync requests served");
    syncReplayed = counter("parley.sync.messages.replayed", "messages sent in answer to sync");
    shedUnavailable = Counter.builder("parley.shed").tag("code", "unavailable")
        .description("sends shed at intake by overload protection").register(r);
    shedRateLimited = Counter.builder("parley.shed").tag("code", "rate_limited")
        .description("sends shed at intake by overload protection").register(r);
  }

  /** A node's meters: Prometheus when {@code enabled}, else no-ops. */
  public static NodeMetrics create(boolean enabled) {
    return new NodeMetrics(enabled);
  }

  private Counter counter(String name, String description) {
    return Counter.builder(name).description(description).register(registry);
  }

  public boolean enabled() {
    return prometheus != null;
  }

  /** The Prometheus registry ({@code GET /metrics}); empty when metrics are off. */
  public Optional<PrometheusMeterRegistry> prometheus() {
    return Optional.ofNullable(prometheus);
  }

  /** The registry meters are registered in (a no-op one when off). */
  public MeterRegistry registry() {
    return registry;
  }

  /**
   * Builds Vert.x with its meters in this node's registry when metrics are on: HTTP server and
   * client, pools, net, and the JVM's binders (memory, GC, threads, classes, CPU). The event bus's
   * are off: they cost a meter look-up by address for every message sent or received (the hot
   * path's hops are per batch, but fan-out to 20,000 msgs/s would still pay it), and the bus
   * addresses carry no per-user names that an operator would page on.
   */
  public VertxBuilder configure(VertxBuilder builder, VertxOptions options) {
    if (prometheus == null) {
      return builder.with(options);
    }
    options.setMetricsOptions(new MicrometerMetricsOptions()
        .setEnabled(true)
        .setRegistryName(registryName)
        .setJvmMetricsEnabled(true)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
        .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS));
    return builder.with(options).withMetrics(new MicrometerMetricsFactory(prometheus));
  }

  // --- the send path ----------------------------------------------------------------------------

  /** One send acked on its connection. */
  public void acked() {
    acked.increment();
  }

  /** One send answered with an error frame of {@code code}. */
  public void rejected(ErrorCode code) {
    rejected[code.ordinal()].increment();
  }

  /** One send shed at intake with {@code unavailable} (overload: loop lag, queue wait, backlog). */
  public void shedUnavailable() {
    shedUnavailable.increment();
  }

  /** One send shed at intake with {@code rate_limited} (too many sends of a connection waiting). */
  public void shedRateLimited() {
    shedRateLimited.increment();
  }

  /**
   * One {@code msg} frame written live to a recipient's socket: counted, and its time since the
   * message's {@code ts} (epoch ms, 0 or less: not known, only counted) in the histogram.
   */
  public void delivered(long ts) {
    delivered.increment();
    if (ts > 0) {
      long ms = System.currentTimeMillis() - ts;
      sendDeliver.record(Math.max(0, ms), TimeUnit.MILLISECONDS);
    }
  }

  // --- connections ------------------------------------------------------------------------------

  public void connectionOpened() {
    connections.incrementAndGet();
  }

  public void connectionClosed() {
    connections.decrementAndGet();
  }

  /** A (user, device) pair that had no connection on this gateway instance now has one. */
  public void deviceConnected() {
    devices.incrementAndGet();
  }

  /** A (user, device) pair's last connection on this gateway instance closed. */
  public void deviceDisconnected() {
    devices.decrementAndGet();
  }

  public void handshake(boolean accepted) {
    (accepted ? handshakesAccepted : handshakesRejected).increment();
  }

  public void slowReaderClosed() {
    slowReaderCloses.increment();
  }

  /** A client's {@code sync} frame taken. */
  public void syncRequested() {
    syncRequests.increment();
  }

  /** One stored message written in answer to a sync (or to fill a live gap). */
  public void replayed() {
    syncReplayed.increment();
  }

  /**
   * The storage latency timer of {@code backend} and {@code op} ({@code parley_storage_seconds});
   * resolve once, at construction of the adapter, and keep it.
   */
  public Timer storage(String backend, String op) {
    return Timer.builder("parley.storage").tag("backend", backend).tag("op", op)
        .description("storage latency").serviceLevelObjectives(IO_BUCKETS.toArray(Duration[]::new)).register(registry);
  }

  /** The durability-error counter of {@code backend} ({@code parley_storage_errors_total}); resolve once. */
  public Counter storageErrors(String backend) {
    return Counter.builder("parley.storage.errors").tag("backend", backend)
        .description("storage operations that failed (an append or persist that did not become durable)")
        .register(registry);
  }

  /** Sets {@code parley_backend_up{backend}}: 1 when the last check of it succeeded, else 0. */
  public void backendUp(String backend, boolean up) {
    up(backend).set(up ? 1 : 0);
  }

  private AtomicLong up(String backend) {
    return backendUp.computeIfAbsent(backend, b -> {
      AtomicLong v = new AtomicLong(1); // up until a call says otherwise: the node started with it
      Gauge.builder("parley.backend.up", v, AtomicLong::get).tag("backend", b)
          .description("1 when this node's last check of the backend succeeded, else 0").register(registry);
      return v;
    });
  }

  /**
   * Kafka produce: {@code parley_kafka_produce_seconds}, {@code _errors_total}, and Kafka's up;
   * registered by the cluster profile's message log only, so an embedded node shows no Kafka meters.
   */
  public IoMeter kafkaProduceMeter() {
    Timer produce = Timer.builder("parley.kafka.produce").description("Kafka produce latency (send to broker ack)")
        .serviceLevelObjectives(IO_BUCKETS.toArray(Duration[]::new)).register(registry);
    return new IoMeter(produce, counter("parley.kafka.produce.errors", "failed produce attempts"), up("kafka"));
  }

  /**
   * A storage operation: {@code parley_storage_seconds{backend,op}}, and when {@code durable} (an
   * append or persist the sender's ack waits for) its failures in {@code parley_storage_errors_total}.
   */
  public IoMeter storageMeter(String backend, String op, boolean durable) {
    return new IoMeter(storage(backend, op), durable ? storageErrors(backend) : null, up(backend));
  }

  /** Sets the routing consumer's lag on {@code partition} ({@code parley_kafka_consumer_lag_records}). */
  public void kafkaLag(int partition, long records) {
    kafkaLag.computeIfAbsent(partition, p -> {
      AtomicLong v = new AtomicLong();
      Gauge.builder("parley.kafka.consumer.lag.records", v, AtomicLong::get).tag("partition", Integer.toString(p))
          .description("routing consumer lag per assigned partition").register(registry);
      return v;
    }).set(records);
  }

  /** A gauge read at scrape time from {@code source} (kept strongly referenced by the caller). */
  public <T> void gauge(String name, String description, T source, ToDoubleFunction<T> value, String... tags) {
    Gauge.builder(name, source, value).description(description).tags(tags).strongReference(true).register(registry);
  }

  /** A counter read at scrape time from {@code source} (a monotonic count the component keeps). */
  public <T> void functionCounter(String name, String description, T source, ToDoubleFunction<T> value, String... tags) {
    FunctionCounter.builder(name, source, value).description(description).tags(tags).register(registry);
  }

  /** Releases what the registry holds; Vert.x's own meters go with Vert.x. */
  public void close() {
    registry.close();
  }
}
