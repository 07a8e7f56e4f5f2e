package io.parley.push;

import io.parley.push.ProviderSender.Kind;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Firebase Cloud Messaging on the Vert.x HTTP client: the HTTP v1 API's
 * {@code POST {push.fcm.base_url}/v1/projects/{project}/messages:send} with
 * {@code {"message":{"token","data","android":{"collapse_key","priority","ttl"}}}}. The data
 * message carries the {@link PushPayload} fields, every value as a string (FCM's {@code data} is
 * a map of strings), {@code from} as {@code sender} (FCM refuses the data keys {@code from},
 * {@code message_type} and those starting with {@code google} or {@code gcm}); {@code collapse_key} is the conversation ({@code c<conv>}), so a device keeps
 * one pending message per conversation; priority {@code high}, kept a day while the device is off.
 *
 * <p>Authorization is an OAuth2 access token from the service account ({@link FcmServiceAccount}):
 * the JWT-bearer grant (RFC 7523) to its {@code token_uri}, the assertion an RS256 JWT
 * ({@code iss} = {@code client_email}, {@code scope} = {@value #SCOPE}, {@code aud} = the token
 * URI, {@code exp} = {@code iat} + 1 h) signed with vertx-auth-jwt. The token is cached until
 * {@value #RENEW_BEFORE_MS} ms before its {@code expires_in} (half of it when that is shorter), and
 * one refresh is in flight at a time: sends that need a token meanwhile wait for that one.
 *
 * <p>Answers: 2xx accepted; 404 {@code UNREGISTERED}, or 400 {@code INVALID_ARGUMENT} whose field
 * violation is {@code message.token} (a token FCM says is not one), are {@link Outcome#GONE}; 401
 * (the access token was revoked or expired early) drops the cached token, obtains a new one and
 * retries once (a second 401 is {@link Kind#RETRY}). 429 {@code QUOTA_EXCEEDED} is {@link Kind#THROTTLED} and
 * 5xx {@link Kind#RETRY}, both with FCM's {@code Retry-After}; other answers are {@link Kind#REFUSED}.
 */
public final class FcmSender implements ProviderSender {
  private static final Logger LOG = LoggerFactory.getLogger(FcmSender.class);
  static final String SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
  static final String GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer";
  static final long ASSERTION_LIFETIME_S = 3600;
  static final long RENEW_BEFORE_MS = 60_000;
  static final int TTL_S = 86_400;

  private final Vertx vertx;
  private final HttpClient http;
  private final FcmServiceAccount account;
  private final JWTAuth signer;
  private final String sendUri;
  private final LongSupplier clock;
  private AccessToken cached;
  private Promise<AccessToken> refreshing;

  /** An access token and when to stop using it (epoch millis of the sender's clock). */
  private record AccessToken(String value, long renewAt) {}

  private record Answer(int status, Buffer body, String retryAfter) {}

  /**
   * @param connections the most connections to FCM ({@code push.fcm.in_flight_max}: one request per
   *     HTTP/1.1 connection at a time; the client's default of 5 would cap FCM at 5 requests in flight)
   */
  public FcmSender(Vertx vertx, FcmServiceAccount account, String baseUrl, int connections) {
    this(vertx, account, baseUrl, System::currentTimeMillis, connections);
  }

  /** @param clock epoch millis: the assertion's {@code iat} and the token's expiry are read on it */
  FcmSender(Vertx vertx, FcmServiceAccount account, String baseUrl, LongSupplier clock) {
    this(vertx, account, baseUrl, clock, 8);
  }

  private FcmSender(Vertx vertx, FcmServiceAccount account, String baseUrl, LongSupplier clock, int connections) {
    this.vertx = vertx;
    this.http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(connections));
    this.account = account;
    this.signer = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256").setBuffer(account.privateKeyPem())));
    this.sendUri = baseUrl + "/v1/projects/" + account.projectId() + "/messages:send";
    this.clock = clock;
  }

  @Override
  public String provider() {
    return PushRegistration.FCM;
  }

  @Override
  public Future<Outcome> send(PushRegistration device, long conv, String payload) {
    Buffer body;
    try {
      body = message(device.address(), conv, payload).toBuffer();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    if (Vertx.currentContext() != null) {
      return attempt(body, true);
    }
    // a caller off Vert.x (a test, a tool): run the exchange on one event-loop context, so each
    // response's body is read on the thread its connection delivers it on
    Promise<Outcome> outcome = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> attempt(body, true).onComplete(outcome));
    return outcome.future();
  }

  /**
   * The request body: {@code payload}'s fields as FCM data (strings; {@code from} renamed
   * {@code sender}), collapsed per conversation.
   */
  static JsonObject message(String token, long conv, String payload) {
    JsonObject data = new JsonObject();
    new JsonObject(payload).forEach(e -> {
      if (e.getValue() != null) {
        String key = "from".equals(e.getKey()) ? "sender" : e.getKey(); // FCM reserves "from" in data
        data.put(key, e.getValue() instanceof String s ? s : String.valueOf(e.getValue()));
      }
    });
    return new JsonObject().put("message", new JsonObject()
        .put("token", token)
        .put("data", data)
        .put("android", new JsonObject().put("collapse_key", "c" + conv).put("priority", "high").put("ttl", TTL_S + "s")));
  }

  private Future<Outcome> attempt(Buffer body, boolean mayRetry) {
    return accessToken().compose(token -> post(token, body).compose(answer -> {
      if (answer.status == 401 && mayRetry) {
        forget(token);
        return attempt(body, false);
      }
      Outcome outcome = outcome(answer.status, answer.body, RetryAfter.millis(answer.retryAfter, clock.getAsLong()));
      if (!outcome.is(Kind.ACCEPTED)) {
        LOG.debug("FCM answered {} {}", answer.status, errorStatus(answer.body));
      }
      return Future.succeededFuture(outcome);
    }));
  }

  private Future<Answer> post(String token, Buffer body) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(sendUri)
        .setConnectTimeout(5_000).setIdleTimeout(10_000)
        .putHeader("Authorization", "Bearer " + token)
        .putHeader("Content-Type", "application/json; charset=UTF-8");
    return http.request(options).compose(req -> req.send(body))
        .compose(resp -> resp.body().map(b -> new Answer(resp.statusCode(), b, resp.getHeader("Retry-After"))));
  }

  static Outcome outcome(int status, Buffer body, long retryAfterMs) {
    if (status >= 200 && status < 300) {
      return Outcome.ACCEPTED;
    }
    JsonArray details = details(body);
    String reason = errorStatus(body);
    if (status == 404 && hasFcmErrorCode(details, "UNREGISTERED")) {
      return Outcome.of(Kind.GONE, status, "UNREGISTERED");
    }
    if (status == 400 && violatesToken(details)) {
      return Outcome.of(Kind.GONE, status, "INVALID_ARGUMENT message.token");
    }
    if (status == 404) {
      return Outcome.of(Kind.REFUSED, status, reason); // a wrong project, not a dead token
    }
    if (status == 401) {
      return Outcome.of(Kind.RETRY, status, retryAfterMs, reason); // refused twice: a later token may do
    }
    return Outcome.ofStatus(status, retryAfterMs, reason);
  }

  /** {@code error.details} of a Google API error body; empty when the body is not one. */
  private static JsonArray details(Buffer body) {
    try {
      JsonObject error = body.toJsonObject().getJsonObject("error");
      JsonArray details = error == null ? null : error.getJsonArray("details");
      return details == null ? new JsonArray() : details;
    } catch (DecodeException | ClassCastException e) {
      return new JsonArray();
    }
  }

  private static boolean hasFcmErrorCode(JsonArray details, String code) {
    return details.stream().anyMatch(d -> d instanceof JsonObject o
        && "type.googleapis.com/google.firebase.fcm.v1.FcmError".equals(o.getString("@type"))
        && code.equals(o.getString("errorCode")));
  }

  /** A {@code google.rpc.BadRequest} detail naming {@code message.token}: the token is malformed. */
  private static boolean violatesToken(JsonArray details) {
    return details.stream().anyMatch(d -> d instanceof JsonObject o
        && "type.googleapis.com/google.rpc.BadRequest".equals(o.getString("@type"))
        && o.getValue("fieldViolations") instanceof JsonArray violations
        && violations.stream().anyMatch(v -> v instanceof JsonObject vo && "message.token".equals(vo.getString("field"))));
  }

  private static String errorStatus(Buffer body) {
    try {
      JsonObject error = body.toJsonObject().getJsonObject("error");
      return error == null ? "" : error.getString("status", "");
    } catch (DecodeException | ClassCastException e) {
      return "";
    }
  }

  /**
   * The cached access token, or the one being obtained (at most one request in flight). The lock
   * guards the two fields only: nothing calls out while holding it.
   */
  Future<String> accessToken() {
    Promise<AccessToken> mine;
    synchronized (this) {
      if (cached != null && clock.getAsLong() < cached.renewAt) {
        return Future.succeededFuture(cached.value);
      }
      if (refreshing != null) {
        return refreshing.future().map(AccessToken::value);
      }
      mine = Promise.promise();
      refreshing = mine;
    }
    fetchToken().onComplete(ar -> {
      synchronized (this) {
        refreshing = null;
        if (ar.succeeded()) {
          cached = ar.result();
        }
      }
      mine.handle(ar);
    });
    return mine.future().map(AccessToken::value);
  }

  /** The provider refused {@code token}: the next send obtains another (unless one replaced it already). */
  private synchronized void forget(String token) {
    if (cached != null && cached.value.equals(token)) {
      cached = null;
    }
  }

  private Future<AccessToken> fetchToken() {
    long now = clock.getAsLong();
    String form;
    try {
      form = "grant_type=" + URLEncoder.encode(GRANT_TYPE, StandardCharsets.UTF_8)
          + "&assertion=" + URLEncoder.encode(assertion(now / 1000), StandardCharsets.UTF_8);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(account.tokenUri())
        .setConnectTimeout(5_000).setIdleTimeout(10_000)
        .putHeader("Content-Type", "application/x-www-form-urlencoded")
        .putHeader("Accept", "application/json");
    return http.request(options).compose(req -> req.send(form))
        .compose(resp -> resp.body().map(b -> accessToken(resp.statusCode(), b, now)));
  }

  /** The RS256 assertion of the JWT-bearer grant, issued at {@code iat} (epoch seconds). */
  String assertion(long iat) {
    JsonObject claims = new JsonObject()
        .put("iss", account.clientEmail())
        .put("scope", SCOPE)
        .put("aud", account.tokenUri())
        .put("iat", iat)
        .put("exp", iat + ASSERTION_LIFETIME_S);
    return signer.generateToken(claims, new JWTOptions().setAlgorithm("RS256").setNoTimestamp(true));
  }

  private static AccessToken accessToken(int status, Buffer body, long requestedAt) {
    JsonObject json;
    try {
      json = body.toJsonObject();
    } catch (DecodeException e) {
      json = new JsonObject();
    }
    if (status != 200 || !(json.getValue("access_token") instanceof String token) || token.isEmpty()) {
      // the OAuth2 error and its description, never the request (it holds the signed assertion)
      throw new IllegalStateException("FCM token endpoint answered " + status + " " + json.getString("error", "")
          + " " + json.getString("error_description", ""));
    }
    long lifetimeMs = json.getValue("expires_in") instanceof Number n ? n.longValue() * 1000 : ASSERTION_LIFETIME_S * 1000;
    return new AccessToken(token, requestedAt + Math.max(lifetimeMs - RENEW_BEFORE_MS, lifetimeMs / 2));
  }

  public Future<Void> close() {
    return http.close();
  }
}
