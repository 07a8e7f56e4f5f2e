package io.parley.gateway;

import io.parley.testing.Await;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local identity provider for tests: RSA and EC P-256 keys made here, a JWKS document served by a
 * Vert.x HTTP server on a free port (keys can be published later: rotation), counting its fetches,
 * and tokens signed with the JDK's own signatures (independent of the library under test; ES256 in
 * JOSE's r||s form).
 */
public final class JwksFixture implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final HttpServer server;
  private final List<JsonObject> published = new ArrayList<>();
  public final AtomicInteger fetches = new AtomicInteger();

  /** A signing key and its public JWK. */
  public record Key(String kid, String alg, PrivateKey privateKey, JsonObject jwk) {}

  public JwksFixture() {
    server = Await.result(vertx.createHttpServer().requestHandler(req -> {
      fetches.incrementAndGet();
      JsonObject body;
      synchronized (published) {
        body = new JsonObject().put("keys", new JsonArray(new ArrayList<>(published)));
      }
      req.response().putHeader("Content-Type", "application/json").end(body.encode());
    }).listen(0, "127.0.0.1"));
  }

  public String url() {
    return "http://127.0.0.1:" + server.actualPort() + "/.well-known/jwks.json";
  }

  /** Puts {@code key}'s public JWK in the served document. */
  public void publish(Key key) {
    synchronized (published) {
      published.add(key.jwk());
    }
  }

  /** Takes {@code key}'s JWK out of the served document. */
  public void withdraw(Key key) {
    synchronized (published) {
      published.remove(key.jwk());
    }
  }

  public void publishRaw(JsonObject jwk) {
    synchronized (published) {
      published.add(jwk);
    }
  }

  public static Key rsa(String kid) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      KeyPair pair = g.generateKeyPair();
      RSAPublicKey pub = (RSAPublicKey) pair.getPublic();
      JsonObject jwk = new JsonObject().put("kty", "RSA").put("kid", kid).put("use", "sig").put("alg", "RS256")
          .put("n", b64(unsigned(pub.getModulus(), 0))).put("e", b64(unsigned(pub.getPublicExponent(), 0)));
      return new Key(kid, "RS256", pair.getPrivate(), jwk);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An EC P-256 key; its JWK has no {@code alg} (optional in RFC 7517; ES256 follows from the curve). */
  public static Key ec(String kid) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair pair = g.generateKeyPair();
      ECPublicKey pub = (ECPublicKey) pair.getPublic();
      JsonObject jwk = new JsonObject().put("kty", "EC").put("kid", kid).put("crv", "P-256")
          .put("x", b64(unsigned(pub.getW().getAffineX(), 32))).put("y", b64(unsigned(pub.getW().getAffineY(), 32)));
      return new Key(kid, "ES256", pair.getPrivate(), jwk);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A compact JWS of {@code claims} signed with {@code key}, its {@code kid} in the header. */
  public static String sign(Key key, JsonObject claims) {
    return sign(key, new JsonObject().put("alg", key.alg()).put("typ", "JWT").put("kid", key.kid()), claims);
  }

  public static String sign(Key key, JsonObject header, JsonObject claims) {
    String input = b64(header.encode().getBytes(StandardCharsets.UTF_8)) + "."
        + b64(claims.encode().getBytes(StandardCharsets.UTF_8));
    try {
      Signature s = Signature.getInstance("RS256".equals(key.alg()) ? "SHA256withRSA" : "SHA256withECDSAinP1363Format");
      s.initSign(key.privateKey());
      s.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + b64(s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Claims of a user's token valid for {@code ttlSeconds}. */
  public static JsonObject claims(String user, long ttlSeconds) {
    long now = System.currentTimeMillis() / 1000;
    return new JsonObject().put("sub", user).put("iat", now).put("exp", now + ttlSeconds);
  }

  private static byte[] unsigned(BigInteger v, int length) {
    byte[] raw = v.toByteArray();
    if (raw.length > 1 && raw[0] == 0) {
      raw = Arrays.copyOfRange(raw, 1, raw.length);
    }
    if (raw.length >= length) {
      return raw;
    }
    byte[] padded = new byte[length];
    System.arraycopy(raw, 0, padded, length - raw.length, raw.length);
    return padded;
  }

  private static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  @Override
  public void close() {
    Await.result(vertx.close());
  }
}
