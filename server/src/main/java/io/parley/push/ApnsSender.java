package io.parley.push;

import io.parley.config.PushSettings;
import io.parley.push.ProviderSender.Kind;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.util.Set;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Apple Push Notification service on the Vert.x HTTP client: HTTP/2 over TLS (ALPN {@code h2},
 * hostname verified), {@code POST {base}/3/device/{token}}, where base is
 * {@code push.apns.base_url}, or {@code push.apns.sandbox_base_url} for a registration with
 * {@code sandbox: true}. Headers: {@code apns-topic} (the registration's topic, else
 * {@code push.apns.topic}), {@code apns-push-type: alert}, {@code apns-priority: 10},
 * {@code apns-expiration} a day from now, and {@code apns-collapse-id: c<conv>}, so a device shows
 * one entry per conversation. The body ({@link #body}):
 * {@code {"aps":{"alert":{"title":<from>,"body":<preview, or "New message" / "N new messages">},
 * "badge":<badge, when the payload has one>,"sound":"default","thread-id":"c<conv>",
 * "mutable-content":1}, …the payload's fields}}; {@code mutable-content} lets the app's
 * notification service extension replace the text (e.g. after fetching and decrypting the message).
 *
 * <p>Token-based authentication: an ES256 JWT ({@code kid} = key id; {@code iss} = team id,
 * {@code iat}) signed with the {@code .p8} key by vertx-auth-jwt, sent as
 * {@code authorization: bearer <jwt>}. One token serves every send for {@value #RENEW_AFTER_MS} ms
 * (APNs refuses tokens older than an hour, and answers 429 {@code TooManyProviderTokenUpdates}
 * to a provider that changes its token more often than every 20 minutes); it is made on the
 * caller's thread under a lock, so there is one at a time. Neither the key nor the token is logged.
 *
 * <p>Answers (Apple's "Handling notification responses from APNs"), the reason from the body's
 * {@code {"reason":…}}: 200 accepted; 410 {@code Unregistered}, 400 {@code BadDeviceToken} or
 * {@code DeviceTokenNotForTopic} are {@link Kind#GONE}; 403 {@code ExpiredProviderToken} or
 * {@code InvalidProviderToken} drops the token, makes a new one and retries once (a second 403 is
 * {@link Kind#RETRY}); 413 {@link Kind#TOO_LARGE}; 429 (per device token or per provider)
 * {@link Kind#THROTTLED} and 5xx {@link Kind#RETRY}, with {@code Retry-After} when APNs sends one;
 * other answers {@link Kind#REFUSED}. A transport error fails the future.
 */
public final class ApnsSender implements ProviderSender {
  private static final Logger LOG = LoggerFactory.getLogger(ApnsSender.class);
  /** How long one provider token is used: inside APNs's 20–60 minutes. */
  static final long RENEW_AFTER_MS = 40 * 60_000;
  /** {@code apns-expiration}: APNs keeps trying a device that is off for this long. */
  static final long EXPIRATION_S = 86_400;
  private static final Set<String> GONE_400 = Set.of("BadDeviceToken", "DeviceTokenNotForTopic");
  private static final Set<String> TOKEN_403 = Set.of("ExpiredProviderToken", "InvalidProviderToken");

  private final Vertx vertx;
  private final HttpClient http;
  private final ApnsCredentials credentials;
  private final JWTAuth signer;
  private final String defaultTopic;
  private final String baseUrl;
  private final String sandboxBaseUrl;
  private final LongSupplier clock;
  private ProviderToken cached;

  /** A provider token and when it was made (epoch millis of the sender's clock). */
  private record ProviderToken(String jwt, long issuedAtMs) {}

  private record Answer(int status, String reason, String retryAfter, String apnsId) {}

  public ApnsSender(Vertx vertx, ApnsCredentials credentials, PushSettings settings) {
    this(vertx, credentials, settings.apnsTopic(), settings.apnsBaseUrl(), settings.apnsSandboxBaseUrl(),
        System::currentTimeMillis);
  }

  /**
   * @param defaultTopic the topic of registrations that name none; empty for none
   * @param clock epoch millis: the token's {@code iat}, its renewal and {@code apns-expiration} are read on it
   */
  ApnsSender(Vertx vertx, ApnsCredentials credentials, String defaultTopic, String baseUrl, String sandboxBaseUrl,
      LongSupplier clock) {
    this.vertx = vertx;
    HttpClientOptions options = new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setUseAlpn(true).setSsl(true).setVerifyHost(true)
        .setHttp2ClearTextUpgrade(false) // a plain http:// base URL (a local fake): HTTP/2 with prior knowledge
        .setKeepAlive(true);
    if (!credentials.trustedCaPem().isEmpty()) {
      options.setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(credentials.trustedCaPem())));
    }
    this.http = vertx.createHttpClient(options);
    this.credentials = credentials;
    this.signer = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("ES256").setBuffer(credentials.privateKeyPem())));
    this.defaultTopic = defaultTopic;
    this.baseUrl = baseUrl;
    this.sandboxBaseUrl = sandboxBaseUrl;
    this.clock = clock;
  }

  @Override
  public String provider() {
    return PushRegistration.APNS;
  }

  @Override
  public Future<Outcome> send(PushRegistration device, long conv, String payload) {
    String topic = device.params().getString("topic", "");
    if (topic.isEmpty()) {
      topic = defaultTopic;
    }
    if (topic.isEmpty()) {
      // DevicesApi refuses such registrations; this one predates push.apns.topic being emptied
      return Future.succeededFuture(Outcome.of(Kind.REFUSED, 0, "MissingTopic"));
    }
    Buffer body;
    try {
      body = body(conv, payload).toBuffer();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    String uri = (Boolean.TRUE.equals(device.params().getValue("sandbox")) ? sandboxBaseUrl : baseUrl)
        + "/3/device/" + device.address();
    String t = topic;
    if (Vertx.currentContext() != null) {
      return attempt(uri, t, conv, body, true);
    }
    // a caller off Vert.x (a test, a tool): run the exchange on one event-loop context
    Promise<Outcome> outcome = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> attempt(uri, t, conv, body, true).onComplete(outcome));
    return outcome.future();
  }

  /**
   * The notification: an alert titled with the sender whose text is the preview, or "New message"
   * ("N new messages" when the payload's {@code count} is more than one), the payload's
   * {@code badge} as the app's badge, threaded per conversation; then {@code payload}'s fields
   * (but {@code badge}) beside {@code aps} for the app.
   */
  static JsonObject body(long conv, String payload) {
    JsonObject p = new JsonObject(payload);
    int count = p.getValue("count") instanceof Number n ? n.intValue() : 1;
    String text = p.getValue("preview") instanceof String s && !s.isEmpty() ? s
        : count > 1 ? count + " new messages" : "New message";
    JsonObject alert = new JsonObject().put("body", text);
    if (p.getValue("from") instanceof String from) {
      alert.put("title", from);
    }
    JsonObject aps = new JsonObject().put("alert", alert);
    if (p.getValue("badge") instanceof Number badge) {
      aps.put("badge", badge.intValue());
    }
    aps.put("sound", "default").put("thread-id", "c" + conv).put("mutable-content", 1);
    JsonObject body = new JsonObject().put("aps", aps);
    p.forEach(e -> {
      if (!"aps".equals(e.getKey()) && !"badge".equals(e.getKey())) {
        body.put(e.getKey(), e.getValue());
      }
    });
    return body;
  }

  private Future<Outcome> attempt(String uri, String topic, long conv, Buffer body, boolean mayRetry) {
    String jwt;
    try {
      jwt = providerToken();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return post(uri, topic, conv, jwt, body).compose(answer -> {
      if (answer.status == 403 && TOKEN_403.contains(answer.reason) && mayRetry) {
        forget(jwt);
        return attempt(uri, topic, conv, body, false);
      }
      Outcome outcome = outcome(answer.status, answer.reason, RetryAfter.millis(answer.retryAfter, clock.getAsLong()));
      if (!outcome.is(Kind.ACCEPTED)) {
        LOG.debug("APNs answered {} {} (apns-id {})", answer.status, answer.reason, answer.apnsId);
      }
      return Future.succeededFuture(outcome);
    });
  }

  private Future<Answer> post(String uri, String topic, long conv, String jwt, Buffer body) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(uri)
        .setConnectTimeout(5_000).setIdleTimeout(10_000)
        .putHeader("authorization", "bearer " + jwt)
        .putHeader("apns-topic", topic)
        .putHeader("apns-push-type", "alert")
        .putHeader("apns-priority", "10")
        .putHeader("apns-expiration", Long.toString(clock.getAsLong() / 1000 + EXPIRATION_S))
        .putHeader("apns-collapse-id", "c" + conv)
        .putHeader("content-type", "application/json");
    return http.request(options).compose(req -> req.send(body))
        .compose(resp -> resp.body().map(b -> new Answer(resp.statusCode(), reason(b), resp.getHeader("retry-after"),
            resp.getHeader("apns-id"))));
  }

  /** The meaning of an answer that is final (a 403 for the token was retried already). */
  static Outcome outcome(int status, String reason, long retryAfterMs) {
    if (status >= 200 && status < 300) {
      return Outcome.ACCEPTED;
    }
    if (status == 410 || (status == 400 && GONE_400.contains(reason))) {
      return Outcome.of(Kind.GONE, status, reason);
    }
    if (status == 403 && TOKEN_403.contains(reason)) {
      return Outcome.of(Kind.RETRY, status, retryAfterMs, reason); // refused twice: a later token may do
    }
    return Outcome.ofStatus(status, retryAfterMs, reason);
  }

  /** APNs's {@code {"reason":…}}; empty when the body is not one. */
  private static String reason(Buffer body) {
    if (body == null || body.length() == 0) {
      return "";
    }
    try {
      return body.toJsonObject().getString("reason", "");
    } catch (DecodeException | ClassCastException e) {
      return "";
    }
  }

  /**
   * The provider token in use, or a new one once it is {@value #RENEW_AFTER_MS} ms old. Signing
   * is one ES256 signature, done under the lock so that two callers never make two tokens.
   */
  synchronized String providerToken() {
    long now = clock.getAsLong();
    if (cached == null || now - cached.issuedAtMs >= RENEW_AFTER_MS) {
      JsonObject claims = new JsonObject().put("iss", credentials.teamId()).put("iat", now / 1000);
      String jwt = signer.generateToken(claims, new JWTOptions().setAlgorithm("ES256").setNoTimestamp(true)
          .setHeader(new JsonObject().put("kid", credentials.keyId())));
      cached = new ProviderToken(jwt, now);
    }
    return cached.jwt;
  }

  /** APNs refused {@code jwt}: the next send makes another (unless one replaced it already). */
  private synchronized void forget(String jwt) {
    if (cached != null && cached.jwt.equals(jwt)) {
      cached = null;
    }
  }

  public Future<Void> close() {
    return http.close();
  }
}
