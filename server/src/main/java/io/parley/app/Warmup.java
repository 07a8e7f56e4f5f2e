package io.parley.app;

import io.parley.config.ConfigLoader;
import io.parley.config.ParleyConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The warm-up a node runs before it reports ready ({@code warmup.ms}): a freshly started JVM
 * interprets Parley's hot paths until the JIT has compiled them, which for its first minute put
 * p99 at seconds instead of milliseconds (docs/benchmarks.md, "Cold start"). So, before ready,
 * synthetic traffic runs through the same code a user's traffic takes: a throwaway embedded node
 * in this JVM (own Vert.x, own RocksDB in a temporary directory deleted afterwards, own in-memory
 * registry, no push provider, a random JWT secret) with {@link #PAIRS} pairs of users in DMs and one
 * group of all of them, each user on a loopback WebSocket: dev tokens and conversations over REST,
 * sends with {@link #IN_FLIGHT} in flight per connection (frame decode, JSON, the send path through
 * routing's sequencer and group commit, acks, fan-out to every session's write and frame encoding),
 * {@code delivered} receipts, {@code sync} of each DM (backfill reads) and REST history pages.
 *
 * <p>The JIT's compiled code is the JVM's, not a node's, so the real node then serves compiled;
 * and since nothing runs through the real node, the warm-up leaves nothing a user can see there:
 * no conversation, message, registry entry, presence or push. Since it needs nothing of the real
 * node, it begins with the real node's start ({@link Node#start}) and runs beside the cluster join
 * and the opening of storage; ready waits for whichever ends last. It is bounded: traffic runs for
 * {@code warmup.ms} once the sockets are open (the throwaway node's start and the users' set-up
 * before it take about half a second on an idle machine, at most {@link #START_MAX_MS} each), the throwaway node
 * stops after the real one reports ready ({@link Node#stop} waits for it), and a warm-up that fails
 * (a port, a disk) is logged and cut short, never failing the start.
 */
public final class Warmup {
  private static final Logger LOG = LoggerFactory.getLogger(Warmup.class);
  /** DM pairs; every user is also in one group of all {@code 2 * PAIRS} users. */
  public static final int PAIRS = 8;
  /** Sends per connection waiting for their acks. */
  static final int IN_FLIGHT = 16;
  /** Every this many acks a connection sends to its group instead of its DM. */
  private static final int GROUP_EVERY = 8;
  /** Every this many acks a connection syncs its DM (up to {@code sync.max_messages} read back). */
  private static final int SYNC_EVERY = 32;
  /** Every this many acks a connection reads a history page over REST. */
  private static final int HISTORY_EVERY = 64;
  private static final String BODY = "w".repeat(100);
  /** Stopping the throwaway node takes it this long at most before the warm-up gives up waiting. */
  private static final long STOP_GRACE_MS = 5_000;
  /**
   * Starting the throwaway node, and then its users' tokens, conversations and sockets, each take
   * this long at most before the warm-up is cut short. The warm-up begins with the real node's own
   * start and shares the CPU with it (class loading, the cluster join): on a loaded 2-core machine
   * the throwaway node's start took 9-14 s then, and a 5 s bound cut every warm-up short with no
   * traffic at all.
   */
  private static final long START_MAX_MS = 20_000;

  /**
   * What a warm-up did: its wall time and the frames and reads it drove; {@code dir} the throwaway
   * node's temporary directory (deleted once the node stopped), null when none was made.
   */
  public record Report(long tookMs, long sent, long acked, long delivered, long synced, long historyReads, List<String> users,
      Path dir) {
    static Report skipped(long tookMs) {
      return new Report(tookMs, 0, 0, 0, 0, 0, List.of(), null);
    }
  }

  private final ParleyConfig config;
  private final long budgetMs;
  private final long t0 = System.nanoTime();
  private final String run = Long.toString(System.nanoTime() & 0xffffff, 36);
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong acked = new AtomicLong();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong synced = new AtomicLong();
  private final AtomicLong historyReads = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private volatile String firstError;
  private final List<String> users = new ArrayList<>();
  private volatile boolean stopping;
  private final CompletableFuture<Report> reported = new CompletableFuture<>();
  private final CompletableFuture<Void> cleanedUp = new CompletableFuture<>();

  private Warmup(ParleyConfig config, long budgetMs) {
    this.config = config;
    this.budgetMs = budgetMs;
    for (int i = 0; i < 2 * PAIRS; i++) {
      users.add("warmup-" + run + "-" + i);
    }
  }

  /**
   * Starts a warm-up on a thread of its own: {@code budgetMs} of traffic once the throwaway node's
   * sockets are open (its start, and the users' set-up, before that take at most
   * {@link #START_MAX_MS} each). It needs nothing of the real node, so it runs while the real node
   * starts (joins the cluster, opens its storage); {@link #report(Context)} hands its outcome to the
   * real node once that has a Vert.x. Never fails: a failed warm-up is logged and reported with what
   * it did.
   */
  static Warmup start(ParleyConfig config, long budgetMs) {
    Warmup w = new Warmup(config, budgetMs);
    // The throwaway node is started, driven and stopped from this thread, not from one of the real
    // node's or its own threads: futures of a Vert.x instance completed on another's threads (or on
    // its own after it closed) would have nowhere to run their callbacks.
    Thread thread = new Thread(() -> w.runBlocking(w.reported::complete, () -> w.cleanedUp.complete(null)), "parley-warmup");
    thread.setDaemon(true);
    thread.start();
    w.reported.thenAccept(r -> {
      LOG.info("warm-up: {} sends ({} acked), {} deliveries, {} syncs, {} history pages in {} ms",
          r.sent(), r.acked(), r.delivered(), r.synced(), r.historyReads(), r.tookMs());
      if (w.errors.get() > 0) {
        LOG.warn("warm-up: {} error frames, the first: {}", w.errors.get(), w.firstError);
      }
    });
    return w;
  }

  /**
   * Completes on {@code context} when the warm-up's traffic is over (its throwaway node may still
   * be stopping).
   */
  Future<Report> report(Context context) {
    return Future.fromCompletionStage(reported, context);
  }

  /**
   * Starts the throwaway node, runs traffic for the budget, reports (the node may now be ready),
   * then stops the throwaway node and deletes its directory.
   */
  private void runBlocking(java.util.function.Consumer<Report> reported, Runnable cleaned) {
    Path dir;
    try {
      dir = Files.createTempDirectory("parley-warmup-");
    } catch (IOException | RuntimeException e) {
      LOG.warn("warm-up skipped: {}", e.toString());
      reported.accept(Report.skipped(elapsedMs()));
      cleaned.run();
      return;
    }
    Node node = null;
    try {
      node = new Node(throwawayConfig(dir), true);
      await(node.start(), START_MAX_MS);
      await(traffic(node.vertx(), node.httpPort()), START_MAX_MS + budgetMs + STOP_GRACE_MS);
    } catch (Exception e) {
      LOG.warn("warm-up cut short: {}", e.toString());
    }
    stopping = true;
    reported.accept(snapshot(dir));
    try {
      if (node != null) {
        await(node.stop(), STOP_GRACE_MS);
      }
    } catch (Exception e) {
      LOG.warn("warm-up node did not stop cleanly: {}", e.toString());
    }
    try {
      deleteTree(dir);
    } catch (IOException | RuntimeException e) {
      LOG.warn("warm-up directory {} not removed: {}", dir, e.toString());
    }
    cleaned.run();
  }

  /** Completes once the throwaway node is stopped and its directory deleted (after the report). */
  CompletionStage<Void> cleanedUp() {
    return cleanedUp;
  }

  private static void await(Future<?> future, long timeoutMs) throws Exception {
    try {
      future.toCompletionStage().toCompletableFuture().get(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  /**
   * The throwaway node's configuration: the embedded profile on loopback, a free port, the real
   * node's transport, gateway instances, storage durability and event-loop limit (so the same code
   * paths run), limits lifted so the warm-up's own rate is not refused, no push provider.
   */
  private ParleyConfig throwawayConfig(Path dir) {
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    Map<String, String> env = new HashMap<>();
    env.put("PARLEY_PROFILE", "embedded");
    env.put("PARLEY_NODE_ID", Integer.toString(config.nodeId()));
    env.put("PARLEY_HTTP_HOST", "127.0.0.1");
    env.put("PARLEY_HTTP_PORT", "0");
    env.put("PARLEY_DATA_DIR", dir.toString());
    env.put("PARLEY_JWT_SECRET", Base64.getUrlEncoder().withoutPadding().encodeToString(secret));
    env.put("PARLEY_DEV_TOKEN_ENABLED", "true");
    env.put("PARLEY_GATEWAY_INSTANCES", Integer.toString(config.gatewayInstances()));
    env.put("PARLEY_TRANSPORT", config.transport());
    env.put("PARLEY_STORAGE_FSYNC", Boolean.toString(config.fsync()));
    env.put("PARLEY_STORAGE_COMMIT_WINDOW_MS", Integer.toString(config.commitWindowMs()));
    env.put("PARLEY_VERTX_MAX_EVENT_LOOP_EXECUTE_MS", Long.toString(config.maxEventLoopExecuteMs()));
    env.put("PARLEY_LIMITS_SEND_RATE_PER_S", "1000000");
    env.put("PARLEY_LIMITS_SEND_BURST", "1000000");
    env.put("PARLEY_LIMITS_IP_EXEMPT_LOOPBACK", "true");
    env.put("PARLEY_PUSH_WEBPUSH_ENABLED", "false");
    env.put("PARLEY_WARMUP_MS", "0");
    env.put("PARLEY_BRIDGE_PORT", "0"); // the node's bridge port is the node's
    env.put("PARLEY_ADMIN_PORT", "0"); // no listener, no meters: a throwaway node
    env.put("PARLEY_METRICS_ENABLED", "false");
    return ConfigLoader.load(env, Map.of());
  }

  /** Tokens, conversations, one socket per user, then sends until the budget is spent. */
  private Future<Void> traffic(Vertx vertx, int port) {
    HttpClient http = vertx.createHttpClient();
    WebSocketClient wsClient = vertx.createWebSocketClient();
    List<Future<String>> tokens = users.stream()
        .map(u -> rest(http, port, HttpMethod.POST, "/v1/dev/token", null, new JsonObject().put("user", u))
            .map(j -> j.getString("token")))
        .toList();
    return Future.all(tokens).compose(all -> {
      List<Future<String>> dms = new ArrayList<>();
      for (int p = 0; p < PAIRS; p++) {
        dms.add(rest(http, port, HttpMethod.POST, "/v1/conversations", tokens.get(2 * p).result(),
            new JsonObject().put("type", "dm").put("members", new JsonArray().add(users.get(2 * p + 1))))
            .map(j -> j.getString("id")));
      }
      JsonArray others = new JsonArray(new ArrayList<>(users.subList(1, users.size())));
      Future<String> group = rest(http, port, HttpMethod.POST, "/v1/conversations", tokens.get(0).result(),
          new JsonObject().put("type", "group").put("name", "warm-up").put("members", others)).map(j -> j.getString("id"));
      return Future.all(Future.all(dms), group).map(v -> {
        List<Connection> connections = new ArrayList<>();
        for (int i = 0; i < users.size(); i++) {
          connections.add(new Connection(http, port, tokens.get(i).result(), dms.get(i / 2).result(), group.result()));
        }
        return connections;
      });
    }).compose(connections -> {
      List<Future<WebSocket>> sockets = connections.stream()
          .map(c -> wsClient.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
              .setURI("/v1/ws?access_token=" + c.token + "&device=warmup")))
          .toList();
      return Future.all(sockets).compose(v -> {
        Promise<Void> done = Promise.promise();
        for (int i = 0; i < connections.size(); i++) {
          connections.get(i).start(sockets.get(i).result());
        }
        vertx.setTimer(budgetMs, id -> {
          stopping = true;
          done.complete();
        });
        return done.future();
      }).eventually(() -> Future.join(sockets.stream()
          .map(s -> s.succeeded() ? s.result().close() : Future.succeededFuture())
          .toList()));
    }).eventually(() -> Future.join(http.close(), wsClient.close()));
  }

  /** One user's socket: keeps {@link #IN_FLIGHT} sends waiting for acks, reads what it is sent. */
  private final class Connection {
    private final HttpClient http;
    private final int port;
    private final String token;
    private final String dm;
    private final String group;
    private WebSocket ws;
    private long seq;
    private long acks;
    private String lastSeen = "0";

    Connection(HttpClient http, int port, String token, String dm, String group) {
      this.http = http;
      this.port = port;
      this.token = token;
      this.dm = dm;
      this.group = group;
    }

    void start(WebSocket socket) {
      this.ws = socket;
      ws.textMessageHandler(this::onFrame);
      for (int i = 0; i < IN_FLIGHT; i++) {
        send();
      }
    }

    private void send() {
      if (stopping) {
        return;
      }
      long n = seq++;
      String conv = n % GROUP_EVERY == GROUP_EVERY - 1 ? group : dm;
      ws.writeTextMessage(new JsonObject().put("op", "send").put("msg_id", "w" + n).put("conv", conv).put("body", BODY).encode());
      sent.incrementAndGet();
    }

    private void onFrame(String text) {
      JsonObject f = new JsonObject(text);
      switch (f.getString("op", "")) {
        case "ack" -> {
          acked.incrementAndGet();
          acks++;
          if (acks % SYNC_EVERY == 0 && !stopping) {
            ws.writeTextMessage(new JsonObject().put("op", "sync").put("convs", new JsonObject().put(dm, "0")).encode());
          }
          if (acks % HISTORY_EVERY == 0 && !stopping) {
            rest(http, port, HttpMethod.GET, "/v1/conversations/" + dm + "/messages?limit=50", token, null)
                .onSuccess(j -> historyReads.incrementAndGet());
          }
          send();
        }
        case "msg" -> {
          delivered.incrementAndGet();
          if (dm.equals(f.getString("conv"))) {
            lastSeen = f.getString("server_id");
            if (delivered.get() % 16 == 0 && !stopping) {
              ws.writeTextMessage(new JsonObject().put("op", "delivered").put("conv", dm).put("server_id", lastSeen).encode());
            }
          }
        }
        case "synced" -> synced.incrementAndGet();
        case "error" -> {
          if (errors.getAndIncrement() == 0) {
            firstError = text;
          }
          send();
        }
        default -> { } // receipts, presence
      }
    }
  }

  /** A REST call of the throwaway node; a status other than 2xx fails it. */
  private static Future<JsonObject> rest(HttpClient http, int port, HttpMethod method, String uri, String token, JsonObject body) {
    RequestOptions options = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port).setURI(uri);
    if (token != null) {
      options.putHeader("Authorization", "Bearer " + token);
    }
    return http.request(options)
        .compose(req -> body == null ? req.send() : req.send(Buffer.buffer(body.encode())))
        .compose(resp -> resp.body().compose(b -> status(resp, b, uri)));
  }

  private static Future<JsonObject> status(HttpClientResponse resp, Buffer body, String uri) {
    if (resp.statusCode() / 100 != 2) {
      return Future.failedFuture("warm-up request " + uri + ": HTTP " + resp.statusCode() + " " + body);
    }
    return Future.succeededFuture(body.toJsonObject());
  }

  private Report snapshot(Path dir) {
    return new Report(elapsedMs(), sent.get(), acked.get(), delivered.get(), synced.get(), historyReads.get(), List.copyOf(users),
        dir);
  }

  private long elapsedMs() {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
