package io.parley.app;

import io.parley.bridge.BridgeTap;
import io.parley.bridge.BridgeVerticle;
import io.parley.config.ConfigException;
import io.parley.config.ConfigLoader;
import io.parley.config.DrainSettings;
import io.parley.config.ParleyConfig;
import io.parley.fanout.FanoutBatch;
import io.parley.fanout.FanoutBatchCodec;
import io.parley.fanout.FanoutStats;
import io.parley.routing.HotFanout;
import io.vertx.core.spi.cluster.ClusterManager;
import io.parley.fanout.FanoutVerticle;
import io.parley.gateway.Auth;
import io.parley.gateway.ConnectEmails;
import io.parley.gateway.GatewayVerticle;
import io.parley.gateway.IpLimits;
import io.parley.history.ConversationService;
import io.parley.config.ClusterSettings;
import io.parley.gateway.NodeInboxVerticle;
import io.parley.presence.PresenceChange;
import io.parley.presence.PresenceChangeCodec;
import io.parley.presence.PresenceVerticle;
import io.parley.protocol.Deliveries;
import io.parley.protocol.DeliveryCodec;
import io.parley.presence.TypingThrottle;
import io.parley.limits.LoadMonitor;
import io.parley.metrics.AdminVerticle;
import io.parley.metrics.Metered;
import io.parley.limits.FallbackRateLimiter;
import io.parley.limits.RateLimiter;
import io.parley.history.MessageStore;
import io.parley.routing.MessageArchive;
import io.parley.storage.kafka.KafkaMessageLog;
import io.parley.metrics.NodeMetrics;
import io.parley.routing.LogIntakeVerticle;
import io.parley.routing.DeadLetters;
import io.parley.routing.LogRoutingVerticle;
import io.parley.routing.LogSource;
import io.parley.routing.MessageLog;
import io.parley.protocol.Ids;
import io.parley.protocol.LocalCodec;
import io.parley.protocol.Outbound;
import io.parley.gateway.DevicesApi;
import io.parley.presence.ConnectionRegistry;
import io.parley.push.DigestEntry;
import io.parley.push.DigestMailer;
import io.parley.push.ApnsCredentials;
import io.parley.push.ApnsSender;
import io.parley.push.FcmSender;
import io.parley.push.FcmServiceAccount;
import io.parley.push.LogPushSender;
import io.parley.push.ProviderSender;
import io.parley.push.PushRegistration;
import io.parley.push.PushRegistrations;
import io.parley.push.VapidKeys;
import io.parley.push.WebPushSender;
import io.parley.history.ConversationStore;
import io.parley.push.PushBatch;
import io.parley.push.PushVerticle;
import io.parley.push.PushDispatcher;
import io.parley.push.PushQueue;
import io.parley.push.PushStats;
import io.parley.push.SpillOver;
import io.parley.config.PushDeliverySettings;
import io.parley.storage.embedded.RocksPushQueue;
import io.parley.storage.kafka.KafkaLogSource;
import io.parley.storage.kafka.KafkaPushQueue;
import io.parley.storage.kafka.KafkaTopics;
import io.parley.routing.RoutingVerticle;
import io.parley.routing.SendBatch;
import io.parley.routing.SignalRequest;
import io.parley.storage.embedded.InMemoryConnectionRegistry;
import io.parley.storage.embedded.InMemoryRateLimiter;
import io.parley.storage.embedded.RocksConversationStore;
import io.parley.storage.embedded.RocksLibrary;
import io.parley.storage.embedded.RocksMessageStore;
import io.parley.storage.embedded.RocksPushRegistrations;
import io.parley.storage.embedded.RocksStorage;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.EventBus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Parley node. Embedded profile: opens storage off the event loop, deploys the concern
 * verticles (push, fan-out, routing, then the gateways, so nothing accepts traffic before its
 * consumers are ready) and stops them in reverse, flushing storage last. Cluster profile: joins the
 * Hazelcast-clustered event bus, connects Kafka, Cassandra and Redis ({@link ClusterBackends}) and
 * deploys what its roles ask for (see {@link #deployCluster}).
 */
public final class Node {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);
  /** Rate-limit buckets one node keeps in memory (embedded, and the cluster profile's fallback). */
  static final int RATE_LIMIT_BUCKETS_MAX = 200_000;

  private final ParleyConfig config;
  private Vertx vertx;
  private ClusterBackends backends;
  private final AtomicBoolean ready = new AtomicBoolean();
  private final List<String> deployments = new ArrayList<>();
  private final PushStats pushStats = new PushStats();
  /** This node's fan-out work, at {@code GET /health/fanout}. */
  private final FanoutStats fanoutStats = new FanoutStats();
  /** Cluster profile: the manager of the joined cluster (its live nodes), once joined. */
  private ClusterManager clusterManager;
  /** The node's event-loop lag (overload.loop_lag_ms): routing sheds sends while a watched loop is behind. */
  private final LoadMonitor load;
  /** This node's meters (metrics.enabled), at GET /metrics of the admin listener. */
  private final NodeMetrics metrics;
  /** The admin listener (GET /metrics); null until deployed, and with admin.port 0. */
  private volatile AdminVerticle admin;
  /** What the admin listener's {@code POST /admin/drain} does: drain, then stop (Main: as on SIGTERM). */
  private volatile Runnable drainRequest = () -> drain().compose(v -> stop());
  private Future<Void> stopped;
  private RocksStorage storage;
  private WorkerExecutor logWriter;
  private WorkerExecutor metaWriter;
  private WorkerExecutor readers;
  private ParleyConfig effective;
  /** The event-bus bridge; null until deployed, and when {@code bridge.port} is 0 or no {@code bridge.token} is set. */
  private volatile BridgeVerticle bridge;
  /** One of the gateway instances, for the port they share; null until deployed and without the gateway role. */
  private volatile GatewayVerticle gateway;
  /** Every gateway instance (one per event loop), for a drain. */
  private final List<GatewayVerticle> gateways = new java.util.concurrent.CopyOnWriteArrayList<>();
  private Optional<VapidKeys> vapid = Optional.empty();
  private Optional<FcmServiceAccount> fcm = Optional.empty();
  private volatile PushRegistrations pushRegistrations;
  private Optional<ApnsCredentials> apns = Optional.empty();
  /** A warm-up's own throwaway node ({@link Warmup}): runs no warm-up and announces nothing. */
  private final boolean warmupNode;
  private volatile Warmup.Report warmupReport;
  private volatile Warmup warmup;
  /** Start-up phases and their durations, for the ready line. */
  private final StringBuilder phases = new StringBuilder();
  private long phaseStart;

  public Node(ParleyConfig config) {
    this(config, false);
  }

  Node(ParleyConfig config, boolean warmupNode) {
    this.config = config;
    this.warmupNode = warmupNode;
    this.load = new LoadMonitor(config.routing().loopLagMs());
    // the warm-up's throwaway node counts nothing: its traffic is not the node's
    this.metrics = NodeMetrics.create(config.admin().metricsEnabled() && !warmupNode);
    if (!config.clustered()) {
      this.vertx = metrics.configure(Transports.builder(vertxOptions(config), config.transport()), vertxOptions(config)).build();
      registerCodecs(vertx.eventBus());
    }
  }

  /**
   * Vert.x options every profile shares: the blocked-thread checker's limit for event-loop tasks
   * ({@code vertx.max_event_loop_execute_ms}), checked at half that interval (10 ms to 1 s) so a
   * block just over the limit is caught, not only one that spans a whole default 1 s check; each
   * warning carries the blocked thread's stack from the limit on (Vert.x's default: only after 5 s).
   */
  static VertxOptions vertxOptions(ParleyConfig config) {
    long max = config.maxEventLoopExecuteMs();
    return new VertxOptions()
        .setMaxEventLoopExecuteTime(max)
        .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
        .setBlockedThreadCheckInterval(Math.min(1000, Math.max(10, max / 2)))
        .setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS)
        .setWarningExceptionTime(max)
        .setWarningExceptionTimeUnit(TimeUnit.MILLISECONDS);
  }

  /** The node's Vert.x; on the cluster profile only once {@link #start()} has joined the cluster. */
  public Vertx vertx() {
    return vertx;
  }

  /** The push registrations (and remembered email addresses) of the node's storage, once {@link #start()} succeeded. */
  public PushRegistrations pushRegistrations() {
    return pushRegistrations;
  }

  public boolean ready() {
    return ready.get();
  }

  /** The configuration in force, with the JWT secret resolved. Valid once {@link #start()} succeeded. */
  public ParleyConfig config() {
    return effective;
  }

  /**
   * The port HTTP and WebSocket listen on, once {@link #start()} succeeded: {@code http.port}, or
   * the free port chosen for {@code http.port} 0 (a node without the gateway role: {@code http.port}).
   */
  public int httpPort() {
    GatewayVerticle g = gateway;
    return g == null ? config.httpPort() : g.actualPort();
  }

  /**
   * The HTTP routes the node's gateway answers ({@link GatewayVerticle#routes()}); empty without the
   * gateway role. Valid once {@link #start()} succeeded.
   */
  public List<String> httpRoutes() {
    GatewayVerticle g = gateway;
    return g == null ? List.of() : g.routes();
  }

  /** The port the event-bus bridge listens on, or 0 when it does not run (see {@link #deployBridge}). */
  public int bridgePort() {
    BridgeVerticle b = bridge;
    return b == null ? 0 : b.actualPort();
  }

  /** Bridge connections closed as slow consumers since start (0 without a bridge). */
  public long bridgeSlowConsumersClosed() {
    BridgeVerticle b = bridge;
    return b == null ? 0 : b.slowConsumersClosed();
  }

  /** What the warm-up before ready did; null until it ran (and with {@code warmup.ms} 0). */
  public Warmup.Report warmupReport() {
    return warmupReport;
  }

  /**
   * Starts the node; completes once it is ready. What does not depend on another step runs beside
   * it: the warm-up ({@link Warmup}, its own throwaway node) from the first moment, and on the
   * cluster profile the preparation of the engines' clients ({@link ClusterBackends#prepare}) while
   * Hazelcast joins. Ready (and {@code /health/ready} 200) only once every verticle is deployed and
   * the warm-up is over, whichever ends last.
   */
  public Future<Void> start() {
    phaseStart = System.nanoTime();
    if (!warmupNode) { // the warm-up node runs in this JVM: its default format must not switch the node's back
      LogFormat.apply(config.identity().logFormat());
      // before the warm-up's node opens its storage: RocksDB's library is the JVM's, loaded once
      RocksLibrary.cacheIn(config.dataDir().resolve("native"));
    }
    if (!warmupNode && config.warmupMs() > 0) {
      warmup = Warmup.start(config, config.warmupMs());
    }
    if (config.clustered()) {
      CompletableFuture<ClusterBackends.Prepared> prepared = ClusterBackends.prepare(config);
      return ClusterBackends.joinCluster(config, metrics, m -> clusterManager = m).compose(v -> {
        phase("cluster join");
        vertx = v;
        registerCodecs(vertx.eventBus());
        return vertx.executeBlocking(() -> {
          vapid = VapidKeys.resolve(config.push(), config.profile(), config.dataDir());
          fcm = FcmServiceAccount.resolve(config.push());
          apns = ApnsCredentials.resolve(config.push());
          return effective = config.withJwtSecret(resolveSecret(config));
        });
      }).compose(cfg -> Future.fromCompletionStage(prepared, vertx.getOrCreateContext()))
        .compose(p -> ClusterBackends.open(vertx, config, p)).compose(b -> {
        phase("Cassandra schema, Redis, Kafka");
        backends = b;
        return deployAdmin().compose(x -> deployCluster());
      }).compose(v -> warmUp()).onSuccess(v -> announce());
    }
    logWriter = vertx.createSharedWorkerExecutor("parley-log-writer", 1);
    metaWriter = vertx.createSharedWorkerExecutor("parley-meta", 1);
    readers = vertx.createSharedWorkerExecutor("parley-readers", 4);
    // RocksDB only on the named executors, never on an event loop (RocksStorage checks): opening
    // and the id floor's read on the metadata writer, before anything else may use the storage
    return metaWriter.executeBlocking(() -> {
      effective = config.withJwtSecret(resolveSecret(config));
      vapid = VapidKeys.resolve(config.push(), config.profile(), config.dataDir());
      fcm = FcmServiceAccount.resolve(config.push());
      apns = ApnsCredentials.resolve(config.push());
      storage = RocksStorage.open(config.dataDir(), config.fsync());
      return storage.idFloor();
    }, true).compose(floor -> {
      phase("storage open");
      metrics.backendUp("rocksdb", true); // opened; a failed write fails the node's sends, counted as storage errors
      return deployAdmin().compose(x -> deploy(floor));
    }).compose(v -> warmUp()).onSuccess(v -> announce());
  }

  /**
   * The admin listener ({@code admin.port}; 0: none), and the meters that read the node's own
   * counters at scrape time. Deployed before the concern verticles: a port taken fails the start.
   */
  private Future<Void> deployAdmin() {
    metrics.gauge("parley.event.loop.delay.seconds", "the largest lag of the node's watched event loops (LoadMonitor)",
        load, l -> l.lagNanos() / 1e9);
    for (String provider : NodeMetrics.PROVIDERS) {
      metrics.functionCounter("parley.push.sent", "pushes accepted by the provider", pushStats,
          p -> p.get(provider + ".accepted"), "provider", provider);
      metrics.functionCounter("parley.push.failed", "pushes that failed permanently", pushStats,
          p -> p.get(provider + ".gone") + p.get(provider + ".refused"), "provider", provider);
      metrics.functionCounter("parley.push.throttled", "pushes delayed by the provider's throttle", pushStats,
          p -> p.get(provider + ".throttled"), "provider", provider);
      metrics.gauge("parley.push.backlog.age.seconds", "age of the oldest unfinished push (0 when none)", pushStats,
          p -> p.get(provider + ".backlog_age_ms") / 1000.0, "provider", provider);
    }
    if (warmupNode || !config.admin().listens()) {
      return Future.succeededFuture();
    }
    AdminVerticle a = new AdminVerticle(config.admin(), metrics, () -> drainRequest.run());
    return deployOne(a).onSuccess(v -> {
      admin = a;
      LOG.info("admin listener on http://{}:{} (GET /metrics{})", config.admin().host(), a.actualPort(),
          metrics.enabled() ? "" : ": metrics off");
    });
  }

  /**
   * Replaces what {@code POST /admin/drain} does (by default: {@link #drain}, then {@link #stop});
   * Main makes it the same path as SIGTERM's, which ends the process.
   */
  public void onDrainRequest(Runnable request) {
    this.drainRequest = request;
  }

  /** The port of the admin listener once {@link #start()} succeeded; 0 when it is off. */
  public int adminPort() {
    AdminVerticle a = admin;
    return a == null ? 0 : a.actualPort();
  }

  /** This node's meters. */
  public NodeMetrics metrics() {
    return metrics;
  }

  private void phase(String name) {
    long now = System.nanoTime();
    phases.append(phases.isEmpty() ? "" : ", ").append(name).append(' ').append((now - phaseStart) / 1_000_000).append(" ms");
    phaseStart = now;
  }

  /**
   * Waits, once every verticle is deployed, for the warm-up of the hot paths ({@link Warmup},
   * {@code warmup.ms}) that {@link #start()} began: until it is done {@code /health/ready} answers 503.
   */
  private Future<Void> warmUp() {
    phase("verticles");
    Warmup w = warmup;
    if (w == null) {
      return Future.succeededFuture();
    }
    return w.report(vertx.getOrCreateContext()).map(r -> {
      warmupReport = r;
      phase("waiting for the warm-up");
      phases.append(" (warm-up ").append(r.tookMs()).append(" ms, begun at the start)");
      return null;
    });
  }

  private void announce() {
      ready.set(true);
      if (warmupNode) {
        LOG.debug("warm-up node up on port {}", httpPort());
        return;
      }
      LOG.info("Parley ({} profile) listening on {}://{}:{} — WebSocket at /v1/ws, data in {}, {} transport",
          config.profile(), config.identity().tls() ? "https" : "http", config.httpHost(), httpPort(), config.dataDir().toAbsolutePath().normalize(),
          Transports.name(config.transport(), vertx));
      LOG.info("ready {} ms after the JVM started ({})",
          java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime(), phases);
      if (config.devTokenEnabled()) {
        LOG.info("try it: curl -s -XPOST {}://{}:{}/v1/dev/token -d '{\"user\":\"alice\"}'",
            config.identity().tls() ? "https" : "http", config.httpHost(), httpPort());
      }
  }

  /**
   * Cluster profile. Every node runs fan-out and push (receipts and typing are fanned out where
   * they arrive). Role {@code gateway}: the node inbox, presence changes from every node
   * ({@link PresenceVerticle}), the send intake ({@link LogIntakeVerticle}
   * writing to Kafka and acking once Kafka has the message) and the gateways. Role {@code routing}:
   * the Kafka consumer that persists to Cassandra and fans out ({@link LogRoutingVerticle}).
   */
  private Future<Void> deployCluster() {
    ClusterBackends b = backends;
    ClusterSettings c = config.cluster();
    // Cassandra's reads (history, sync, get) and routing's persists timed per call, Kafka's produce in its log
    MessageStore messages = Metered.store(b.messages(), metrics.storageMeter("cassandra", "read", false));
    MessageArchive archive = Metered.archive(b.archive(), metrics.storageMeter("cassandra", "persist", true));
    meterClusterHelpers(b);
    ConversationService service = new ConversationService(b.conversations(), messages, b.ids(), vertx.eventBus(),
        config.largeGroupMax());
    Auth auth = new Auth(vertx, effective.jwtSecret(), config.identity());
    List<ProviderSender> senders = senders();
    pushRegistrations = b.pushRegistrations();
    Future<Void> chain = deployPush(b.registry(), b.pushRegistrations(), b.conversations(), senders,
            () -> KafkaTopics.ensure(vertx, c.kafkaBootstrap(), config.pushDelivery().queueTopic(),
                    config.pushDelivery().queuePartitions(), (short) c.kafkaReplicationFactor(), c.kafkaAdminTimeoutMs())
                .map(v -> new KafkaPushQueue(vertx, c.kafkaBootstrap(), config.pushDelivery().queueTopic(),
                    config.pushDelivery().queueTopic(), new KafkaLogSource.Timing(c.kafkaPollTimeoutMs(),
                        c.kafkaSessionTimeoutMs(), c.kafkaHeartbeatIntervalMs()), c.kafkaSendTimeoutMs())))
        .compose(v -> deployOne(new FanoutVerticle(b.registry(), config.nodeName(), true, c.fanoutRemoteRequestChars(),
            clusterManager.getNodeId(), fanoutStats)));
    // the Kafka clients are opened (each its topic checked, then made on a worker) at once, while
    // the verticles before them deploy; the verticles still deploy in order
    Future<DeadLetters> dead = c.runs(ClusterSettings.ROUTING) ? b.openDeadLetters(vertx, config) : null;
    Future<LogSource> source = c.runs(ClusterSettings.ROUTING) ? b.openLogSource(vertx, config) : null;
    Future<MessageLog> messageLog = c.runs(ClusterSettings.GATEWAY) ? b.openMessageLog(vertx, config) : null;
    BridgeTap tap = new BridgeTap(vertx.eventBus(), config.bridge().includeBodies());
    chain = chain.compose(v -> tap.listen());
    if (messageLog != null) {
      messageLog.onSuccess(log -> {
        if (log instanceof KafkaMessageLog k) {
          k.meter(metrics.kafkaProduceMeter());
        }
      });
    }
    if (source != null) {
      source.onSuccess(this::sampleLag);
    }
    if (c.runs(ClusterSettings.ROUTING)) {
      // the cluster manager's member list: read in memory, never blocks
      ClusterManager manager = clusterManager;
      HotFanout hot = new HotFanout(config.routing().hotGroupMembers(), config.routing().hotFanoutShards(),
          new HotFanout.Nodes(manager.getNodeId(), manager::getNodes), fanoutStats, config.routing().memberCacheMax(),
          c.fanoutRemoteRequestChars());
      chain = chain.compose(v -> Future.all(dead, source)).compose(v -> {
        LogRoutingVerticle routing = new LogRoutingVerticle(source.result(), archive, dead.result(), b.conversations(),
            config.routing(), c.routingRetryMaxMs(), c.routingDeadLetterAfterMs(), messages, hot, tap);
        metrics.functionCounter("parley.dead.letters", "records parked on the dead-letter topic", routing,
            LogRoutingVerticle::parked);
        return deployOne(routing);
      });
    }
    if (c.runs(ClusterSettings.GATEWAY)) {
      DevicesApi devices = devicesApi(auth, b.pushRegistrations(), b.registry(), senders);
      ConnectEmails emails = new ConnectEmails(b.pushRegistrations(), ConnectEmails.DEFAULT_CAPACITY);
      IpLimits ipLimits = new IpLimits(config.gateway().ipLimits());
      int gateways = config.gatewayInstances() > 0 ? config.gatewayInstances() : Runtime.getRuntime().availableProcessors();
      TypingThrottle typing = typingThrottle(b.limiter());
      chain = chain.compose(v -> deployOne(new PresenceVerticle())).compose(v -> deployOne(new NodeInboxVerticle(config.nodeName())))
          .compose(v -> messageLog)
          .compose(log -> deployOne(new LogIntakeVerticle(log, messages, b.conversations(), typing, config.routing(), load,
              metrics)))
          .compose(v -> auth.start())
          .compose(v -> vertx.deployVerticle(() -> gatewayInstance(new GatewayVerticle(effective, auth, service, b.registry(),
                  b.limiter(), ready::get, devices, emails, ipLimits, load, metrics)),
              new DeploymentOptions().setInstances(gateways)))
          .map(id -> {
            deployments.add(id);
            return null;
          })
          .compose(v -> deployBridge(tap, b.conversations(), b.messages(), b.registry()));
    }
    return chain;
  }

  /** Embedded profile, storage open; {@code idFloor}: the highest id handed out before (read on a worker). */
  private Future<Void> deploy(long idFloor) {
    Ids ids = new Ids(config.nodeId());
    ids.advancePast(idFloor);
    RocksMessageStore messages = new RocksMessageStore(storage, ids, logWriter, readers, metrics);
    RocksConversationStore conversations = new RocksConversationStore(storage, metaWriter);
    InMemoryConnectionRegistry registry = new InMemoryConnectionRegistry(1_000_000);
    InMemoryRateLimiter limiter = new InMemoryRateLimiter(RATE_LIMIT_BUCKETS_MAX);
    ConversationService service = new ConversationService(conversations, messages, ids, vertx.eventBus(),
        config.largeGroupMax());
    Auth auth = new Auth(vertx, effective.jwtSecret(), config.identity());
    int gateways = config.gatewayInstances() > 0 ? config.gatewayInstances() : Runtime.getRuntime().availableProcessors();
    RocksPushRegistrations pushRegistrations = new RocksPushRegistrations(storage, metaWriter, readers);
    this.pushRegistrations = pushRegistrations;
    List<ProviderSender> senders = senders();
    DevicesApi devices = devicesApi(auth, pushRegistrations, registry, senders);
    ConnectEmails emails = new ConnectEmails(pushRegistrations, ConnectEmails.DEFAULT_CAPACITY);
    IpLimits ipLimits = new IpLimits(config.gateway().ipLimits());

    BridgeTap tap = new BridgeTap(vertx.eventBus(), config.bridge().includeBodies());
    WorkerExecutor pushQueueWriter = vertx.createSharedWorkerExecutor("parley-push-queue", 1);
    return deployPush(registry, pushRegistrations, conversations, senders,
            () -> Future.succeededFuture(new RocksPushQueue(vertx, storage, pushQueueWriter)))
        .compose(v -> deployOne(new FanoutVerticle(registry, config.nodeName(), false, config.cluster().fanoutRemoteRequestChars(),
            null, fanoutStats)))
        .compose(v -> deployOne(new PresenceVerticle()))
        .compose(v -> deployOne(new NodeInboxVerticle(config.nodeName())))
        .compose(v -> deployOne(new RoutingVerticle(messages, messages, conversations,
            typingThrottle(limiter), config.routing(), config.commitWindowMs(), load, tap, metrics)))
        .compose(v -> auth.start())
        .compose(v -> vertx.deployVerticle(() -> gatewayInstance(new GatewayVerticle(effective, auth, service, registry, limiter, ready::get,
            devices, emails, ipLimits, load, metrics)),
            new DeploymentOptions().setInstances(gateways)))
        .map(id -> {
          deployments.add(id);
          return null;
        })
        .compose(v -> tap.listen())
        .compose(v -> deployBridge(tap, conversations, messages, registry));
  }

  /**
   * Deploys the event-bus bridge for internal tools ({@code bridge.*}) last, once everything it
   * talks to runs; on the cluster profile on nodes with the gateway role (its system messages go
   * through that node's send intake). With {@code bridge.port} set and no {@code bridge.token}, the
   * bridge stays off and a warning says so: an unauthenticated bridge is never started.
   */
  private Future<Void> deployBridge(BridgeTap tap, ConversationStore conversations, io.parley.history.MessageStore messages,
      ConnectionRegistry registry) {
    if (config.bridge().port() == 0) {
      return Future.succeededFuture();
    }
    if (!config.bridge().enabled()) {
      if (!warmupNode) {
        LOG.warn("event-bus bridge off: bridge.port is {} but no bridge.token is set ({})", config.bridge().port(),
            ConfigLoader.envName("bridge.token"));
      }
      return Future.succeededFuture();
    }
    return deployOne(bridge = new BridgeVerticle(config.bridge(), tap, conversations, messages, registry,
        config.bodyMaxBytes()));
  }

  /** The typing throttle over {@code limiter}, its drops counted ({@code parley_typing_dropped_total}). */
  private TypingThrottle typingThrottle(RateLimiter limiter) {
    TypingThrottle typing = new TypingThrottle(limiter, config.typingThrottleMs());
    metrics.functionCounter("parley.typing.dropped", "typing frames dropped by the per-user throttle", typing,
        TypingThrottle::dropped);
    return typing;
  }

  /**
   * Cluster profile: the meters that read the Redis helpers' and fan-out's own counters at scrape
   * time (registry and rate-limiter fallbacks, hot fan-out) and Redis's up from the rate limiter.
   */
  private void meterClusterHelpers(ClusterBackends b) {
    metrics.functionCounter("parley.registry.fallbacks",
        "fan-outs whose connection-registry look-up failed and went to every node", fanoutStats, FanoutStats::registryFallbacks);
    metrics.functionCounter("parley.hot.fanout.messages", "messages of hot conversations fanned out with the split",
        fanoutStats, FanoutStats::hotMessages);
    if (b.limiter() instanceof FallbackRateLimiter f) {
      metrics.functionCounter("parley.rate.limiter.fallbacks",
          "rate-limiter checks decided by the local limiter (Redis failed, timed out or was being left alone)", f,
          FallbackRateLimiter::fallbacks);
      metrics.gauge("parley.backend.up", "1 when this node's last check of the backend succeeded, else 0", f,
          l -> l.degraded() ? 0 : 1, "backend", "redis");
    }
  }

  /** Every 5 s, the routing consumer's lag per owned partition ({@code parley_kafka_consumer_lag_records}). */
  private void sampleLag(LogSource source) {
    if (!(source instanceof KafkaLogSource k)) {
      return;
    }
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    vertx.setPeriodic(5_000, id -> k.lag().onSuccess(lag -> {
      seen.forEach(p -> {
        if (!lag.containsKey(p)) {
          metrics.kafkaLag(p, 0); // revoked: another node reads it now
        }
      });
      lag.forEach((p, records) -> {
        seen.add(p);
        metrics.kafkaLag(p, records);
      });
    }));
  }

  /**
   * The configured push providers: Web Push when a VAPID key is in force, FCM when a service
   * account is configured, APNs when an authentication key is.
   */
  private List<ProviderSender> senders() {
    List<ProviderSender> senders = new ArrayList<>();
    var pacing = config.pushDelivery().pacing();
    vapid.ifPresent(k -> senders.add(new WebPushSender(vertx, k, config.push().webPushSubject(),
        pacing.get(PushRegistration.WEBPUSH).inFlightMax())));
    fcm.ifPresent(a -> senders.add(new FcmSender(vertx, a, config.push().fcmBaseUrl(), pacing.get(PushRegistration.FCM).inFlightMax())));
    apns.ifPresent(c -> senders.add(new ApnsSender(vertx, c, config.push())));
    return List.copyOf(senders);
  }

  /**
   * Push: the log only when no provider is configured; otherwise the durable queue ({@code queue},
   * opened only then), the dispatcher and the configured providers.
   */
  private Future<Void> deployPush(ConnectionRegistry registry, PushRegistrations registrations, ConversationStore conversations,
      List<ProviderSender> senders, java.util.function.Supplier<Future<PushQueue>> queue) {
    if (senders.isEmpty()) {
      // the warm-up's throwaway node pushes to its synthetic users as their sockets close at its end:
      // that is not the operator's to read (it was hundreds of log lines at each start)
      return deployOne(new PushVerticle(registry, warmupNode ? n -> Future.succeededFuture() : new LogPushSender()));
    }
    PushDeliverySettings d = config.pushDelivery();
    PushDispatcher.Settings settings = new PushDispatcher.Settings(d.coalesceMs(), config.push().previewChars(),
        d.spillAfterMs(), d.retryBaseMs(), d.retryMaxMs());
    return queue.get().compose(q -> deployOne(new PushVerticle(registry, new LogPushSender(), registrations, conversations,
        senders, q, d.pacing(), settings, spillOver(registrations), d.queueMax(), pushStats)));
  }

  /**
   * Where pushes that waited too long go: one email digest to the address the user's token carried
   * at connect, through the mailer ({@code push.smtp.*}); nowhere when mail is off.
   */
  private SpillOver spillOver(PushRegistrations registrations) {
    Optional<DigestMailer> mailer = digestMailer();
    if (mailer.isEmpty()) {
      return SpillOver.NONE;
    }
    DigestMailer m = mailer.get();
    return (user, items) -> registrations.email(user).compose(address -> {
      if (address.isEmpty()) {
        return Future.succeededFuture(false);
      }
      List<DigestEntry> entries = items.stream().map(i -> new DigestEntry(i.conv(), null, i.count(), i.preview())).toList();
      return m.sendDigest(address.get(), user, entries).map(true);
    });
  }

  /**
   * The mailer of push digests (the spill-over of pushes that waited too long), or empty when
   * {@code push.smtp.host} is empty. Its connections come from one pool per Vert.x, closed with it.
   */
  private Optional<DigestMailer> digestMailer() {
    return DigestMailer.create(vertx, config.push());
  }

  /** Push's counters on this node. */
  public PushStats pushStats() {
    return pushStats;
  }

  private DevicesApi devicesApi(Auth auth, PushRegistrations registrations, ConnectionRegistry registry,
      List<ProviderSender> senders) {
    Set<String> providers = new java.util.HashSet<>();
    senders.forEach(s -> providers.add(s.provider()));
    return new DevicesApi(auth, registrations, registry, config.push().devicesMax(), providers,
        vapid.map(VapidKeys::publicKeyBase64Url).orElse(null), config.push().apnsTopic());
  }

  private Future<Void> deployOne(io.vertx.core.Deployable verticle) {
    return vertx.deployVerticle(verticle).map(id -> {
      deployments.add(id);
      return null;
    });
  }

  private GatewayVerticle gatewayInstance(GatewayVerticle g) {
    gateways.add(g);
    gateway = g;
    return g;
  }

  /**
   * The first step of a graceful stop (SIGTERM): not ready from now on, and every gateway instance
   * drains ({@link GatewayVerticle#drain}: clients told to reconnect, connections closed with 1012
   * spread over {@code drain.window_ms}, each once its sends are answered). Completes when the last
   * connection is gone, or at {@code drain.timeout_ms}, when whatever is left is closed at once.
   * {@link #stop} follows.
   */
  public Future<Void> drain() {
    ready.set(false);
    DrainSettings d = config.gateway().drain();
    Vertx v = vertx;
    if (v == null || gateways.isEmpty()) {
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    long timer = v.setTimer(d.timeoutMs(), id -> {
      LOG.warn("drain timed out after {} ms: closing the connections left", d.timeoutMs());
      drainNow();
      done.tryComplete();
    });
    Future.all(gateways.stream().map(g -> g.drain(d.windowMs())).toList()).onComplete(ar -> {
      v.cancelTimer(timer);
      done.tryComplete();
    });
    return done.future();
  }

  /** Cuts a drain short (a second SIGTERM or SIGINT): every connection left is closed with 1012 now. */
  public void drainNow() {
    gateways.forEach(GatewayVerticle::drainNow);
  }

  /** Stops: gateways first (1012 to every client still connected), then the rest, then storage. */
  public synchronized Future<Void> stop() {
    // once: a drain asked for on the admin listener stops the node, and its owner may stop it again
    if (stopped == null) {
      stopped = stopOnce();
    }
    return stopped;
  }

  private Future<Void> stopOnce() {
    ready.set(false);
    Warmup w = warmup;
    if (vertx == null) { // never joined the cluster; the warm-up may still run
      return w == null ? Future.succeededFuture() : Future.fromCompletionStage(w.cleanedUp());
    }
    // the warm-up's throwaway node stops after ready; a node stopped soon after waits for it (a
    // future bound to none of this node's contexts: the chain ends after Vert.x closed them)
    Future<Void> chain = w == null ? Future.succeededFuture() : Future.fromCompletionStage(w.cleanedUp());
    for (int i = deployments.size() - 1; i >= 0; i--) {
      String id = deployments.get(i);
      chain = chain.compose(v -> vertx.undeploy(id).recover(e -> Future.succeededFuture()));
    }
    return chain
        .compose(v -> logWriter == null ? Future.succeededFuture() : logWriter.executeBlocking(() -> null, true))
        .compose(v -> metaWriter == null ? Future.succeededFuture() : metaWriter.executeBlocking(() -> null, true))
        .compose(v -> backends == null ? Future.succeededFuture() : backends.close())
        .compose(v -> storage == null ? Future.succeededFuture() : metaWriter.executeBlocking(() -> {
          storage.close();
          return null;
        }, true))
        .eventually(() -> vertx.close())
        .eventually(() -> {
          metrics.close();
          return Future.succeededFuture();
        })
        .mapEmpty();
  }

  static void registerCodecs(EventBus bus) {
    bus.registerDefaultCodec(SendBatch.class, new LocalCodec<>(SendBatch.class));
    bus.registerDefaultCodec(SignalRequest.class, new LocalCodec<>(SignalRequest.class));
    bus.registerDefaultCodec(FanoutBatch.class, new FanoutBatchCodec());
    bus.registerDefaultCodec(Outbound.class, new LocalCodec<>(Outbound.class));
    bus.registerDefaultCodec(Deliveries.class, new DeliveryCodec());
    bus.registerDefaultCodec(PushBatch.class, new LocalCodec<>(PushBatch.class));
    bus.registerDefaultCodec(PresenceChange.class, new PresenceChangeCodec());
  }

  /**
   * The configured secret; on the embedded profile without one, a random secret generated once
   * and kept in the data dir (mode 600).
   */
  static String resolveSecret(ParleyConfig config) throws IOException {
    String configured = config.jwtSecret();
    if (configured != null && !configured.isEmpty()) {
      return configured;
    }
    if (!"embedded".equals(config.profile())) {
      throw new ConfigException("jwt.secret: required on the " + config.profile() + " profile (PARLEY_JWT_SECRET)");
    }
    Path file = config.dataDir().resolve("jwt.secret");
    if (Files.exists(file)) {
      return Files.readString(file, StandardCharsets.UTF_8).trim();
    }
    Files.createDirectories(config.dataDir());
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    Files.writeString(file, secret + "\n", StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    LOG.info("generated a JWT secret in {}", file.toAbsolutePath());
    return secret;
  }
}
