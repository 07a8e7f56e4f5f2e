package io.parley.push;

import com.eatthepath.pushy.apns.auth.ApnsVerificationKey;
import com.eatthepath.pushy.apns.server.MockApnsServer;
import com.eatthepath.pushy.apns.server.MockApnsServerBuilder;
import com.eatthepath.pushy.apns.server.MockApnsServerListener;
import com.eatthepath.pushy.apns.server.PushNotificationHandler;
import com.eatthepath.pushy.apns.server.RejectedNotificationException;
import com.eatthepath.pushy.apns.server.RejectionReason;
import com.eatthepath.pushy.apns.server.UnregisteredDeviceTokenException;
import com.eatthepath.pushy.apns.server.ValidatingPushNotificationHandlerFactory;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.parley.testing.Await;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SelfSignedCertificate;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A local APNs for tests: Pushy's {@link MockApnsServer} over TLS (ALPN h2, a self-signed
 * certificate for {@code localhost} that clients trust through {@link #caFile()}), with Pushy's
 * {@link ValidatingPushNotificationHandlerFactory}: each notification must be a POST to
 * {@code /3/device/<64 hex>} with a device token registered for its {@code apns-topic}
 * ({@link #registerDevice}), a valid priority, push type and collapse id, a body of at most 4 KiB,
 * and a provider token signed by this service's key pair ({@link #writeKeyFile}: an EC P-256 key
 * generated here, written as Apple's {@code .p8}) with {@code kid} = {@link #KEY_ID},
 * {@code iss} = {@link #TEAM_ID} and an {@code iat} less than an hour old; anything else gets
 * APNs's error (403 {@code InvalidProviderToken}, {@code ExpiredProviderToken}, 400
 * {@code BadDeviceToken}, {@code DeviceTokenNotForTopic}, …). Accepted notifications are queued in
 * {@link #received}, refusals recorded in {@link #rejected}. On top of that a test can
 * {@link #answer} one device token with another reason (410 {@code Unregistered}, 413, 429, 500,
 * 503…) and {@link #revoke} a provider token (answered 403 {@code ExpiredProviderToken}).
 *
 * <p>One adaptation: Pushy 0.15.4 verifies the provider token's ES256 signature in DER, while JWS
 * (RFC 7518 §3.4, what APNs documents and vertx-auth-jwt produces) is {@code r || s}; the
 * signature is turned into DER before Pushy verifies it — still against this key pair's public key.
 */
public final class MockApns implements AutoCloseable {
  public static final String KEY_ID = "KEY123ABCD";
  public static final String TEAM_ID = "TEAM12345Z";
  public static final String TOPIC = "com.example.parley";
  private static final Base64.Decoder B64URL = Base64.getUrlDecoder();
  private static final Base64.Encoder B64URL_ENC = Base64.getUrlEncoder().withoutPadding();

  private final KeyPair key;
  private final SelfSignedCertificate certificate;
  private final MockApnsServer server;
  private final int port;
  private final Map<String, Set<String>> devicesByTopic = new ConcurrentHashMap<>();
  private final Map<String, RejectionReason> answers = new ConcurrentHashMap<>();
  private final Set<String> revoked = ConcurrentHashMap.newKeySet();
  /** Every provider token presented, accepted or not, in order of arrival. */
  public final List<String> providerTokens = new CopyOnWriteArrayList<>();
  public final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
  public final List<String> rejected = new CopyOnWriteArrayList<>();

  /**
   * A notification APNs accepted.
   *
   * @param headers the request's headers, names lower case (pseudo-headers as {@code :path}, …)
   */
  public record Received(String deviceToken, Map<String, String> headers, JsonObject body) {
    public String header(String name) {
      return headers.get(name);
    }
  }

  public MockApns() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    key = g.generateKeyPair();
    certificate = SelfSignedCertificate.create("localhost");
    ApnsVerificationKey verification = new ApnsVerificationKey(KEY_ID, TEAM_ID, (ECPublicKey) key.getPublic());
    devicesByTopic.put(TOPIC, ConcurrentHashMap.newKeySet());
    ValidatingPushNotificationHandlerFactory validating = new ValidatingPushNotificationHandlerFactory(devicesByTopic,
        Map.of(), Map.of(KEY_ID, verification), Map.of(verification, Set.of(TOPIC)));
    server = new MockApnsServerBuilder()
        .setServerCredentials(new File(certificate.certificatePath()), new File(certificate.privateKeyPath()), null)
        .setUseAlpn(true)
        .setHandlerFactory(session -> scripted(validating.buildHandler(session)))
        .setListener(new Listener())
        .build();
    port = (Integer) server.start(0).get(10, TimeUnit.SECONDS);
  }

  /** The base URL to configure ({@code push.apns.base_url}). */
  public String origin() {
    return "https://localhost:" + port;
  }

  /** The PEM certificate the server presents ({@code push.apns.ca_file}). */
  public String caFile() {
    return certificate.certificatePath();
  }

  /** Writes the signing key as Apple's {@code .p8} (PKCS#8 PEM) to {@code file}. */
  public Path writeKeyFile(Path file) throws IOException {
    Files.writeString(file, io.parley.pushfakes.FakeFcmService.pem(key.getPrivate()), StandardCharsets.US_ASCII);
    return file;
  }

  /** The credentials a sender reads from {@link #writeKeyFile} and {@link #caFile()}. */
  public ApnsCredentials credentials() throws IOException {
    return new ApnsCredentials(KEY_ID, TEAM_ID, io.parley.pushfakes.FakeFcmService.pem(key.getPrivate()),
        Files.readString(Path.of(caFile()), StandardCharsets.US_ASCII));
  }

  /** A new device token (64 hex digits) registered for {@link #TOPIC}. */
  public String registerDevice() {
    byte[] b = new byte[32];
    new java.security.SecureRandom().nextBytes(b);
    String token = String.format("%064x", new BigInteger(1, b));
    devicesByTopic.get(TOPIC).add(token);
    return token;
  }

  /** Answers notifications for {@code deviceToken} with {@code reason} (after validating them). */
  public void answer(String deviceToken, RejectionReason reason) {
    answers.put(deviceToken, reason);
  }

  /** Answers notifications carrying {@code providerToken} with 403 {@code ExpiredProviderToken}. */
  public void revoke(String providerToken) {
    revoked.add(providerToken);
  }

  public Received next(Duration timeout) throws InterruptedException {
    Received r = received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (r == null) {
      throw new AssertionError("no APNs notification within " + timeout + (rejected.isEmpty() ? "" : "; rejected: " + rejected));
    }
    return r;
  }

  private PushNotificationHandler scripted(PushNotificationHandler validating) {
    return (headers, payload) -> {
      CharSequence authorization = headers.get("authorization");
      String jwt = authorization == null ? "" : authorization.toString().replaceFirst("^bearer ", "");
      providerTokens.add(jwt);
      validating.handlePushNotification(withDerSignature(headers, jwt), payload);
      if (revoked.contains(jwt)) {
        throw new RejectedNotificationException(RejectionReason.EXPIRED_PROVIDER_TOKEN);
      }
      RejectionReason reason = answers.get(deviceToken(headers));
      if (reason == RejectionReason.UNREGISTERED) {
        throw new UnregisteredDeviceTokenException(Instant.now());
      }
      if (reason != null) {
        throw new RejectedNotificationException(reason);
      }
    };
  }

  private static String deviceToken(Http2Headers headers) {
    CharSequence path = headers.path();
    return path == null ? "" : path.toString().substring(path.toString().lastIndexOf('/') + 1);
  }

  /** {@code headers} with the JWT's JWS signature ({@code r || s}) in DER, as Pushy verifies it. */
  private static Http2Headers withDerSignature(Http2Headers headers, String jwt) {
    int dot = jwt.lastIndexOf('.');
    if (dot < 0) {
      return headers;
    }
    byte[] sig;
    try {
      sig = B64URL.decode(jwt.substring(dot + 1));
    } catch (IllegalArgumentException e) {
      return headers;
    }
    if (sig.length != 64) {
      return headers; // not a JWS ES256 signature: left for Pushy to refuse
    }
    Http2Headers copy = new DefaultHttp2Headers().add(headers);
    copy.set("authorization", "bearer " + jwt.substring(0, dot + 1) + B64URL_ENC.encodeToString(der(sig)));
    return copy;
  }

  static byte[] der(byte[] rs) {
    byte[] r = integer(Arrays.copyOfRange(rs, 0, 32));
    byte[] s = integer(Arrays.copyOfRange(rs, 32, 64));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0x30);
    out.write(r.length + s.length);
    out.writeBytes(r);
    out.writeBytes(s);
    return out.toByteArray();
  }

  private static byte[] integer(byte[] unsigned) {
    byte[] v = new BigInteger(1, unsigned).toByteArray(); // minimal, with a 0 byte when the top bit is set
    byte[] out = new byte[v.length + 2];
    out[0] = 0x02;
    out[1] = (byte) v.length;
    System.arraycopy(v, 0, out, 2, v.length);
    return out;
  }

  /**
   * A stand-in for answers the mock cannot give (it never sends {@code Retry-After}): a Vert.x
   * HTTP/2 server on {@code vertx}, TLS with this service's certificate (ALPN h2 only), that answers
   * every request with the scripted status, {@code {"reason":…}} and {@code Retry-After}.
   */
  public Scripted scripted(Vertx vertx) {
    Scripted s = new Scripted();
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setSsl(true).setUseAlpn(true)
        .setAlpnVersions(List.of(HttpVersion.HTTP_2)).setHost("localhost").setPort(0)
        .setKeyCertOptions(certificate.keyCertOptions()));
    server.requestHandler(req -> {
      s.protocols.add(req.version());
      Answer a = s.answer;
      req.response().setStatusCode(a.status).putHeader("retry-after", a.retryAfter)
          .end(new JsonObject().put("reason", a.reason).encode());
    });
    s.port = Await.result(server.listen()).actualPort();
    return s;
  }

  private record Answer(int status, String reason, String retryAfter) {}

  /** See {@link #scripted}. */
  public static final class Scripted {
    private volatile Answer answer = new Answer(200, "", "");
    private int port;
    public final List<HttpVersion> protocols = new CopyOnWriteArrayList<>();

    public String origin() {
      return "https://localhost:" + port;
    }

    public void answer(int status, String reason, String retryAfter) {
      answer = new Answer(status, reason, retryAfter);
    }
  }

  private final class Listener implements MockApnsServerListener {
    @Override
    public void handlePushNotificationAccepted(Http2Headers headers, ByteBuf payload) {
      Map<String, String> h = new ConcurrentHashMap<>();
      headers.forEach(e -> h.put(e.getKey().toString().toLowerCase(java.util.Locale.ROOT), e.getValue().toString()));
      received.add(new Received(deviceToken(headers), h, new JsonObject(payload.toString(StandardCharsets.UTF_8))));
    }

    @Override
    public void handlePushNotificationRejected(Http2Headers headers, ByteBuf payload, RejectionReason reason, Instant expiry) {
      rejected.add(deviceToken(headers) + " " + reason);
    }
  }

  @Override
  public void close() {
    try {
      server.shutdown().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      certificate.delete();
    }
  }
}
