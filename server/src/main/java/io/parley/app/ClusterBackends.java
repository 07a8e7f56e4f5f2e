package io.parley.app;

import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.hazelcast.cluster.Address;
import com.hazelcast.config.Config;
import com.hazelcast.config.NetworkConfig;
import io.parley.config.ConfigException;
import io.parley.config.ConfigLoader;
import io.parley.config.ParleyConfig;
import io.parley.config.ClusterSettings;
import io.parley.metrics.NodeMetrics;
import io.parley.limits.FallbackRateLimiter;
import io.parley.limits.RateLimiter;
import io.parley.protocol.Ids;
import io.parley.routing.DeadLetters;
import io.parley.routing.LogSource;
import io.parley.routing.MessageLog;
import io.parley.storage.cassandra.CassandraConversationStore;
import io.parley.storage.cassandra.CassandraMessageArchive;
import io.parley.storage.cassandra.CassandraMessageStore;
import io.parley.storage.cassandra.CassandraNames;
import io.parley.storage.cassandra.CassandraPushRegistrations;
import io.parley.storage.cassandra.CassandraSchema;
import io.parley.storage.embedded.InMemoryRateLimiter;
import io.parley.storage.kafka.KafkaDeadLetters;
import io.parley.storage.kafka.KafkaLogSource;
import io.parley.storage.kafka.KafkaMessageLog;
import io.parley.storage.kafka.KafkaTopics;
import io.parley.storage.redis.RedisConnectionRegistry;
import io.parley.storage.redis.RedisKeys;
import io.parley.storage.redis.RedisRateLimiter;
import io.vertx.cassandra.CassandraClient;
import io.vertx.cassandra.CassandraClientOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster profile's engines, opened once per node: the Hazelcast-clustered Vert.x, Cassandra
 * (schema migrated to its newest version at startup, see CassandraSchema), Redis (connection
 * registry and rate limits, on one
 * client; the limits fail open to node-local ones while Redis fails) and Kafka (topic ensured;
 * producer and consumer opened for the roles that need them). Closed in reverse by {@link #close()}.
 */
final class ClusterBackends {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterBackends.class);

  private final Ids ids;
  private final CassandraClient cassandra;
  private final CassandraConversationStore conversations;
  private final CassandraMessageStore messages;
  private final CassandraMessageArchive archive;
  private final CassandraPushRegistrations pushRegistrations;
  private final RedisConnectionRegistry registry;
  private final RateLimiter limiter;
  private final List<java.util.function.Supplier<Future<?>>> closers = new ArrayList<>();
  private Future<Void> topicEnsured;

  private ClusterBackends(Ids ids, CassandraClient cassandra, CassandraConversationStore conversations,
      CassandraMessageStore messages, CassandraMessageArchive archive,
      CassandraPushRegistrations pushRegistrations, RedisConnectionRegistry registry, RateLimiter limiter) {
    this.ids = ids;
    this.cassandra = cassandra;
    this.conversations = conversations;
    this.messages = messages;
    this.archive = archive;
    this.pushRegistrations = pushRegistrations;
    this.registry = registry;
    this.limiter = limiter;
  }

  /** Hazelcast's property naming the address a member binds and advertises. */
  static final String LOCAL_ADDRESS = "hazelcast.local.localAddress";

  /**
   * Joins (or forms) the Hazelcast cluster named by {@code cluster.name}; {@code managed} gets the
   * cluster manager (its node id and live nodes) before the join completes.
   */
  static Future<Vertx> joinCluster(ParleyConfig config, NodeMetrics metrics, Consumer<ClusterManager> managed) {
    ClusterSettings c = config.cluster();
    Config hz = ConfigUtil.loadConfig();
    hz.setClusterName(c.name());
    NetworkConfig net = hz.getNetworkConfig();
    // port 0: the system picks a free port (auto-increment off: it has no next port to try, and
    // Hazelcast would warn that "some of the ports seem occupied")
    net.setPort(c.port()).setPortAutoIncrement(c.port() != 0);
    String host;
    try {
      host = interfaceAddress(c.host());
    } catch (ConfigException e) {
      return Future.failedFuture(e); // Main: exit 2, naming the key
    }
    if (host.equals(c.host())) {
      net.getInterfaces().setEnabled(true).setInterfaces(List.of(host));
    } else {
      // a name (a container's service name): with an interface list, Hazelcast keeps only the
      // members given by name whose addresses match it, this node alone, and each container formed
      // a cluster of its own; so the address is set as the one to bind and advertise instead
      net.getInterfaces().setEnabled(false);
      hz.setProperty(LOCAL_ADDRESS, host);
    }
    net.getJoin().getMulticastConfig().setEnabled(false);
    net.getJoin().getAutoDetectionConfig().setEnabled(false);
    net.getJoin().getTcpIpConfig().setEnabled(true).setMembers(c.members());
    VertxOptions options = Node.vertxOptions(config)
        .setEventBusOptions(new EventBusOptions().setHost(host).setPort(0).setClusterPublicHost(host));
    HazelcastClusterManager manager = new HazelcastClusterManager(hz);
    managed.accept(manager);
    long t0 = System.nanoTime();
    return metrics.configure(Transports.builder(options, config.transport()), options).withClusterManager(manager).buildClustered()
        .onSuccess(v -> LOG.info("joined cluster '{}' as {} in {} ms", c.name(), memberLine(manager),
            (System.nanoTime() - t0) / 1_000_000));
  }

  /**
   * {@code cluster.host} as the address Hazelcast's interface list takes (IP addresses only: it
   * drops a host name and then finds no interface): an IP address as it is, a host name resolved
   * (its IPv4 address when it has one). So a container names itself by its service name
   * ({@code PARLEY_CLUSTER_HOST=parley1}, deploy/compose.yaml), whose address the container network
   * gives it at each start; Hazelcast and the event bus bind that address and advertise it, and the
   * members may be listed by name ({@code parley1:5701,parley2:5701,...}).
   */
  static String interfaceAddress(String host) {
    InetAddress[] all;
    try {
      all = InetAddress.getAllByName(host);
    } catch (UnknownHostException e) {
      throw new ConfigException("cluster.host: cannot resolve '" + host + "' ("
          + ConfigLoader.envName("cluster.host") + ")");
    }
    InetAddress chosen = Arrays.stream(all).filter(a -> a instanceof Inet4Address).findFirst().orElse(all[0]);
    return chosen.getHostAddress();
  }

  /**
   * "Hazelcast member host:port": the address Hazelcast bound, as it told its peers (with
   * {@code cluster.port} 0, or the configured port busy, not the configured one). A stable part of
   * the start-up line: the cluster tests read a node's port from it to list it as a member.
   */
  static String memberLine(HazelcastClusterManager manager) {
    Address a = manager.getHazelcastInstance().getCluster().getLocalMember().getAddress();
    return "Hazelcast member " + a.getHost() + ":" + a.getPort();
  }

  /**
   * What a node can make of its engines' clients before it has a Vert.x, on a thread of its own
   * while it joins the cluster ({@link #prepare}): the Cassandra driver's options.
   */
  record Prepared(CassandraClientOptions cassandraOptions) {}

  /**
   * Starts, on a thread of its own, what opening the engines needs and what needs no Vert.x: the
   * Cassandra driver's configuration (its reference configuration parsed and resolved), and the
   * initialisation of the client classes {@link #open} and the Kafka clients use first. On the event
   * loop that work took seconds (a blocked-thread warning at every start) after the cluster join;
   * here it runs while Hazelcast joins, which mostly waits. Fails only when the Cassandra options
   * cannot be made (as {@link #open} would have).
   */
  static CompletableFuture<Prepared> prepare(ParleyConfig config) {
    CompletableFuture<Prepared> result = new CompletableFuture<>();
    Thread thread = new Thread(() -> {
      long t0 = System.nanoTime();
      try {
        ClusterSettings c = config.cluster();
        int colon = c.cassandraContact().lastIndexOf(':');
        CassandraClientOptions options = CassandraSchema.clientOptions(c.cassandraContact().substring(0, colon),
            Integer.parseInt(c.cassandraContact().substring(colon + 1)), c.cassandraDc(), c.cassandraRequestTimeoutMs(),
            c.cassandraConnections());
        initialiseClientClasses();
        LOG.debug("engine clients prepared in {} ms", (System.nanoTime() - t0) / 1_000_000);
        result.complete(new Prepared(options));
      } catch (RuntimeException | LinkageError e) {
        result.completeExceptionally(e);
      }
    }, "parley-prepare");
    thread.setDaemon(true);
    thread.start();
    return result;
  }

  /**
   * Loads and initialises classes the engine clients use when they are opened, by using them
   * without any I/O: a statement (the driver's type tokens), Redis's command table and connection
   * manager, the Kafka clients and their configuration definitions, Netty's DNS resolver. Nothing here
   * connects or leaves a trace; a class missing from a future client version is skipped.
   */
  private static void initialiseClientClasses() {
    SimpleStatement.newInstance("SELECT release_version FROM system.local");
    Request.cmd(Command.EVALSHA);
    ClassLoader loader = ClusterBackends.class.getClassLoader();
    for (String name : List.of("io.vertx.redis.client.impl.RedisConnectionManager",
        "io.vertx.core.internal.pool.SimpleConnectionPool", "io.netty.resolver.dns.DnsNameResolver",
        "org.apache.kafka.clients.producer.ProducerConfig", "org.apache.kafka.clients.consumer.ConsumerConfig",
        "org.apache.kafka.clients.admin.AdminClientConfig", "org.apache.kafka.clients.producer.KafkaProducer",
        "org.apache.kafka.clients.consumer.KafkaConsumer", "org.apache.kafka.clients.admin.KafkaAdminClient")) {
      try {
        Class.forName(name, true, loader);
      } catch (ClassNotFoundException e) {
        LOG.debug("not preloaded: {}", name);
      }
    }
  }

  static Future<ClusterBackends> open(Vertx vertx, ParleyConfig config, Prepared prepared) {
    ClusterSettings c = config.cluster();
    CassandraClient client = CassandraClient.create(vertx, prepared.cassandraOptions());
    CassandraNames names = new CassandraNames(c.cassandraKeyspace());
    Ids ids = new Ids(config.nodeId());
    Future<Void> schema = new CassandraSchema(names, c.cassandraReplicationStrategy(), c.cassandraReplicationFactor(),
        CassandraMessageArchive.DEFAULT_BUCKET_MS, c.cassandraDedupeTtlS()).apply(vertx, client);
    Redis redis = RedisConnectionRegistry.createClient(vertx, c.redisUrl(), c.redisPoolSize(), c.redisPoolWaiting());
    RedisKeys keys = new RedisKeys(c.redisPrefix());
    RedisConnectionRegistry registry = new RedisConnectionRegistry(redis, keys, Duration.ofMillis(c.registryTtlMs()));
    RedisRateLimiter shared = new RedisRateLimiter(redis, keys);
    RateLimiter limiter = new FallbackRateLimiter(vertx, shared, new InMemoryRateLimiter(Node.RATE_LIMIT_BUCKETS_MAX),
        c.limitsRedisTimeoutMs(), c.limitsRedisRetryMs());
    // Redis's scripts and the Kafka topic while Cassandra's schema is checked, not after it: at
    // start each is a few round trips that used to add up one after the other
    // fails when Redis is unreachable, and so does the node's start
    Future<Void> scripts = registry.loadScripts().compose(x -> shared.loadScripts());
    Future<Void> topic = ensureTopic(vertx, c);
    return schema
        .compose(v -> Future.all(CassandraConversationStore.create(vertx, client, names),
            CassandraMessageStore.create(client, names),
            CassandraMessageArchive.create(client, names, CassandraMessageArchive.DEFAULT_BUCKET_MS, c.cassandraDedupeTtlS()),
            scripts,
            CassandraPushRegistrations.create(client, names)))
        .map(all -> {
          ClusterBackends b = new ClusterBackends(ids, client, all.resultAt(0), all.resultAt(1), all.resultAt(2),
              all.resultAt(4), registry, limiter);
          b.topicEnsured = topic;
          b.closers.add(redis::close);
          return b;
        })
        .onFailure(e -> {
          redis.close();
          client.close();
        });
  }

  /** Ensures the topic, then opens the routing node's consumer. */
  Future<LogSource> openLogSource(Vertx vertx, ParleyConfig config) {
    ClusterSettings c = config.cluster();
    return topic(vertx, c)
        .compose(v -> KafkaLogSource.create(vertx, c.kafkaBootstrap(), c.kafkaTopic(), c.kafkaGroup(),
            new KafkaLogSource.Timing(c.kafkaPollTimeoutMs(), c.kafkaSessionTimeoutMs(), c.kafkaHeartbeatIntervalMs())))
        .map(s -> s);
  }

  /** Ensures the dead-letter topic, then opens the routing node's producer of parked records. */
  Future<DeadLetters> openDeadLetters(Vertx vertx, ParleyConfig config) {
    ClusterSettings c = config.cluster();
    String dead = KafkaTopics.deadLetters(c.kafkaTopic());
    return KafkaTopics.ensure(vertx, c.kafkaBootstrap(), dead, c.kafkaPartitions(), (short) c.kafkaReplicationFactor(),
            c.kafkaAdminTimeoutMs())
        .compose(v -> KafkaDeadLetters.create(vertx, c.kafkaBootstrap(), c.kafkaTopic(), c.kafkaSendTimeoutMs()))
        .map(d -> {
          closers.add(d::close);
          return d;
        });
  }

  /** Ensures the topic, then opens the gateway node's producer. */
  Future<MessageLog> openMessageLog(Vertx vertx, ParleyConfig config) {
    ClusterSettings c = config.cluster();
    return topic(vertx, c)
        .compose(v -> KafkaMessageLog.create(vertx, c.kafkaBootstrap(), c.kafkaTopic(), config.nodeName(), c.kafkaSendTimeoutMs()))
        .map(log -> {
          closers.add(log::close);
          return log;
        });
  }

  /** The topic ensured once per node (a node with both roles needs it for both clients). */
  private Future<Void> topic(Vertx vertx, ClusterSettings c) {
    if (topicEnsured == null || topicEnsured.failed()) {
      topicEnsured = ensureTopic(vertx, c);
    }
    return topicEnsured;
  }

  private static Future<Void> ensureTopic(Vertx vertx, ClusterSettings c) {
    return KafkaTopics.ensure(vertx, c.kafkaBootstrap(), c.kafkaTopic(), c.kafkaPartitions(),
        (short) c.kafkaReplicationFactor(), c.kafkaAdminTimeoutMs());
  }

  Ids ids() {
    return ids;
  }

  CassandraConversationStore conversations() {
    return conversations;
  }

  /** History reads. */
  CassandraMessageStore messages() {
    return messages;
  }

  /** Where routing persists what it read from the log. */
  CassandraMessageArchive archive() {
    return archive;
  }

  CassandraPushRegistrations pushRegistrations() {
    return pushRegistrations;
  }

  RedisConnectionRegistry registry() {
    return registry;
  }

  /** Per-user limits shared through Redis, node-local while Redis fails. */
  RateLimiter limiter() {
    return limiter;
  }

  Future<Void> close() {
    List<Future<?>> all = new ArrayList<>();
    for (var closer : closers) {
      all.add(closer.get().recover(e -> Future.succeededFuture()));
    }
    return Future.join(all).eventually(cassandra::close).mapEmpty();
  }
}
