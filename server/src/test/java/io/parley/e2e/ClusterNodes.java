package io.parley.e2e;

import io.parley.storage.cassandra.CassandraSchema;
import io.parley.storage.redis.RedisKeys;
import io.parley.testing.Await;
import io.vertx.cassandra.CassandraClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * N Parley nodes of the cluster profile, each a separate JVM running {@code target/parley.jar}
 * on loopback: node ids 1..N, HTTP and Hazelcast each on a port the node chooses itself at every
 * start ({@code http.port} and {@code cluster.port} 0; read from its "listening on" and "joined
 * cluster ... as Hazelcast member host:port" lines), so no port can be taken by another process
 * between choosing and binding it; one JWT secret, dev tokens on, and
 * names of their own for this run (Hazelcast cluster, Kafka topic and group, push queue topic
 * (which also names its consumer group), Cassandra keyspace, Redis prefix) so runs never see each
 * other's data or join each other's cluster. The servers
 * come from the test JVM's {@code PARLEY_KAFKA_BOOTSTRAP}, {@code PARLEY_CASSANDRA_CONTACT},
 * {@code PARLEY_CASSANDRA_DC} and {@code PARLEY_REDIS_URL} (as {@code scripts/infra/infra env}
 * prints them), defaulting to the loopback defaults.
 *
 * <p>Each node's output goes to {@code target/cluster-it/<run>/node-<id>.log} (appended across
 * restarts, each start marked by a {@code ====} line). A node counts as started when it logs
 * "listening on"; it can be killed (SIGKILL), terminated (SIGTERM) and restarted with the same id
 * and settings (its ports may change). A node's {@code cluster.members} are the Hazelcast ports the
 * live nodes logged when it starts: none for the first node (it founds the cluster), the first
 * node's for the others, the live ones' for a restarted node. {@link #close()} stops every node
 * still running (SIGTERM, then SIGKILL).
 */
final class ClusterNodes implements AutoCloseable {
  /** Hazelcast on JDK 17 (see INFRA-NOTES.md). */
  static final List<String> HAZELCAST_JVM_FLAGS = List.of(
      "--add-modules", "java.se",
      "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang=ALL-UNNAMED",
      "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens", "java.management/sun.management=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");
  /** The Hazelcast address in a node's "joined cluster" line ({@code ClusterBackends.memberLine}). */
  private static final Pattern MEMBER = Pattern.compile("Hazelcast member (\\S+):(\\d+)");
  /** How long a node may take to log "listening on" (3 JVMs and the servers share 2 cores here). */
  static final Duration START_TIMEOUT = Duration.ofSeconds(Long.getLong("parley.it.node_start_s", 180));
  static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
  static final String KAFKA = env("PARLEY_KAFKA_BOOTSTRAP", "127.0.0.1:9092");
  static final String CASSANDRA = env("PARLEY_CASSANDRA_CONTACT", "127.0.0.1:9042");
  static final String CASSANDRA_DC = env("PARLEY_CASSANDRA_DC", "datacenter1");
  static final String REDIS = env("PARLEY_REDIS_URL", "redis://127.0.0.1:6379");

  final String run;
  final String secret;
  final Path dir;
  final Map<String, String> common;
  /** Environment of one node on top of {@link #common} (a push provider of its own, say). */
  private final IntFunction<Map<String, String>> perNode;
  final List<Node> nodes = new ArrayList<>();
  private final List<Clients> clients = new ArrayList<>();
  private final Thread reaper;

  private ClusterNodes(String name, int n, Map<String, String> overrides, IntFunction<Map<String, String>> perNode) {
    String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    this.run = name + "-" + suffix;
    this.secret = "cluster-it-" + UUID.randomUUID() + UUID.randomUUID();
    this.dir = Path.of("target", "cluster-it", run).toAbsolutePath();
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PARLEY_PROFILE", "cluster");
    env.put("PARLEY_HTTP_HOST", "127.0.0.1");
    env.put("PARLEY_JWT_SECRET", secret);
    env.put("PARLEY_DEV_TOKEN_ENABLED", "true");
    // no shedding for event-loop lag on a test machine other builds load (see TestNode)
    env.put("PARLEY_OVERLOAD_LOOP_LAG_MS", "0");
    env.put("PARLEY_CLUSTER_NAME", "parley-it-" + suffix);
    env.put("PARLEY_CLUSTER_HOST", "127.0.0.1");
    env.put("PARLEY_KAFKA_BOOTSTRAP", KAFKA);
    env.put("PARLEY_KAFKA_TOPIC", "parley-it-" + suffix);
    env.put("PARLEY_KAFKA_GROUP", "parley-it-" + suffix);
    env.put("PARLEY_CASSANDRA_CONTACT", CASSANDRA);
    env.put("PARLEY_CASSANDRA_DC", CASSANDRA_DC);
    env.put("PARLEY_CASSANDRA_KEYSPACE", "parley_it_" + suffix);
    env.put("PARLEY_REDIS_URL", REDIS);
    env.put("PARLEY_REDIS_PREFIX", "parley-it-" + suffix);
    env.put("PARLEY_PUSH_QUEUE_TOPIC", "parley-it-push-" + suffix);
    env.put("PARLEY_ADMIN_PORT", "0"); // several nodes on one host: no shared 9464
    env.put("PARLEY_WARMUP_MS", "0"); // no warm-up before ready: the suite's time goes to its faults
    env.putAll(overrides);
    this.common = Map.copyOf(env);
    this.perNode = perNode;
    for (int i = 0; i < n; i++) {
      nodes.add(new Node(i + 1));
    }
    this.reaper = new Thread(() -> nodes.forEach(Node::destroyNow), "cluster-nodes-reaper");
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  /**
   * Starts {@code n} nodes and returns once each logged "listening on". Node 1 starts first and
   * founds the Hazelcast cluster; the others start together once it is up and join it at the port
   * it logged.
   *
   * @param name names this run (its log directory and, with a random suffix, every server-side name)
   * @param overrides extra or replaced environment of every node (e.g. {@code PARLEY_KAFKA_SEND_TIMEOUT_MS})
   */
  static ClusterNodes start(String name, int n, Map<String, String> overrides) {
    return start(name, n, overrides, id -> Map.of());
  }

  /**
   * As {@link #start(String, int, Map)}, node {@code id} with {@code perNode.apply(id)} added to
   * (or replacing) the common environment, at every (re)start.
   */
  static ClusterNodes start(String name, int n, Map<String, String> overrides, IntFunction<Map<String, String>> perNode) {
    ClusterNodes c = new ClusterNodes(name, n, overrides, perNode);
    try {
      System.out.println("[cluster] " + c.run + ": " + n + " node(s), logs in " + c.dir);
      c.nodes.get(0).start();
      c.nodes.get(0).awaitStarted();
      for (Node node : c.nodes.subList(1, n)) {
        node.start();
      }
      for (Node node : c.nodes.subList(1, n)) {
        node.awaitStarted();
      }
      for (Node node : c.nodes) {
        node.awaitReady();
      }
      return c;
    } catch (RuntimeException | Error e) {
      c.close();
      throw e;
    }
  }

  /**
   * A run's names and environment ({@link #common}) with no node started, for a node a test runs in
   * its own JVM; {@link #close()} still drops the run's server data.
   */
  static ClusterNodes withoutNodes(String name, Map<String, String> overrides) {
    return new ClusterNodes(name, 0, overrides, id -> Map.of());
  }

  /** Node {@code id} (1-based). */
  Node node(int id) {
    return nodes.get(id - 1);
  }

  /** Test-side HTTP and WebSocket clients of node {@code id}; they work again after a restart. */
  synchronized Clients clients(int id) {
    while (clients.size() < nodes.size()) {
      Node n = nodes.get(clients.size());
      clients.add(new Clients(() -> n.httpPort));
    }
    return clients.get(id - 1);
  }

  /** The tail of every node's log, for a failure message. */
  String logTails(int lines) {
    StringBuilder b = new StringBuilder();
    for (Node n : nodes) {
      b.append("---- node ").append(n.id).append(" (").append(n.log).append(") ----\n");
      try {
        List<String> all = Files.readAllLines(n.log, StandardCharsets.UTF_8);
        all.subList(Math.max(0, all.size() - lines), all.size()).forEach(l -> b.append(l).append('\n'));
      } catch (IOException e) {
        b.append("(unreadable: ").append(e).append(")\n");
      }
    }
    return b.toString();
  }

  @Override
  public void close() {
    for (Clients c : clients) {
      try {
        c.close();
      } catch (RuntimeException e) {
        // the test is over; a client that cannot close cleanly does not matter
      }
    }
    clients.clear();
    for (Node n : nodes) {
      n.terminate();
    }
    for (Node n : nodes) {
      n.awaitGone();
    }
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException e) {
      // already shutting down
    }
    dropServerData();
    System.out.println("[cluster] " + run + ": stopped; logs in " + dir);
  }

  /**
   * Best effort: deletes this run's Kafka topics (the message log's and the push queue's, if a
   * push provider made a node create it) and consumer groups, drops its keyspace and deletes its
   * Redis keys, so that repeated runs do not pile up in the shared servers (a broker with hundreds
   * of leftover partitions restarts much more slowly).
   */
  private void dropServerData() {
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("org.apache.kafka"))
        .setLevel(ch.qos.logback.classic.Level.WARN); // the admin client logs its whole config
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA,
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000, AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000))) {
      String push = common.get("PARLEY_PUSH_QUEUE_TOPIC");
      for (KafkaFuture<Void> f : admin.deleteTopics(List.of(common.get("PARLEY_KAFKA_TOPIC"), push)).topicNameValues().values()) {
        unlessMissing(f);
      }
      for (KafkaFuture<Void> f : admin.deleteConsumerGroups(List.of(common.get("PARLEY_KAFKA_GROUP"), push)).deletedGroups().values()) {
        unlessMissing(f);
      }
    } catch (Exception e) {
      System.out.println("[cluster] " + run + ": could not delete its Kafka topic / group: " + e);
    }
    Vertx vertx = Vertx.vertx();
    try {
      int colon = CASSANDRA.lastIndexOf(':');
      CassandraClient cassandra = CassandraClient.create(vertx, CassandraSchema.clientOptions(
          CASSANDRA.substring(0, colon), Integer.parseInt(CASSANDRA.substring(colon + 1)), CASSANDRA_DC, 10_000, 4));
      Future<?> dropped = cassandra.execute("DROP KEYSPACE IF EXISTS " + common.get("PARLEY_CASSANDRA_KEYSPACE"))
          .eventually(cassandra::close);
      Redis redis = Redis.createClient(vertx, REDIS);
      RedisKeys keys = new RedisKeys(common.get("PARLEY_REDIS_PREFIX"));
      Future<?> deleted = redis.send(Request.cmd(Command.KEYS).arg(keys.pattern())).compose(r -> {
        if (r == null || r.size() == 0) {
          return Future.succeededFuture();
        }
        Request del = Request.cmd(Command.DEL);
        r.forEach(k -> del.arg(k.toString()));
        return redis.send(del);
      }).eventually(redis::close);
      Await.result("dropping the run's keyspace and Redis keys", Future.join(dropped, deleted), Duration.ofSeconds(60));
    } catch (Exception e) {
      System.out.println("[cluster] " + run + ": could not drop its keyspace / Redis keys: " + e);
    } finally {
      vertx.close();
    }
  }

  /** Waits for a deletion; a topic or group that never existed (no node used it) is no failure. */
  private static void unlessMissing(KafkaFuture<Void> deleted) throws Exception {
    try {
      deleted.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof UnknownTopicOrPartitionException || e.getCause() instanceof GroupIdNotFoundException)) {
        throw e;
      }
    }
  }

  static String env(String name, String dflt) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? dflt : v;
  }

  /** One node: its settings are fixed; its process, HTTP port and Hazelcast port change with each (re)start. */
  final class Node {
    final int id;
    /** The HTTP port of the current start (0 until it logged "listening on"). */
    volatile int httpPort;
    /** The Hazelcast port of the current start (0 until it logged "joined cluster"). */
    volatile int clusterPort;
    final Path log;
    final Path dataDir;
    private volatile Process process;
    private volatile LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();

    Node(int id) {
      this.id = id;
      this.log = dir.resolve("node-" + id + ".log");
      this.dataDir = dir.resolve("data-" + id);
    }

    String url() {
      return "http://127.0.0.1:" + httpPort;
    }

    long pid() {
      return process.pid();
    }

    boolean alive() {
      Process p = process;
      return p != null && p.isAlive();
    }

    /**
     * Launches the JVM without waiting for it; its {@code cluster.members} are the Hazelcast ports
     * the other live nodes logged (none: it founds the cluster).
     */
    synchronized void start() {
      if (alive()) {
        throw new IllegalStateException("node " + id + " is running");
      }
      String members = nodes.stream()
          .filter(o -> o != this && o.alive() && o.clusterPort > 0)
          .map(o -> "127.0.0.1:" + o.clusterPort)
          .collect(Collectors.joining(","));
      try {
        Files.createDirectories(dataDir);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Dparley.it.run=" + run);
        cmd.addAll(List.of(System.getProperty("parley.it.node_java_opts", "-Xms128m -Xmx512m").trim().split("\\s+")));
        cmd.addAll(HAZELCAST_JVM_FLAGS);
        cmd.addAll(List.of("-jar", ServerProcess.JAR.toAbsolutePath().toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("PARLEY_") && !k.equals("PARLEY_LOG_LEVEL")); // only what this harness sets
        env.putAll(common);
        env.putAll(perNode.apply(id));
        env.put("PARLEY_NODE_ID", Integer.toString(id));
        env.put("PARLEY_HTTP_PORT", "0"); // any free port; see awaitStarted
        httpPort = 0;
        env.put("PARLEY_CLUSTER_PORT", "0"); // any free port, likewise
        clusterPort = 0;
        env.put("PARLEY_CLUSTER_MEMBERS", members);
        env.put("PARLEY_DATA_DIR", dataDir.toString());
        Writer out = Files.newBufferedWriter(log, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        out.write("==== node " + id + " started by ClusterNodes at " + Instant.now() + " (http and hazelcast on free ports"
            + ", members [" + members + "]) ====\n");
        out.flush();
        LinkedBlockingQueue<String> q = new LinkedBlockingQueue<>();
        lines = q;
        Process p = pb.start();
        process = p;
        Thread reader = new Thread(() -> copy(p, q, out), "node-" + id + "-output");
        reader.setDaemon(true);
        reader.start();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private void copy(Process p, LinkedBlockingQueue<String> q, Writer out) {
      try (out; BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          out.write(line);
          out.write('\n');
          out.flush();
          q.add(line);
        }
      } catch (IOException e) {
        // the process ended
      }
    }

    /**
     * Waits for "joined cluster" and "listening on" of the current start and takes its Hazelcast and
     * HTTP ports from them; fails with the log tail if it dies or times out.
     */
    void awaitStarted() {
      clusterPort = memberPort(awaitLine("joined cluster", START_TIMEOUT));
      httpPort = ServerProcess.listeningPort(awaitLine("listening on", START_TIMEOUT));
    }

    /** The first line of the current start containing {@code fragment}. */
    String awaitLine(String fragment, Duration timeout) {
      LinkedBlockingQueue<String> q = lines;
      long deadline = System.nanoTime() + timeout.toNanos();
      try {
        while (true) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            break;
          }
          String line = q.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)), TimeUnit.NANOSECONDS);
          if (line != null) {
            if (line.contains(fragment)) {
              return line;
            }
          } else if (!alive() && q.isEmpty()) {
            break;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Process p = process;
      throw new AssertionError("node " + id + " never logged '" + fragment + "' "
          + (p.isAlive() ? "within " + timeout : "(it exited with " + p.exitValue() + ")") + "; last lines of " + log
          + ":\n" + tail(40));
    }

    /** GET /health/ready answers 200 (checked after "listening on"; polled every 200 ms for up to 30 s). */
    void awaitReady() {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      HttpRequest ready = HttpRequest.newBuilder(URI.create(url() + "/health/ready")).timeout(Duration.ofSeconds(2)).build();
      int[] last = {-1};
      Integer ok = Await.valueOrNull(() -> {
        try {
          last[0] = http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
          last[0] = -1;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
        return last[0] == 200 ? last[0] : null;
      }, Duration.ofSeconds(30), Duration.ofMillis(200));
      if (ok == null) {
        throw new AssertionError("node " + id + ": /health/ready is " + last[0] + ", not 200; last lines:\n" + tail(40));
      }
    }

    /** SIGKILL, and waits until the process is gone. */
    void kill9() {
      Process p = process;
      if (p != null) {
        p.destroyForcibly();
        waitFor(p, STOP_TIMEOUT);
      }
    }

    /** SIGTERM without waiting. */
    void terminate() {
      Process p = process;
      if (p != null && p.isAlive()) {
        p.destroy();
      }
    }

    /** The exit code after a {@link #terminate()}; SIGKILL and failure if it does not exit in time. */
    int awaitExit() {
      Process p = process;
      if (!waitFor(p, STOP_TIMEOUT)) {
        p.destroyForcibly();
        waitFor(p, STOP_TIMEOUT);
        throw new AssertionError("node " + id + " did not exit within " + STOP_TIMEOUT);
      }
      return p.exitValue();
    }

    /** Waits for the exit of a terminated node; SIGKILL when it takes too long. */
    void awaitGone() {
      Process p = process;
      if (p != null && !waitFor(p, STOP_TIMEOUT)) {
        System.out.println("[cluster] node " + id + " ignored SIGTERM for " + STOP_TIMEOUT + ": SIGKILL");
        p.destroyForcibly();
        waitFor(p, STOP_TIMEOUT);
      }
    }

    /**
     * Starts the node again (same id and settings, members the live nodes' Hazelcast ports) and
     * waits until it listens and is ready.
     */
    void restart() {
      start();
      awaitStarted();
      awaitReady();
    }

    private void destroyNow() {
      Process p = process;
      if (p != null && p.isAlive()) {
        p.destroyForcibly();
      }
    }

    String tail(int n) {
      try {
        List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
        return String.join("\n", all.subList(Math.max(0, all.size() - n), all.size()));
      } catch (IOException e) {
        return "(log unreadable: " + e + ")";
      }
    }

    @Override
    public String toString() {
      return "node " + id + " (" + url() + ", hazelcast " + clusterPort + ")";
    }
  }

  /** The Hazelcast port a "joined cluster ... as Hazelcast member host:port" line names. */
  static int memberPort(String line) {
    Matcher m = MEMBER.matcher(line);
    if (!m.find()) {
      throw new AssertionError("no Hazelcast member address in the start-up line: " + line);
    }
    return Integer.parseInt(m.group(2));
  }

  private static boolean waitFor(Process p, Duration d) {
    try {
      return p.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
