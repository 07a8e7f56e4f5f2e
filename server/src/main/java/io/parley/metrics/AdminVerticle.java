package io.parley.metrics;

import io.parley.config.AdminSettings;
import io.parley.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The operator's listener ({@code admin.host}:{@code admin.port}, loopback by default), apart from
 * the public one so that a scraper never shares the clients' port or per-IP limits:
 * {@code GET /metrics} in Prometheus text format (the node's {@link NodeMetrics} registry, Vert.x's
 * and the JVM's meters included), and, when {@code admin.token} is set, {@code POST /admin/drain}
 * with {@code Authorization: Bearer <admin.token>}: the node drains and stops as on SIGTERM (202;
 * 401 without the token). Any other path, or {@code /metrics} with metrics off, answers 404 with the
 * public listener's JSON error body. {@link #start()} completes once it listens.
 */
public final class AdminVerticle extends VerticleBase {
  /** The exposition formats' content types (the Prometheus client's writers, a runtime dependency only). */
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
  static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";
  private final AdminSettings settings;
  private final NodeMetrics metrics;
  private final Runnable drain;
  private boolean draining;
  private HttpServer server;

  public AdminVerticle(AdminSettings settings, NodeMetrics metrics) {
    this(settings, metrics, null);
  }

  /** @param drain what {@code POST /admin/drain} sets going (once); null: no such action */
  public AdminVerticle(AdminSettings settings, NodeMetrics metrics, Runnable drain) {
    this.settings = settings;
    this.metrics = metrics;
    this.drain = drain;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    metrics.prometheus().ifPresent(p -> router.get("/metrics").handler(ctx -> scrape(ctx, p)));
    if (settings.actions() && drain != null) {
      router.post("/admin/drain").handler(this::drain);
    }
    router.route().last().handler(AdminVerticle::notFound);
    return vertx.createHttpServer(new HttpServerOptions().setHost(settings.host()).setPort(settings.port()))
        .requestHandler(router).listen().onSuccess(s -> server = s);
  }

  /** The port the listener bound. */
  public int actualPort() {
    return server.actualPort();
  }

  /**
   * Writes the scrape, made on a worker thread: this verticle's event loop is one the gateways and
   * routing share (one core: two loops for everything), and a scrape of every meter is milliseconds
   * of work that must not hold their sockets. (vertx-micrometer's {@code PrometheusScrapingHandler}
   * scrapes on the event loop.) OpenMetrics when the scraper asks for it, else Prometheus text.
   */
  private void scrape(RoutingContext ctx, PrometheusMeterRegistry registry) {
    String accept = ctx.request().getHeader("Accept");
    String type = accept != null && accept.contains("application/openmetrics-text")
        ? OPEN_METRICS : PROMETHEUS_TEXT;
    vertx.executeBlocking(() -> registry.scrape(type), false).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
      } else {
        ctx.response().putHeader("content-type", type).end(ar.result());
      }
    });
  }

  /** {@code POST /admin/drain}: the token checked in constant time, then the drain begun once. */
  private void drain(RoutingContext ctx) {
    String auth = ctx.request().getHeader("Authorization");
    byte[] given = (auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : "").getBytes(StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(given, settings.token().getBytes(StandardCharsets.UTF_8))) {
      ctx.response().setStatusCode(401).putHeader("content-type", "application/json")
          .end(new JsonObject().put("error", new JsonObject().put("code", "unauthorized")
              .put("message", "POST /admin/drain needs Authorization: Bearer <admin.token>")).encode());
      return;
    }
    boolean first = !draining;
    draining = true;
    ctx.response().setStatusCode(202).putHeader("content-type", "application/json")
        .end(new JsonObject().put("status", first ? "draining" : "already draining").encode());
    if (first) {
      drain.run();
    }
  }

  private static void notFound(RoutingContext ctx) {
    ctx.response().setStatusCode(404).putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", new JsonObject().put("code", ErrorCode.NOT_FOUND.wire())
            .put("message", "no such route")).encode());
  }
}
