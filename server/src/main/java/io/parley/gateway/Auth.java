package io.parley.gateway;

import io.parley.protocol.ClientFrame;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

/**
 * JWT (HS256) authentication: {@code sub} is the user id, {@code exp} is honoured, and an optional
 * {@code email} claim is the address push digests go to ({@link Identity}).
 */
public final class Auth {
  static final String EMAIL_CLAIM = "email";
  private final JWTAuth jwt;

  public Auth(Vertx vertx, String secret) {
    this.jwt = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret))
        .setJWTOptions(new JWTOptions().setAlgorithm("HS256")));
  }

  /** The user id of a request's token (header {@code Authorization: Bearer} or query {@code access_token}). */
  public Future<String> authenticate(HttpServerRequest req) {
    return identify(req).map(Identity::user);
  }

  /** The user and email claim of a request's token (header {@code Authorization: Bearer} or query {@code access_token}). */
  public Future<Identity> identify(HttpServerRequest req) {
    String token = tokenOf(req);
    return token == null ? unauthorized("missing bearer token") : identify(token);
  }

  /** The user and email claim of a token. */
  public Future<Identity> identify(String token) {
    return jwt.authenticate(new TokenCredentials(token))
        .recover(e -> unauthorized("invalid or expired token"))
        .compose(user -> {
          String sub = user.principal().getString("sub");
          return ClientFrame.validUser(sub)
              ? Future.succeededFuture(new Identity(sub, user.principal().getValue(EMAIL_CLAIM), expiresAtMs(user)))
              : unauthorized("token subject is not a user id");
        });
  }

  public String issue(String user, int ttlSeconds) {
    return issue(user, null, ttlSeconds);
  }

  /** A token for {@code user}, with an {@code email} claim unless {@code email} is null. */
  public String issue(String user, String email, int ttlSeconds) {
    JsonObject claims = new JsonObject().put("sub", user);
    if (email != null) {
      claims.put(EMAIL_CLAIM, email);
    }
    return jwt.generateToken(claims, new JWTOptions().setAlgorithm("HS256").setExpiresInSeconds(ttlSeconds));
  }

  /**
   * Who a token is for.
   *
   * @param user the {@code sub} claim, a valid user id
   * @param email the {@code email} claim as the token has it (any JSON value), null when absent;
   *     not validated here ({@link ConnectEmails#valid})
   * @param expiresAtMs the {@code exp} claim in epoch milliseconds, 0 when the token has none
   */
  public record Identity(String user, Object email, long expiresAtMs) {}

  /** The token's {@code exp} in epoch ms (vertx-auth-jwt copies it into the user's attributes), 0 when none. */
  private static long expiresAtMs(User user) {
    Object exp = user.attributes().getValue("exp");
    if (!(exp instanceof Number)) {
      exp = user.principal().getValue("exp");
    }
    return exp instanceof Number n ? n.longValue() * 1000 : 0;
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
