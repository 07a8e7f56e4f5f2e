package io.parley.push;

import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A local Web Push service speaking the real protocol, for tests: {@link #subscribe()} plays a
 * browser (a fresh P-256 key pair and auth secret, an endpoint on this server); every POST to an
 * endpoint must carry a VAPID JWT (RFC 8292) signed by the expected application server key, with
 * {@code aud} = this server's origin and {@code exp} within 24 h, and an {@code aes128gcm} body
 * that this service DECRYPTS with the subscription's private key (RFC 8291) — proof that a browser
 * could read it. Accepted pushes are answered 201 and queued in {@link #received}; anything wrong
 * is answered 400 and recorded in {@link #errors}. {@link Subscription#answer} scripts another
 * status (404, 410, 500) for one subscription.
 */
public final class FakePushService implements AutoCloseable {
  private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64URL_DEC = Base64.getUrlDecoder();

  private final Vertx vertx = Vertx.vertx();
  private final HttpServer server;
  private final String vapidPublicKey;
  private final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();
  private final AtomicInteger seq = new AtomicInteger();
  public final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
  public final List<String> errors = new CopyOnWriteArrayList<>();

  /** A push the service accepted: the subscription it was for, its decrypted JSON and headers. */
  public record Received(String subscription, JsonObject payload, String topic, String ttl) {}

  /** A browser's push subscription on this service. */
  public final class Subscription {
    public final String id;
    final ECPrivateKey privateKey;
    final byte[] publicKey;
    final byte[] auth;
    volatile int answer = 201;

    Subscription(String id) {
      this.id = id;
      KeyPair kp = WebPushCrypto.newKeyPair();
      this.privateKey = (ECPrivateKey) kp.getPrivate();
      this.publicKey = WebPushCrypto.point((ECPublicKey) kp.getPublic());
      this.auth = new byte[16];
      new java.security.SecureRandom().nextBytes(auth);
    }

    public String endpoint() {
      return origin() + "/push/" + id;
    }

    /** The body of {@code PUT /v1/devices/{device}/push} registering this subscription. */
    public JsonObject registration() {
      return new JsonObject().put("provider", "webpush").put("subscription", new JsonObject()
          .put("endpoint", endpoint())
          .put("keys", new JsonObject().put("p256dh", B64URL.encodeToString(publicKey)).put("auth", B64URL.encodeToString(auth))));
    }

    /** The status this subscription's pushes are answered with from now on. */
    public Subscription answer(int status) {
      this.answer = status;
      return this;
    }
  }

  /** @param vapidPublicKey the application server key (base64url point) every JWT must be signed with */
  public FakePushService(String vapidPublicKey) {
    this.vapidPublicKey = vapidPublicKey;
    this.server = vertx.createHttpServer().requestHandler(this::handle);
    Await.result(server.listen(0, "127.0.0.1"));
  }

  public String origin() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  public Subscription subscribe() {
    Subscription s = new Subscription("s" + seq.incrementAndGet());
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
      Subscription s = path.startsWith("/push/") ? subscriptions.get(path.substring(6)) : null;
      if (s == null) {
        req.response().setStatusCode(404).end();
        return;
      }
      try {
        checkVapid(req.getHeader("Authorization"));
        if (!"aes128gcm".equals(req.getHeader("Content-Encoding")) || req.getHeader("TTL") == null) {
          throw new GeneralSecurityException("Content-Encoding aes128gcm and TTL are required");
        }
        byte[] plain = decrypt(body.getBytes(), s.privateKey, s.publicKey, s.auth);
        if (s.answer == 201) {
          received.add(new Received(s.id, new JsonObject(new String(plain, StandardCharsets.UTF_8)), req.getHeader("Topic"),
              req.getHeader("TTL")));
        }
        req.response().setStatusCode(s.answer).end();
      } catch (Exception e) {
        errors.add(path + ": " + e);
        req.response().setStatusCode(400).end(e.toString());
      }
    });
  }

  private void checkVapid(String authorization) throws GeneralSecurityException {
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
    if (!vapidPublicKey.equals(k)) {
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
    verify.initVerify(WebPushCrypto.publicKey(B64URL_DEC.decode(k)));
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
    ByteBuffer b = ByteBuffer.wrap(body);
    byte[] salt = new byte[16];
    b.get(salt);
    int rs = b.getInt();
    int idlen = b.get() & 0xff;
    byte[] asPublic = new byte[idlen];
    b.get(asPublic);
    byte[] ciphertext = new byte[b.remaining()];
    b.get(ciphertext);
    if (ciphertext.length + 16 > rs + 16 + 1 + idlen + 16 || ciphertext.length < 17) {
      throw new GeneralSecurityException("one record expected");
    }
    byte[] ecdh = WebPushCrypto.ecdh(uaPrivate, WebPushCrypto.publicKey(asPublic));
    byte[][] keyNonce = WebPushCrypto.contentKeys(ecdh, auth, uaPublic, asPublic, salt);
    Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
    gcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(keyNonce[0], "AES"), new GCMParameterSpec(128, keyNonce[1]));
    byte[] padded = gcm.doFinal(ciphertext);
    int end = padded.length - 1;
    while (end >= 0 && padded[end] == 0) {
      end--;
    }
    if (end < 0 || padded[end] != 2) {
      throw new GeneralSecurityException("the last record's delimiter (2) is missing");
    }
    return Arrays.copyOf(padded, end);
  }


  @Override
  public void close() {
    Await.result(vertx.close());
  }
}
