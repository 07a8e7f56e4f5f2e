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
import io.vertx.micrometer.PrometheusScrapingHandler;

/**
 * The operator's listener ({@code admin.host}:{@code admin.port}, loopback by default), apart from
 * the public one so that a scraper never shares the clients' port or per-IP limits:
 * {@code GET /metrics} in Prometheus text format (the node's {@link NodeMetrics} registry, Vert.x's
 * and the JVM's meters included); any other path, or {@code /metrics} with metrics off, answers 404
 * with the public listener's JSON error body. {@link #start()} completes once it listens.
 */
public final class AdminVerticle extends VerticleBase {
  private final AdminSettings settings;
  private final NodeMetrics metrics;
  private HttpServer server;

  public AdminVerticle(AdminSettings settings, NodeMetrics metrics) {
    this.settings = settings;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    // the scrape runs on this verticle's event loop: a few ms every scrape interval
    metrics.prometheus().ifPresent(p -> router.get("/metrics").handler(PrometheusScrapingHandler.create(p)));
    router.route().last().handler(AdminVerticle::notFound);
    return vertx.createHttpServer(new HttpServerOptions().setHost(settings.host()).setPort(settings.port()))
        .requestHandler(router).listen().onSuccess(s -> server = s);
  }

  /** The port the listener bound. */
  public int actualPort() {
    return server.actualPort();
  }

  private static void notFound(RoutingContext ctx) {
    ctx.response().setStatusCode(404).putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", new JsonObject().put("code", ErrorCode.NOT_FOUND.wire())
            .put("message", "no such route")).encode());
  }
}
