package io.parley.gateway;

import io.parley.protocol.ClientFrame;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

/** JWT (HS256) authentication: {@code sub} is the user id, {@code exp} is honoured. */
public final class Auth {
  private final JWTAuth jwt;

  public Auth(Vertx vertx, String secret) {
    this.jwt = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret))
        .setJWTOptions(new JWTOptions().setAlgorithm("HS256")));
  }

  /** The user id of a request's token (header {@code Authorization: Bearer} or query {@code access_token}). */
  public Future<String> authenticate(HttpServerRequest req) {
    String token = tokenOf(req);
    if (token == null) {
      return unauthorized("missing bearer token");
    }
    return jwt.authenticate(new TokenCredentials(token))
        .recover(e -> unauthorized("invalid or expired token"))
        .compose(user -> {
          String sub = user.principal().getString("sub");
          return ClientFrame.validUser(sub) ? Future.succeededFuture(sub) : unauthorized("token subject is not a user id");
        });
  }

  public String issue(String user, int ttlSeconds) {
    return jwt.generateToken(new JsonObject().put("sub", user),
        new JWTOptions().setAlgorithm("HS256").setExpiresInSeconds(ttlSeconds));
  }

  private static String tokenOf(HttpServerRequest req) {
    String header = req.getHeader("Authorization");
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return header.substring(7).trim();
    }
    String q = req.getParam("access_token");
    return q == null || q.isEmpty() ? null : q;
  }

  private static <T> Future<T> unauthorized(String message) {
    return Future.failedFuture(new Unauthorized(message));
  }

  /** Authentication failed: HTTP 401. */
  public static final class Unauthorized extends RuntimeException {
    Unauthorized(String message) {
      super(message, null, false, false);
    }
  }
}
