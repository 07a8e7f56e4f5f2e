package io.parley.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * The web app, served from the jar's {@code webroot/}: the page at {@code /}, its modules and
 * styles under {@code /app/}, and the JavaScript SDK's modules under {@code /sdk/} (copied from
 * clients/js/src by the build). Every answer carries the headers a browser needs to keep the app's
 * pages from running anything but the app's own scripts or being framed by another site.
 */
public final class WebApp {
  /**
   * Only the app's own scripts, styles and images; REST and the WebSocket to this origin only
   * ('self' covers ws: and wss: to the same host and port); no frames, plugins or base URL.
   */
  public static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src 'self'; worker-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; "
      + "frame-ancestors 'none'; object-src 'none'";

  private WebApp() {}

  /** Adds {@code GET /}, {@code GET /app/*} and {@code GET /sdk/*} to the router. */
  public static void mount(Router router) {
    router.get("/").handler(WebApp::headers).handler(files("webroot"));
    router.get("/app/*").handler(WebApp::headers).handler(files("webroot/app"));
    router.get("/sdk/*").handler(WebApp::headers).handler(files("webroot/sdk"));
  }

  private static Handler<RoutingContext> files(String root) {
    // no long caching: a new jar's app must not run against a cached copy of the old SDK
    return StaticHandler.create(root).setCachingEnabled(false).setDirectoryListing(false).setIncludeHidden(false);
  }

  private static void headers(RoutingContext ctx) {
    ctx.response().headers()
        .set("Content-Security-Policy", CSP)
        .set("X-Content-Type-Options", "nosniff")
        .set("Referrer-Policy", "no-referrer")
        .set("X-Frame-Options", "DENY")
        .set("Cross-Origin-Opener-Policy", "same-origin")
        .set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
    ctx.next();
  }
}
