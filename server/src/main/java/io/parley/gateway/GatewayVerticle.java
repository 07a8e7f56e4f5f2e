package io.parley.gateway;

import io.parley.config.GatewaySettings;
import io.parley.config.ParleyConfig;
import io.parley.history.ConversationService;
import io.parley.limits.LoadMonitor;
import io.parley.metrics.NodeMetrics;
import io.parley.limits.RateLimiter;
import io.parley.presence.ConnectionIds;
import io.parley.presence.ConnectionRegistry;
import io.parley.protocol.Addresses;
import io.parley.routing.SendBatch;
import io.parley.routing.SendRequest;
import io.parley.protocol.ClientFrame;
import io.parley.protocol.Deliveries;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.ServerFrames;
import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge: HTTP (REST, health, dev tokens) and WebSocket sessions on one port. Several instances
 * share the port, one per event loop; each owns the sessions it accepted. A node that stops first
 * drains each instance ({@link #drain}): ready turns 503, new upgrades get 503, every client is told
 * to reconnect, and the sessions are closed with 1012 spread over a window. Stopping the instance
 * closes whatever is left with 1012 at once.
 */
public final class GatewayVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(GatewayVerticle.class);
  private static final AtomicLong CONNECTION_SEQ = new AtomicLong();
  static final String WS_PATH = "/v1/ws";
  /** How often a drain lets go the sessions whose moment has come. */
  private static final long DRAIN_TICK_MS = 20;

  private final ParleyConfig config;
  private final Auth auth;
  private final ConversationService conversations;
  private final ConnectionRegistry registry;
  private final RateLimiter limiter;
  private final BooleanSupplier ready;
  private final DevicesApi devices;
  private final ConnectEmails emails;
  private final IpLimits ipLimits;
  private final LoadMonitor load;
  private LoadMonitor.Loop loop;
  private Origins origins;
  private final NodeMetrics metrics;
  private final Sessions sessions;
  private Session.Settings sessionSettings;
  private Sync.Settings syncSettings;
  private SendAdmission.Settings sendSettings;
  private WsChannel.Settings socketSettings;
  /** The sockets written to this turn, each flushed once at its end. */
  private TurnBatch<WsChannel> flusher;
  private HttpServer server;
  private Router router;
  private boolean draining;
  /** Completed when a drain has begun and this instance's last session is gone. */
  private Promise<Void> drained;

  /** A gateway without devices REST or email memory, with per-IP buckets of its own (one instance). */
  public GatewayVerticle(ParleyConfig config, Auth auth, ConversationService conversations,
      ConnectionRegistry registry, RateLimiter limiter, BooleanSupplier ready) {
    this(config, auth, conversations, registry, limiter, ready, null, null, new IpLimits(config.gateway().ipLimits()),
        LoadMonitor.off(), NodeMetrics.none());
  }

  /**
   * @param devices the devices and push REST, mounted beside {@link RestApi}; null: none
   * @param emails where the tokens' email claims are remembered at connect (one per node); null: nowhere
   * @param ipLimits the node's per-IP buckets of handshakes and REST requests, one instance shared
   *     by all of the node's gateway instances
   * @param load the node's event-loop lag, one for the node: each instance has its loop watched
   *     (routing sheds sends while one is behind) and judges no socket slow while its own is behind
   * @param metrics the node's meters (connections, handshakes, deliveries, rejections, syncs)
   */
  public GatewayVerticle(ParleyConfig config, Auth auth, ConversationService conversations,
      ConnectionRegistry registry, RateLimiter limiter, BooleanSupplier ready, DevicesApi devices, ConnectEmails emails,
      IpLimits ipLimits, LoadMonitor load, NodeMetrics metrics) {
    this.metrics = metrics;
    this.sessions = new Sessions(metrics);
    this.load = load;
    this.devices = devices;
    this.emails = emails;
    this.ipLimits = ipLimits;
    this.config = config;
    this.auth = auth;
    this.conversations = conversations;
    this.registry = registry;
    this.limiter = limiter;
    this.ready = ready;
  }

  @Override
  public Future<?> start() {
    GatewaySettings g = config.gateway();
    loop = load.watch(context);
    sessionSettings = new Session.Settings(context, vertx.eventBus(), registry, config.nodeName(), g.registerWaitMs(),
        new ClientFrame.Limits(config.bodyMaxBytes(), config.mediaMaxItems(), config.syncConvsMax(), config.presenceUsersMax()),
        config.frameMaxBytes(), new DeliveryOptions().setSendTimeout(g.requestTimeoutMs()).setLocalOnly(true), this::forget,
        metrics);
    syncSettings = new Sync.Settings((user, conv, after, limit) -> conversations.backfill(user, conv, after, limit),
        config.syncMaxMessages(), g.syncHeldBackMax());
    TurnBatch<SendRequest> toRouting = new TurnBatch<>(context,
        sends -> vertx.eventBus().send(Addresses.ROUTING_SEND, new SendBatch(sends), Addresses.local()));
    sendSettings = new SendAdmission.Settings(limiter, config.sendRatePerSecond(), config.sendBurst(), g.sendsWaitingMax(),
        toRouting::add);
    // the decoder's limit sits well above ours: a message over our limit is read whole and
    // answered with close 1009 (WsChannel); only a frame over the decoder's is refused by it
    socketSettings = new WsChannel.Settings(WsChannel.decoderConfig(transportFrameLimit(config.frameMaxBytes())),
        config.frameMaxBytes(), g.slowReaderUnsentMaxBytes(), TimeUnit.MILLISECONDS.toNanos(g.slowReaderBehindMs()),
        g.closeTimeoutMs(), loop::behind);
    flusher = new TurnBatch<>(context, written -> written.forEach(WsChannel::flush));

    router = Router.router(vertx);
    router.get("/health/live").handler(ctx -> json(ctx, 200, new JsonObject().put("status", "up")));
    router.get("/health/ready").handler(ctx -> {
      boolean ok = ready.getAsBoolean() && !draining;
      json(ctx, ok ? 200 : 503, new JsonObject().put("status", ok ? "ready" : "not_ready"));
    });
    // this node's fan-out counters (how hot conversations' fan-out splits between the nodes)
    router.get("/health/fanout").handler(ctx -> vertx.eventBus().<JsonObject>request(Addresses.FANOUT_STATS, null,
        Addresses.local()).onComplete(ar -> {
          if (ar.succeeded()) {
            json(ctx, 200, ar.result().body());
          } else {
            RestApi.error(ctx, ErrorCode.UNAVAILABLE, "fan-out not running");
          }
        }));
    BodyHandler body = BodyHandler.create().setBodyLimit(1024 * 1024);
    router.route("/v1/*").handler(ctx -> {
      ctx.put(RestApi.NODE, config.nodeName()); // for the request's log lines (ConnectionLog)
      body.handle(ctx);
    });
    if (config.devTokenEnabled()) {
      router.post("/v1/dev/token").handler(this::devToken);
    }
    new RestApi(auth, conversations, config).mount(router);
    if (devices != null) {
      devices.mount(router);
    }
    WebApp.mount(router);
    router.route().last().handler(ctx -> RestApi.error(ctx, ErrorCode.NOT_FOUND, "no such route"));
    origins = new Origins(g.allowedOrigins(), !config.clustered());

    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.httpHost())
        // http.port 0: any free port, the same for every instance (Vert.x shares one random port
        // between the servers listening on the same negative port; 0 would give each its own)
        .setPort(config.httpPort() == 0 ? -1 : config.httpPort())
        // Every request is answered on its connection's event loop (all storage adapters complete
        // on the caller's context), so Vert.x can write straight to the channel instead of giving
        // each HTTP connection an outbound queue: that queue's first chunk (1,024 slots) stayed
        // with every WebSocket, about 4.9 KB of heap per idle connection (docs/benchmarks.md).
        // Vert.x marks this option experimental; a write from another thread fails loudly.
        .setStrictThreadMode(true)
        .setTcpNoDelay(true);
    if (config.identity().tls()) {
      // https and wss on the one listener (HTTP/1.1: no ALPN, as WebSocket upgrades need HTTP/1.1);
      // the session's WsChannel sits after Netty's SslHandler, so the takeover works alike
      options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
          .setCertPath(config.identity().tlsCertFile()).setKeyPath(config.identity().tlsKeyFile()));
    }
    long sweep = Math.max(50, Math.min(5_000, config.idleTimeoutMs() / 4));
    vertx.setPeriodic(sweep, id -> sessions.sweepIdle(config.idleTimeoutMs()));
    vertx.setPeriodic(config.cluster().registryRefreshMs(), id -> sessions.heartbeat());
    Future<Void> deliveries = vertx.eventBus().<Deliveries>localConsumer(Addresses.NODE_DELIVERY, m -> sessions.deliver(m.body()))
        .completion()
        // an operator's disconnect (the bridge), from any node
        .compose(v -> vertx.eventBus().<String>consumer(Addresses.DISCONNECT_USER,
            m -> sessions.closeUser(m.body(), Session.CLOSE_OPERATOR, "disconnected by operator")).completion());
    // WebSocket upgrades bypass the router: the gateway answers the handshake itself and takes the
    // connection's channel over (see upgrade)
    return deliveries.compose(v -> vertx.createHttpServer(options).requestHandler(req -> {
          if (!wellFormedQuery(req)) {
            // decoding it later would throw, unanswered, and Vert.x would log the whole URI: the token too
            reject(req, ErrorCode.BAD_REQUEST, "malformed query string");
          } else if (req.method() == HttpMethod.GET && WS_PATH.equals(req.path())) {
            if (!overIpLimit(req, ipLimits.handshake(req.remoteAddress()))) {
              upgrade(req);
            } else {
              metrics.handshake(false);
            }
          } else if (req.path().startsWith("/v1/")) {
            if (!overIpLimit(req, ipLimits.rest(req.remoteAddress()))) {
              router.handle(req);
            }
          } else {
            router.handle(req); // /health/* is not limited: a load balancer's probes must not mark the node down
          }
        }).listen())
        .onSuccess(s -> server = s);
  }

  /** The port the server listens on (the one chosen for {@code http.port} 0); valid once started. */
  public int actualPort() {
    return server.actualPort();
  }

  /**
   * Every HTTP route this gateway answers, as {@code "METHOD path"} ({@code "*"} for a route of every
   * method, a trailing {@code *} for a prefix, {@code "(any)"} for the catch-all): the router's, in
   * its order, and the WebSocket upgrade. Valid once started; the security tests check that each is
   * in their table.
   */
  public List<String> routes() {
    List<String> out = new ArrayList<>();
    out.add(HttpMethod.GET.name() + " " + WS_PATH);
    for (Route r : router.getRoutes()) {
      // a path with parameters is a regex route to vert.x, but getPath() gives it as written
      String path = r.getPath() == null ? "(any)" : r.getPath() + (r.isExactPath() ? "" : "*");
      Set<HttpMethod> methods = r.methods();
      if (methods == null || methods.isEmpty()) {
        out.add("* " + path);
      } else {
        methods.stream().map(HttpMethod::name).sorted().forEach(m -> out.add(m + " " + path));
      }
    }
    return out;
  }

  static int transportFrameLimit(int frameMaxBytes) {
    return (int) Math.min(Integer.MAX_VALUE / 2, Math.max(1L << 20, 4L * frameMaxBytes));
  }

  private void forget(Session s) {
    sessions.remove(s);
    if (drained != null && sessions.size() == 0) {
      drained.tryComplete();
    }
  }

  /**
   * Begins this instance's drain, on its event loop: ready and new upgrades turn 503 at once, every
   * client gets a {@code reconnect} frame naming the window, and each session is let go
   * ({@link Session#leave}: no new send, closed with 1012 once its sends are answered) at its moment
   * of the {@link DrainSchedule}. Completes when the last session is gone; a second call joins the
   * first.
   */
  public Future<Void> drain(long windowMs) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      if (drained == null) {
        draining = true;
        drained = Promise.promise();
        Random random = new Random();
        List<Session> order = sessions.shuffled(random);
        long[] at = DrainSchedule.offsets(order.size(), windowMs, random);
        String notice = ServerFrames.reconnect("restart", windowMs);
        order.forEach(session -> session.write(notice));
        LOG.info("draining {} connections over {} ms", order.size(), windowMs);
        long start = System.nanoTime();
        int[] next = {0};
        Runnable due = () -> {
          long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
          while (next[0] < order.size() && at[next[0]] <= elapsed) {
            order.get(next[0]++).leave();
          }
        };
        due.run();
        if (next[0] < order.size()) {
          vertx.setPeriodic(DRAIN_TICK_MS, id -> {
            due.run();
            if (next[0] >= order.size()) {
              vertx.cancelTimer(id);
            }
          });
        }
        if (sessions.size() == 0) {
          drained.tryComplete();
        }
      }
      drained.future().onComplete(done);
    });
    return done.future();
  }

  /** Skips the rest of a drain's window: every session left is closed with 1012 now. */
  public void drainNow() {
    context.runOnContext(v -> {
      draining = true;
      sessions.closeAll(Session.CLOSE_RESTART, "server restart");
    });
  }

  @Override
  public Future<?> stop() {
    draining = true;
    loop.stop(); // its timer ends with this verticle: a stale one must not read as a loop behind
    sessions.closeAll(Session.CLOSE_RESTART, "server restart");
    return server == null ? Future.succeededFuture() : server.close();
  }

  /**
   * Answers a WebSocket handshake (RFC 6455 §4.2) and turns the connection into a {@link Session}.
   * Vert.x parses the request and writes the 101 answer; then its HTTP handlers leave the channel
   * ({@link ChannelTakeover}) and the session's {@link WsChannel} takes the place of the plain socket
   * Vert.x puts there. No extension is negotiated, so frames are never compressed: JSON frames of
   * a few hundred bytes gain little and a deflate context costs every connection tens of KiB.
   */
  private void upgrade(HttpServerRequest req) {
    if (draining) {
      refuse(req, ErrorCode.UNAVAILABLE, "server is restarting");
      return;
    }
    String key = req.getHeader("Sec-WebSocket-Key");
    if (!req.canUpgradeToWebSocket() || key == null || key.isBlank()) {
      refuse(req, ErrorCode.BAD_REQUEST, "WebSocket upgrade required");
      return;
    }
    if (!"13".equals(req.getHeader("Sec-WebSocket-Version"))) {
      req.response().putHeader("Sec-WebSocket-Version", "13");
      refuse(req, 426, ErrorCode.BAD_REQUEST.wire(), "WebSocket version 13 required");
      return;
    }
    if (!origins.allows(req.getHeader("Origin"), req.getHeader("Host"),
        config.identity().tls())) {
      ConnectionLog.fields(LOG.atDebug(), config.nodeName(), null, null)
          .log("handshake from {} refused: origin {} not allowed", req.remoteAddress(), req.getHeader("Origin"));
      reject(req, ErrorCode.FORBIDDEN, "origin not allowed (http.allowed_origins)");
      return;
    }
    String device = req.getParam("device", "default");
    if (!ClientFrame.DEVICE_ID.matcher(device).matches()) {
      refuse(req, ErrorCode.BAD_REQUEST, "device must match [A-Za-z0-9_-]{1,64}");
      return;
    }
    req.pause();
    auth.identify(req).onComplete(ar -> {
      if (ar.failed()) {
        ConnectionLog.fields(LOG.atDebug(), config.nodeName(), null, device)
            .log("handshake from {} refused: {}", req.remoteAddress(), ar.cause().getMessage());
        refuse(req, 401, "unauthorized", ar.cause().getMessage());
        return;
      }
      if (draining) {
        refuse(req, ErrorCode.UNAVAILABLE, "server is restarting");
        return;
      }
      req.response()
          .putHeader("Upgrade", "websocket")
          .putHeader("Connection", "Upgrade")
          .putHeader("Sec-WebSocket-Accept", acceptKey(key.trim()));
      ChannelTakeover.take(req).onComplete(nr -> {
        if (nr.failed()) {
          ConnectionLog.fields(LOG.atDebug(), config.nodeName(), ar.result().user(), device)
              .log("upgrade failed: {}", nr.cause().toString());
          return;
        }
        ChannelHandlerContext socket = nr.result();
        if (!socket.channel().isActive()) {
          // the client left during the handshake: its close was handled before a session could
          // see it, so none is made (it would stay registered with nothing to remove it)
          return;
        }
        String id = ConnectionIds.of(config.nodeName(), CONNECTION_SEQ.incrementAndGet(), device);
        String user = ar.result().user();
        Session session = new Session(id, user, sessionSettings, syncSettings, sendSettings,
            listener -> WsChannel.attach(socket.pipeline(), socket.name(), listener, socketSettings, flusher::add));
        if (ar.result().expiresAtMs() > 0) {
          session.expiresAt = ar.result().expiresAtMs();
        }
        sessions.add(session);
        metrics.handshake(true);
        session.start();
        ConnectionLog.connection(LOG.atDebug(), config.nodeName(), user, id).log("connected {} from {}", id,
            socket.channel().remoteAddress());
        if (emails != null) {
          emails.connected(user, ar.result().email());
        }
      });
    });
  }

  /**
   * Answers 429 {@code rate_limited} with {@code Retry-After} when the client's address is over its
   * bucket ({@code retryAfterSeconds} > 0), before anything else is done for the request: no token
   * is checked and no upgrade begun.
   */
  /** Refuses a WebSocket handshake ({@code parley_handshakes_total{result="rejected"}}). */
  private void refuse(HttpServerRequest req, ErrorCode code, String message) {
    refuse(req, code.httpStatus(), code.wire(), message);
  }

  private void refuse(HttpServerRequest req, int status, String code, String message) {
    metrics.handshake(false);
    reject(req, status, code, message);
  }

  private static boolean overIpLimit(HttpServerRequest req, long retryAfterSeconds) {
    if (retryAfterSeconds <= 0) {
      return false;
    }
    req.response().putHeader("Retry-After", Long.toString(retryAfterSeconds));
    reject(req, ErrorCode.RATE_LIMITED, "too many requests from this address, retry after " + retryAfterSeconds + " s");
    return true;
  }

  /** Whether the query string decodes (a {@code %} escape that is not one fails); decoded once, kept by the request. */
  private static boolean wellFormedQuery(HttpServerRequest req) {
    try {
      req.params();
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** {@code Sec-WebSocket-Accept} for a client's key (RFC 6455 §4.2.2). */
  static String acceptKey(String key) {
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      byte[] digest = sha1.digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is required of every JVM", e);
    }
  }

  private void devToken(RoutingContext ctx) {
    JsonObject body = RestApi.bodyObject(ctx);
    if (body == null) {
      return;
    }
    Object user = body.getValue("user");
    if (!(user instanceof String u) || !ClientFrame.validUser(u)) {
      RestApi.error(ctx, ErrorCode.BAD_REQUEST, "'user' must match [A-Za-z0-9_.-]{1,64}");
      return;
    }
    Object email = body.getValue("email");
    if (email != null && !ConnectEmails.valid(email)) {
      RestApi.error(ctx, ErrorCode.BAD_REQUEST, "'email' must be an email address of at most 254 characters");
      return;
    }
    json(ctx, 200, new JsonObject().put("token", auth.issue(u, (String) email, config.devTokenTtlSeconds())));
  }

  private static void reject(HttpServerRequest req, ErrorCode code, String message) {
    reject(req, code.httpStatus(), code.wire(), message);
  }

  private static void reject(HttpServerRequest req, int status, String code, String message) {
    if (!req.response().ended()) {
      req.response().setStatusCode(status).putHeader("content-type", "application/json")
          .end(RestApi.errorBody(code, message).encode());
    }
  }

  static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
  }
}
