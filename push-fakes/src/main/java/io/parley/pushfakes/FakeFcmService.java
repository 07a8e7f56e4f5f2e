package io.parley.pushfakes;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * A local FCM speaking the real protocol, for tests: a service account of its own (an RSA key pair
 * generated here, {@link #serviceAccountJson()}); an OAuth2 token endpoint ({@code POST /token})
 * that accepts only the JWT-bearer grant with an RS256 assertion signed by that account's key, with
 * {@code iss} = its {@code client_email}, {@code scope} = firebase.messaging, {@code aud} = this
 * token URI and {@code exp} after now and at most an hour after {@code iat}; and the HTTP v1
 * {@code POST /v1/projects/{project}/messages:send} that accepts only a bearer token it issued and
 * has not expired or revoked, and a message with a token, data of strings only under keys FCM
 * does not reserve ({@code from}, {@code message_type}, {@code google…}, {@code gcm…}), and an
 * {@code android} collapse key and priority. Accepted messages are answered 200 with their name
 * and queued in {@link #received}; a bad request is answered 400 and recorded in {@link #errors};
 * an unknown bearer 401 (counted in {@link #unauthorized}). {@link #answer} scripts another answer
 * for one device token: 404 UNREGISTERED, 400 INVALID_ARGUMENT for the token, 503.
 * {@link #pacing} delays the answers of {@code messages:send}, throttles them (429
 * RESOURCE_EXHAUSTED with Retry-After), counts them and logs each accepted message with its time.
 *
 * <p>Its clock is the one given, so a test can move time for the sender and this service alike.
 */
public final class FakeFcmService implements AutoCloseable {
  public static final String PROJECT = "parley-test";
  public static final String CLIENT_EMAIL = "push@parley-test.iam.gserviceaccount.com";
  private static final Base64.Decoder B64URL = Base64.getUrlDecoder();

  private final Vertx vertx = Vertx.vertx();
  private final HttpServer server;
  private final String host;
  private final KeyPair account;
  private final LongSupplier clock;
  /** Issued access tokens and when each expires (epoch millis on the clock). */
  private final Map<String, Long> accessTokens = new ConcurrentHashMap<>();
  private final Map<String, Answer> answers = new ConcurrentHashMap<>();
  private final AtomicInteger seq = new AtomicInteger();
  public final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
  public final List<String> errors = new CopyOnWriteArrayList<>();
  public final AtomicInteger tokenRequests = new AtomicInteger();
  public final AtomicInteger unauthorized = new AtomicInteger();
  /** When set, every bearer token is answered 401, even a fresh one. */
  public volatile boolean refuseAllAccessTokens;
  /** {@code expires_in} of the access tokens issued from now on, in seconds. */
  public volatile long expiresInS = 3600;
  /** Answer delay, throttling, counters and the accepted messages with their times. */
  public final Pacing pacing = new Pacing(vertx, "fcm");

  /** A message the service accepted: the device token, its data, the android collapse key and priority. */
  public record Received(String token, JsonObject data, String collapseKey, String priority) {}

  /** A scripted answer to messages for one device token. */
  public enum Answer { OK, UNREGISTERED, INVALID_TOKEN, UNAVAILABLE }

  public FakeFcmService() {
    this(System::currentTimeMillis);
  }

  public FakeFcmService(LongSupplier clock) {
    this(clock, "127.0.0.1", 0);
  }

  /** @param port the port to listen on (0: any free one, see {@link #origin()}) */
  public FakeFcmService(LongSupplier clock, String host, int port) {
    this.clock = clock;
    this.host = host;
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      this.account = g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    this.server = vertx.createHttpServer().requestHandler(this::handle);
    Listening.await(server.listen(port, host), vertx, "FCM fake on " + host + ":" + port);
  }

  public String origin() {
    return "http://" + host + ":" + server.actualPort();
  }

  public String tokenUri() {
    return origin() + "/token";
  }

  /** The service account's JSON key file, as the Firebase console hands it out. */
  public JsonObject serviceAccountJson() {
    return new JsonObject().put("type", "service_account").put("project_id", PROJECT).put("private_key_id", "k1")
        .put("private_key", pem(account.getPrivate())).put("client_email", CLIENT_EMAIL).put("client_id", "1")
        .put("auth_uri", "https://accounts.google.com/o/oauth2/auth").put("token_uri", tokenUri());
  }

  /** A private key as the key file holds it: PKCS#8 in PEM. */
  public static String pem(PrivateKey key) {
    return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(key.getEncoded())
        + "\n-----END PRIVATE KEY-----\n";
  }

  /** Writes {@link #serviceAccountJson()} to {@code file}. */
  public Path writeServiceAccount(Path file) throws IOException {
    Files.writeString(file, serviceAccountJson().encodePrettily(), StandardCharsets.UTF_8);
    return file;
  }

  /** Messages to {@code deviceToken} are answered so from now on. */
  public void answer(String deviceToken, Answer answer) {
    answers.put(deviceToken, answer);
  }

  /** Every access token issued so far stops working (the next send is answered 401). */
  public void revokeAccessTokens() {
    accessTokens.clear();
  }

  /** The next accepted message, waiting at most {@code timeout}; fails when none comes. */
  public Received next(Duration timeout) throws InterruptedException {
    Received r = received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (r == null) {
      throw new AssertionError("no FCM message within " + timeout + (errors.isEmpty() ? "" : "; errors: " + errors));
    }
    return r;
  }

  private void handle(HttpServerRequest req) {
    req.body().onSuccess(body -> {
      try {
        if (req.path().equals("/token")) {
          token(req, body);
        } else if (req.path().equals("/v1/projects/" + PROJECT + "/messages:send")) {
          send(req, body);
        } else {
          errors.add("unexpected " + req.method() + " " + req.path());
          req.response().setStatusCode(404).end();
        }
      } catch (Exception e) {
        errors.add(req.path() + ": " + e);
        if (!req.path().equals("/token")) {
          pacing.other();
        }
        req.response().setStatusCode(400).end(e.toString());
      }
    });
  }

  private void token(HttpServerRequest req, Buffer body) throws GeneralSecurityException {
    tokenRequests.incrementAndGet();
    if (req.method() != io.vertx.core.http.HttpMethod.POST
        || !String.valueOf(req.getHeader("Content-Type")).startsWith("application/x-www-form-urlencoded")) {
      throw new GeneralSecurityException("a form POST expected");
    }
    Map<String, String> form = new HashMap<>();
    for (String pair : body.toString(StandardCharsets.US_ASCII).split("&")) {
      int eq = pair.indexOf('=');
      form.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(pair.substring(eq + 1),
          StandardCharsets.UTF_8));
    }
    if (!"urn:ietf:params:oauth:grant-type:jwt-bearer".equals(form.get("grant_type"))) {
      throw new GeneralSecurityException("grant_type must be the JWT bearer grant, got " + form.get("grant_type"));
    }
    String[] jws = String.valueOf(form.get("assertion")).split("\\.");
    if (jws.length != 3) {
      throw new GeneralSecurityException("the assertion is not a JWS");
    }
    JsonObject header = new JsonObject(new String(B64URL.decode(jws[0]), StandardCharsets.UTF_8));
    if (!"RS256".equals(header.getString("alg"))) {
      throw new GeneralSecurityException("alg must be RS256, got " + header.getString("alg"));
    }
    Signature verify = Signature.getInstance("SHA256withRSA");
    verify.initVerify((RSAPublicKey) account.getPublic());
    verify.update((jws[0] + "." + jws[1]).getBytes(StandardCharsets.US_ASCII));
    if (!verify.verify(B64URL.decode(jws[2]))) {
      throw new GeneralSecurityException("the assertion is not signed by the service account's key");
    }
    JsonObject claims = new JsonObject(new String(B64URL.decode(jws[1]), StandardCharsets.UTF_8));
    if (!CLIENT_EMAIL.equals(claims.getString("iss"))) {
      throw new GeneralSecurityException("iss must be the client_email, got " + claims.getString("iss"));
    }
    if (!"https://www.googleapis.com/auth/firebase.messaging".equals(claims.getString("scope"))) {
      throw new GeneralSecurityException("scope must be firebase.messaging, got " + claims.getString("scope"));
    }
    if (!tokenUri().equals(claims.getString("aud"))) {
      throw new GeneralSecurityException("aud must be the token_uri, got " + claims.getString("aud"));
    }
    long now = clock.getAsLong() / 1000;
    long iat = claims.getLong("iat", -1L);
    long exp = claims.getLong("exp", -1L);
    if (iat < now - 300 || iat > now + 300 || exp <= now || exp > iat + 3600) {
      throw new GeneralSecurityException("iat must be now and exp after now, at most an hour after iat: iat " + iat
          + ", exp " + exp + ", now " + now);
    }
    String token = "ya29.fake-" + seq.incrementAndGet();
    long lifetime = expiresInS;
    accessTokens.put(token, clock.getAsLong() + lifetime * 1000);
    req.response().putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("access_token", token).put("expires_in", lifetime).put("token_type", "Bearer").encode());
  }

  private void send(HttpServerRequest req, Buffer body) throws GeneralSecurityException {
    String auth = String.valueOf(req.getHeader("Authorization"));
    Long expires = auth.startsWith("Bearer ") ? accessTokens.get(auth.substring(7)) : null;
    if (expires == null || expires <= clock.getAsLong() || refuseAllAccessTokens) {
      unauthorized.incrementAndGet();
      pacing.other();
      pacing.later(() -> req.response().setStatusCode(401).putHeader("Content-Type", "application/json")
          .end(error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.", null).encode()));
      return;
    }
    int retryAfter = pacing.throttledNow();
    if (retryAfter >= 0) {
      pacing.throttled();
      pacing.later(() -> req.response().setStatusCode(429).putHeader("Retry-After", Integer.toString(retryAfter))
          .putHeader("Content-Type", "application/json").end(error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.",
              new JsonObject().put("@type", "type.googleapis.com/google.firebase.fcm.v1.FcmError")
                  .put("errorCode", "QUOTA_EXCEEDED")).encode()));
      return;
    }
    JsonObject message = body.toJsonObject().getJsonObject("message");
    if (message == null || !(message.getValue("token") instanceof String token) || token.isEmpty()) {
      throw new GeneralSecurityException("message.token is required");
    }
    for (String field : message.fieldNames()) {
      if (!List.of("token", "data", "android").contains(field)) {
        throw new GeneralSecurityException("unexpected message." + field);
      }
    }
    JsonObject data = message.getJsonObject("data", new JsonObject());
    for (Map.Entry<String, Object> e : data) {
      String key = e.getKey().toLowerCase(java.util.Locale.ROOT);
      if (key.equals("from") || key.equals("message_type") || key.startsWith("google") || key.startsWith("gcm")) {
        throw new GeneralSecurityException("data key " + e.getKey() + " is reserved");
      }
      if (!(e.getValue() instanceof String)) {
        throw new GeneralSecurityException("data values must be strings: " + e.getKey() + " is " + e.getValue());
      }
    }
    JsonObject android = message.getJsonObject("android", new JsonObject());
    String priority = android.getString("priority");
    if (!"high".equals(priority) && !"normal".equals(priority)) {
      throw new GeneralSecurityException("android.priority must be high or normal, got " + priority);
    }
    String ttl = android.getString("ttl");
    if (ttl != null && !ttl.matches("[0-9]+(\\.[0-9]+)?s")) {
      throw new GeneralSecurityException("android.ttl must be a duration in seconds like \"3.5s\", got " + ttl);
    }
    Answer answer = answers.getOrDefault(token, Answer.OK);
    String collapseKey = android.getString("collapse_key");
    pacing.later(() -> {
      if (answer == Answer.OK) {
        pacing.accepted(token, data);
        received.add(new Received(token, data, collapseKey, priority));
      } else {
        pacing.other();
      }
      answer(req, answer);
    });
  }

  private void answer(HttpServerRequest req, Answer answer) {
    switch (answer) {
      case OK -> req.response().putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("name", "projects/" + PROJECT + "/messages/" + seq.incrementAndGet()).encode());
      case UNREGISTERED -> req.response().setStatusCode(404).end(error(404, "NOT_FOUND", "Requested entity was not found.",
          new JsonObject().put("@type", "type.googleapis.com/google.firebase.fcm.v1.FcmError").put("errorCode", "UNREGISTERED"))
          .encode());
      case INVALID_TOKEN -> req.response().setStatusCode(400).end(error(400, "INVALID_ARGUMENT",
          "The registration token is not a valid FCM registration token",
          new JsonObject().put("@type", "type.googleapis.com/google.rpc.BadRequest").put("fieldViolations", new JsonArray()
              .add(new JsonObject().put("field", "message.token")
                  .put("description", "The registration token is not a valid FCM registration token")))).encode());
      case UNAVAILABLE -> req.response().setStatusCode(503).end(error(503, "UNAVAILABLE", "The service is unavailable.",
          new JsonObject().put("@type", "type.googleapis.com/google.firebase.fcm.v1.FcmError").put("errorCode", "UNAVAILABLE"))
          .encode());
    }
  }

  /** A Google API error body. */
  private static JsonObject error(int code, String status, String message, JsonObject detail) {
    JsonObject error = new JsonObject().put("code", code).put("message", message).put("status", status);
    if (detail != null) {
      error.put("details", new JsonArray().add(detail));
    }
    return new JsonObject().put("error", error);
  }

  @Override
  public void close() {
    Listening.await(vertx.close(), null, "closing the FCM fake");
  }
}
