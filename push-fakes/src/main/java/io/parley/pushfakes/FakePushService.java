package io.parley.pushfakes;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local Web Push service speaking the real protocol: {@link #subscribe()} (or {@code POST
 * /subscribe}) plays a browser (a fresh P-256 key pair and auth secret, an endpoint on this
 * server); every POST to an endpoint must carry a VAPID JWT (RFC 8292) signed by the application
 * server key (the one given, else the subscription's {@code applicationServerKey}, else whichever
 * key the JWT names in {@code k=}), with {@code aud} = this server's origin and {@code exp} within
 * 24 h, and an {@code aes128gcm} body that this service DECRYPTS with the subscription's private
 * key (RFC 8291) — proof that a browser could read it. Accepted pushes are answered 201 and queued
 * in {@link #received} (and logged in {@link #pacing}); anything wrong is answered 400 and
 * recorded in {@link #errors}. {@link Subscription#answer} scripts another status (404, 410, 500)
 * for one subscription; {@link #pacing} delays answers and throttles (429 with Retry-After).
 */
public final class FakePushService implements AutoCloseable {
  private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64URL_DEC = Base64.getUrlDecoder();

  private final Vertx vertx = Vertx.vertx();
  private final HttpServer server;
  /** The application server key every JWT must be signed with, or null: the subscription's, or any. */
  private final String vapidPublicKey;
  private final String host;
  private final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();
  private final AtomicInteger seq = new AtomicInteger();
  public final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
  public final List<String> errors = new CopyOnWriteArrayList<>();
  /** Answer delay, throttling, counters and the accepted pushes with their times. */
  public final Pacing pacing = new Pacing(vertx, "webpush");

  /** A push the service accepted: the subscription it was for, its decrypted JSON and headers. */
  public record Received(String subscription, JsonObject payload, String topic, String ttl) {}

  /** A browser's push subscription on this service. */
  public final class Subscription {
    public final String id;
    final ECPrivateKey privateKey;
    final byte[] publicKey;
    final byte[] auth;
    /** The application server key this subscription was made for (null: the service's, or any). */
    final String applicationServerKey;
    volatile int answer = 201;

    Subscription(String id, String applicationServerKey) {
      this.id = id;
      this.applicationServerKey = applicationServerKey;
      KeyPair kp = UserAgentCrypto.newKeyPair();
      this.privateKey = (ECPrivateKey) kp.getPrivate();
      this.publicKey = UserAgentCrypto.point((ECPublicKey) kp.getPublic());
      this.auth = new byte[16];
      new java.security.SecureRandom().nextBytes(auth);
    }

    public String endpoint() {
      return origin() + "/push/" + id;
    }

    /** The subscription as {@code PushSubscription.toJSON()} gives it: {@code {"endpoint","keys":{"p256dh","auth"}}}. */
    public JsonObject json() {
      return new JsonObject().put("endpoint", endpoint())
          .put("keys", new JsonObject().put("p256dh", B64URL.encodeToString(publicKey)).put("auth", B64URL.encodeToString(auth)));
    }

    /** The body of {@code PUT /v1/devices/{device}/push} registering this subscription. */
    public JsonObject registration() {
      return new JsonObject().put("provider", "webpush").put("subscription", json());
    }

    /** The status this subscription's pushes are answered with from now on. */
    public Subscription answer(int status) {
      this.answer = status;
      return this;
    }
  }

  /** @param vapidPublicKey the application server key (base64url point) every JWT must be signed with */
  public FakePushService(String vapidPublicKey) {
    this(vapidPublicKey, "127.0.0.1", 0);
  }

  /**
   * @param vapidPublicKey the application server key (base64url point) every JWT must be signed
   *        with, or null to take the subscription's (else the one the JWT names)
   * @param port the port to listen on (0: any free one, see {@link #origin()})
   */
  public FakePushService(String vapidPublicKey, String host, int port) {
    this.vapidPublicKey = vapidPublicKey;
    this.host = host;
    this.server = vertx.createHttpServer().requestHandler(this::handle);
    Listening.await(server.listen(port, host), vertx, "Web Push fake on " + host + ":" + port);
  }

  public String origin() {
    return "http://" + host + ":" + server.actualPort();
  }

  public Subscription subscribe() {
    return subscribe(null);
  }

  /** A subscription for the given application server key (base64url), as {@code pushManager.subscribe} makes. */
  public Subscription subscribe(String applicationServerKey) {
    Subscription s = new Subscription("s" + seq.incrementAndGet(), applicationServerKey);
    subscriptions.put(s.id, s);
    return s;
  }

  /** The next accepted push, waiting at most {@code timeout}; fails when none comes. */
  public Received next(Duration timeout) throws InterruptedException {
    Received r = received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (r == null) {
      throw new AssertionError("no push within " + timeout + (errors.isEmpty() ? "" : "; errors: " + errors));
    }
    return r;
  }

  private void handle(HttpServerRequest req) {
    req.body().onSuccess(body -> {
      String path = req.path();
      if (path.equals("/subscribe")) {
        subscribeOverHttp(req, body);
        return;
      }
      Subscription s = path.startsWith("/push/") ? subscriptions.get(path.substring(6)) : null;
      if (s == null) {
        pacing.other();
        pacing.later(() -> req.response().setStatusCode(404).end());
        return;
      }
      int retryAfter = pacing.throttledNow();
      if (retryAfter >= 0) {
        pacing.throttled();
        pacing.later(() -> req.response().setStatusCode(429).putHeader("Retry-After", Integer.toString(retryAfter)).end());
        return;
      }
      try {
        checkVapid(req.getHeader("Authorization"), s);
        if (!"aes128gcm".equals(req.getHeader("Content-Encoding")) || req.getHeader("TTL") == null) {
          throw new GeneralSecurityException("Content-Encoding aes128gcm and TTL are required");
        }
        JsonObject payload = new JsonObject(new String(decrypt(body.getBytes(), s.privateKey, s.publicKey, s.auth),
            StandardCharsets.UTF_8));
        String topic = req.getHeader("Topic");
        String ttl = req.getHeader("TTL");
        pacing.later(() -> {
          HttpServerResponse resp = req.response();
          int answer = s.answer;
          if (answer == 201) {
            pacing.accepted(s.id, payload);
            received.add(new Received(s.id, payload, topic, ttl));
          } else if (answer == 429) {
            pacing.throttled();
          } else {
            pacing.other();
          }
          resp.setStatusCode(answer).end();
        });
      } catch (Exception e) {
        errors.add(path + ": " + e);
        pacing.other();
        pacing.later(() -> req.response().setStatusCode(400).end(e.toString()));
      }
    });
  }

  /**
   * {@code POST /subscribe} with an optional {@code {"applicationServerKey":"<base64url>"}} (the
   * key of {@code GET /v1/push/webpush-key}): a new subscription, answered with its JSON, ready
   * to be the {@code subscription} of {@code PUT /v1/devices/{device}/push}.
   */
  private void subscribeOverHttp(HttpServerRequest req, io.vertx.core.buffer.Buffer body) {
    String key;
    try {
      JsonObject json = body.length() == 0 ? new JsonObject() : body.toJsonObject();
      key = json.getString("applicationServerKey");
      if (key != null) {
        UserAgentCrypto.publicKey(B64URL_DEC.decode(key));
      }
    } catch (Exception e) {
      req.response().setStatusCode(400).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("error", "applicationServerKey must be a base64url P-256 point: " + e.getMessage()).encode());
      return;
    }
    if (req.method() != io.vertx.core.http.HttpMethod.POST) {
      req.response().setStatusCode(405).putHeader("Allow", "POST").end();
      return;
    }
    Subscription s = subscribe(key);
    req.response().putHeader("Content-Type", "application/json").end(s.json().encode());
  }

  private void checkVapid(String authorization, Subscription s) throws GeneralSecurityException {
    if (authorization == null || !authorization.startsWith("vapid ")) {
      throw new GeneralSecurityException("Authorization: vapid t=…, k=… expected, got " + authorization);
    }
    String t = null;
    String k = null;
    for (String part : authorization.substring(6).split(",")) {
      String p = part.trim();
      if (p.startsWith("t=")) {
        t = p.substring(2);
      } else if (p.startsWith("k=")) {
        k = p.substring(2);
      }
    }
    String expected = vapidPublicKey != null ? vapidPublicKey : s.applicationServerKey;
    if (k == null || (expected != null && !expected.equals(k))) {
      throw new GeneralSecurityException("k is not the application server key");
    }
    String[] jws = t == null ? new String[0] : t.split("\\.");
    if (jws.length != 3) {
      throw new GeneralSecurityException("t is not a JWS");
    }
    JsonObject header = new JsonObject(new String(B64URL_DEC.decode(jws[0]), StandardCharsets.UTF_8));
    if (!"ES256".equals(header.getString("alg"))) {
      throw new GeneralSecurityException("alg must be ES256");
    }
    Signature verify = Signature.getInstance("SHA256withECDSAinP1363Format");
    verify.initVerify(UserAgentCrypto.publicKey(B64URL_DEC.decode(k)));
    verify.update((jws[0] + "." + jws[1]).getBytes(StandardCharsets.US_ASCII));
    if (!verify.verify(B64URL_DEC.decode(jws[2]))) {
      throw new GeneralSecurityException("bad VAPID signature");
    }
    JsonObject claims = new JsonObject(new String(B64URL_DEC.decode(jws[1]), StandardCharsets.UTF_8));
    if (!origin().equals(claims.getString("aud"))) {
      throw new GeneralSecurityException("aud " + claims.getString("aud") + " is not " + origin());
    }
    long now = System.currentTimeMillis() / 1000;
    long exp = claims.getLong("exp", 0L);
    if (exp <= now || exp > now + 24 * 3600) {
      throw new GeneralSecurityException("exp must be in the next 24 hours: " + exp);
    }
  }

  /** The user agent's side of RFC 8291: decrypts an {@code aes128gcm} body with the subscription's keys. */
  public static byte[] decrypt(byte[] body, ECPrivateKey uaPrivate, byte[] uaPublic, byte[] auth)
      throws GeneralSecurityException {
    return UserAgentCrypto.decrypt(body, uaPrivate, uaPublic, auth);
  }

  @Override
  public void close() {
    Listening.await(vertx.close(), null, "closing the Web Push fake");
  }
}
