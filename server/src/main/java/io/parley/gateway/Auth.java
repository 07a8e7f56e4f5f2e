package io.parley.gateway;

import io.parley.config.IdentitySettings;
import io.parley.protocol.ClientFrame;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JWT authentication: HS256 with the server's secret, and, with {@code auth.jwks_url}, RS256 and
 * ES256 verified against the identity provider's keys ({@link JwksKeys}: cached, fetched again when a
 * token names an unknown {@code kid}, at most once a minute). {@code sub} is the user id, {@code exp}
 * is honoured, {@code iss} and {@code aud} must match {@code auth.issuer} and {@code auth.audience}
 * when those are set, and an optional {@code email} claim is the address push digests go to
 * ({@link Identity}). Verification runs on the caller's event loop (one signature check); only a
 * key-set fetch waits, and its answer comes back on the caller's context.
 */
public final class Auth {
  static final String EMAIL_CLAIM = "email";
  private static final Logger LOG = LoggerFactory.getLogger(Auth.class);
  private final Vertx vertx;
  private final String secret;
  private final String issuer;
  private final List<String> audiences;
  private final JwksKeys jwks;
  /** Verifies with the secret and the key set last fetched; replaced when the key set changes. */
  private volatile JWTAuth jwt;

  public Auth(Vertx vertx, String secret) {
    this(vertx, secret, IdentitySettings.DEFAULTS);
  }

  public Auth(Vertx vertx, String secret, IdentitySettings identity) {
    this(vertx, secret, identity, System::currentTimeMillis);
  }

  /** {@code clockMs}: the time {@link JwksKeys} spaces its fetches by. */
  Auth(Vertx vertx, String secret, IdentitySettings identity, LongSupplier clockMs) {
    this.secret = secret;
    this.issuer = identity.issuer();
    this.audiences = identity.audiences();
    this.vertx = vertx;
    this.jwt = provider(List.of());
    this.jwks = identity.jwksUrl().isEmpty() ? null
        : new JwksKeys(vertx, identity.jwksUrl(), clockMs, keys -> jwt = provider(keys));
  }

  /**
   * Fetches the key set once (with {@code auth.jwks_url}); a failure is logged, not fatal: the node
   * starts, HS256 tokens work, and the first token naming a key fetches again (a minute later at most).
   */
  public Future<Void> start() {
    return jwks == null ? Future.succeededFuture() : jwks.refresh().mapEmpty();
  }

  private JWTAuth provider(List<JsonObject> keys) {
    JWTAuthOptions options = new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret))
        .setJWTOptions(new JWTOptions().setAlgorithm("HS256"));
    keys.forEach(options::addJwk);
    return JWTAuth.create(vertx, options);
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
    String kid = unknownKid(token);
    Future<User> verified;
    if (kid == null && (jwks == null || !jwks.stale())) {
      verified = jwt.authenticate(new TokenCredentials(token));
    } else {
      // a key the cache does not have, or a key set an hour old: fetch it (unless fetched within the
      // minute), then verify
      Context caller = Vertx.currentContext();
      Promise<User> onCaller = Promise.promise();
      jwks.refresh().onComplete(ar -> {
        // the verifier has the new keys by now (JwksKeys' onChange); a failed or skipped fetch leaves it
        Runnable verify = () -> jwt.authenticate(new TokenCredentials(token)).onComplete(onCaller);
        if (caller == null) {
          verify.run();
        } else {
          caller.runOnContext(v -> verify.run());
        }
      });
      verified = onCaller.future();
    }
    return verified
        .recover(e -> unauthorized("invalid or expired token"))
        .compose(user -> {
          JsonObject claims = user.principal();
          String sub = claims.getString("sub");
          if (!ClientFrame.validUser(sub)) {
            return unauthorized("token subject is not a user id");
          }
          if (!issuer.isEmpty() && !issuer.equals(claims.getValue("iss"))) {
            return unauthorized("token issuer not accepted");
          }
          if (!audiences.isEmpty() && !acceptedAudience(claims.getValue("aud"))) {
            return unauthorized("token audience not accepted");
          }
          return Future.succeededFuture(new Identity(sub, claims.getValue(EMAIL_CLAIM), expiresAtMs(user)));
        });
  }

  /**
   * The {@code kid} of a token signed with RS256 or ES256 when the key set does not have it (so a
   * fetch may help), else null (no JWKS, another algorithm, no kid, a known kid, or a header that
   * does not parse: the verification proper rejects what is wrong).
   */
  private String unknownKid(String token) {
    if (jwks == null) {
      return null;
    }
    int dot = token.indexOf('.');
    if (dot <= 0) {
      return null;
    }
    try {
      JsonObject header = new JsonObject(new String(Base64.getUrlDecoder().decode(token.substring(0, dot)),
          StandardCharsets.UTF_8));
      String alg = header.getString("alg");
      String kid = header.getString("kid");
      return kid != null && ("RS256".equals(alg) || "ES256".equals(alg)) && !jwks.knows(kid) ? kid : null;
    } catch (RuntimeException e) {
      LOG.debug("token header does not parse: {}", e.toString());
      return null;
    }
  }

  /** {@code aud} is a string or an array of strings (RFC 7519 §4.1.3); one must be accepted. */
  private boolean acceptedAudience(Object aud) {
    if (aud instanceof String s) {
      return audiences.contains(s);
    }
    if (aud instanceof JsonArray a) {
      for (Object o : a) {
        if (o instanceof String s && audiences.contains(s)) {
          return true;
        }
      }
    }
    return false;
  }

  public String issue(String user, int ttlSeconds) {
    return issue(user, null, ttlSeconds);
  }

  /**
   * An HS256 token for {@code user}, with an {@code email} claim unless {@code email} is null, and the
   * configured issuer and first audience, so the server's own tokens pass its checks.
   */
  public String issue(String user, String email, int ttlSeconds) {
    JsonObject claims = new JsonObject().put("sub", user);
    if (!issuer.isEmpty()) {
      claims.put("iss", issuer);
    }
    if (!audiences.isEmpty()) {
      claims.put("aud", audiences.get(0));
    }
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
