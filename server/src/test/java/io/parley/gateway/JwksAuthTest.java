package io.parley.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.config.IdentitySettings;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Auth} with a JWKS URL ({@link JwksFixture} serves it): RS256 and ES256 tokens verify, HS256
 * with the secret still does, a rotated-in key verifies after one fetch, unknown key ids fetch at
 * most once a minute (a fake clock stands for the minute), and issuer and audience are enforced.
 */
class JwksAuthTest {
  private static final String SECRET = "0123456789abcdef0123456789abcdef";
  private static final String ISSUER = "https://idp.example.com/";
  private final Vertx vertx = Vertx.vertx();
  private final JwksFixture idp = new JwksFixture();
  private final AtomicLong clock = new AtomicLong(1_000_000);

  @AfterEach
  void close() {
    idp.close();
    Await.result(vertx.close());
  }

  private Auth auth(String issuer, List<String> audiences) {
    Auth auth = new Auth(vertx, SECRET, new IdentitySettings(idp.url(), issuer, audiences, "", "", "text"), clock::get);
    Await.result(auth.start());
    return auth;
  }

  @Test
  void rs256AndEs256TokensVerifyAgainstTheKeySetAndHs256StillDoes() {
    JwksFixture.Key rsa = JwksFixture.rsa("rsa-1");
    JwksFixture.Key ec = JwksFixture.ec("ec-1");
    idp.publish(rsa);
    idp.publish(ec);
    Auth auth = auth("", List.of());
    assertThat(idp.fetches.get()).as("fetched once at start").isEqualTo(1);

    Auth.Identity alice = Await.result(auth.identify(JwksFixture.sign(rsa, JwksFixture.claims("alice", 60).put("email", "a@example.com"))));
    assertThat(alice.user()).isEqualTo("alice");
    assertThat(alice.email()).isEqualTo("a@example.com");
    assertThat(alice.expiresAtMs()).isGreaterThan(System.currentTimeMillis());
    assertThat(Await.result(auth.identify(JwksFixture.sign(ec, JwksFixture.claims("bob", 60)))).user()).isEqualTo("bob");
    assertThat(Await.result(auth.identify(auth.issue("carol", 60))).user()).as("HS256 with the secret").isEqualTo("carol");
    assertThat(idp.fetches.get()).as("known keys need no fetch").isEqualTo(1);
  }

  @Test
  void forgedAndMismatchedTokensAreRefused() {
    JwksFixture.Key rsa = JwksFixture.rsa("rsa-1");
    idp.publish(rsa);
    Auth auth = auth("", List.of());
    // another key claiming the published kid
    JwksFixture.Key impostor = new JwksFixture.Key("rsa-1", "RS256", JwksFixture.rsa("x").privateKey(), rsa.jwk());
    assertThat(Await.failure(auth.identify(JwksFixture.sign(impostor, JwksFixture.claims("alice", 60)))))
        .isInstanceOf(Auth.Unauthorized.class);
    // expired
    assertThat(Await.failure(auth.identify(JwksFixture.sign(rsa, JwksFixture.claims("alice", -10)))))
        .isInstanceOf(Auth.Unauthorized.class);
    // algorithm confusion: HS256 keyed with the RSA public key's modulus
    String header = b64(new JsonObject().put("alg", "HS256").put("kid", "rsa-1").encode());
    String body = b64(JwksFixture.claims("mallory", 60).encode());
    assertThat(Await.failure(auth.identify(header + "." + body + "." + hmac(rsa.jwk().getString("n"), header + "." + body))))
        .isInstanceOf(Auth.Unauthorized.class);
    // alg none
    String none = b64(new JsonObject().put("alg", "none").encode()) + "." + body + ".";
    assertThat(Await.failure(auth.identify(none))).isInstanceOf(Auth.Unauthorized.class);
  }

  @Test
  void aRotatedInKeyVerifiesAfterOneFetchAndUnknownKidsFetchAtMostOnceAMinute() {
    JwksFixture.Key first = JwksFixture.rsa("k1");
    idp.publish(first);
    Auth auth = auth("", List.of());
    assertThat(idp.fetches.get()).isEqualTo(1);

    // the provider rotates in k2 a minute later; the first token signed with it fetches the set again
    clock.addAndGet(JwksKeys.REFRESH_MIN_MS);
    JwksFixture.Key second = JwksFixture.ec("k2");
    idp.publish(second);
    assertThat(Await.result(auth.identify(JwksFixture.sign(second, JwksFixture.claims("alice", 60)))).user()).isEqualTo("alice");
    assertThat(idp.fetches.get()).as("one fetch for the new kid").isEqualTo(2);
    assertThat(Await.result(auth.identify(JwksFixture.sign(second, JwksFixture.claims("bob", 60)))).user()).isEqualTo("bob");
    assertThat(Await.result(auth.identify(JwksFixture.sign(first, JwksFixture.claims("carol", 60)))).user()).isEqualTo("carol");
    assertThat(idp.fetches.get()).as("then cached").isEqualTo(2);

    // k3 appears within the minute: tokens naming it (and made-up kids, many at once) cause no fetch
    clock.addAndGet(JwksKeys.REFRESH_MIN_MS - 1);
    JwksFixture.Key third = JwksFixture.rsa("k3");
    idp.publish(third);
    List<Future<Auth.Identity>> flood = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      flood.add(auth.identify(JwksFixture.sign(new JwksFixture.Key("made-up-" + i, "RS256", third.privateKey(), third.jwk()),
          JwksFixture.claims("mallory", 60))));
    }
    flood.add(auth.identify(JwksFixture.sign(third, JwksFixture.claims("dave", 60))));
    for (Future<Auth.Identity> f : flood) {
      assertThat(Await.failure(f)).isInstanceOf(Auth.Unauthorized.class);
    }
    assertThat(idp.fetches.get()).as("no fetch within a minute of the last").isEqualTo(2);

    // once the minute is up, k3 verifies after one fetch, and a flood of unknown kids shares it
    clock.addAndGet(1);
    List<Future<Auth.Identity>> together = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      together.add(auth.identify(JwksFixture.sign(third, JwksFixture.claims("dave", 60))));
    }
    for (Future<Auth.Identity> f : together) {
      assertThat(Await.result(f).user()).isEqualTo("dave");
    }
    assertThat(idp.fetches.get()).as("one fetch for ten concurrent tokens").isEqualTo(3);
  }

  @Test
  void aWithdrawnKeyStopsVerifyingOnceTheKeySetIsAnHourOld() {
    JwksFixture.Key old = JwksFixture.rsa("old");
    JwksFixture.Key current = JwksFixture.ec("current");
    idp.publish(old);
    idp.publish(current);
    Auth auth = auth("", List.of());
    idp.withdraw(old);
    clock.addAndGet(JwksKeys.MAX_AGE_MS - 1);
    assertThat(Await.result(auth.identify(JwksFixture.sign(old, JwksFixture.claims("alice", 60)))).user())
        .as("cached within the hour").isEqualTo("alice");
    assertThat(idp.fetches.get()).isEqualTo(1);
    clock.addAndGet(1);
    assertThat(Await.failure(auth.identify(JwksFixture.sign(old, JwksFixture.claims("alice", 60)))))
        .as("withdrawn once the set is an hour old").isInstanceOf(Auth.Unauthorized.class);
    assertThat(idp.fetches.get()).isEqualTo(2);
    assertThat(Await.result(auth.identify(JwksFixture.sign(current, JwksFixture.claims("bob", 60)))).user()).isEqualTo("bob");
    assertThat(idp.fetches.get()).as("fresh again").isEqualTo(2);
  }

  @Test
  void issuerAndAudienceAreEnforcedWhenSet() {
    JwksFixture.Key rsa = JwksFixture.rsa("rsa-1");
    idp.publish(rsa);
    Auth auth = auth(ISSUER, List.of("parley", "parley-staging"));
    JsonObject good = JwksFixture.claims("alice", 60).put("iss", ISSUER).put("aud", "parley");
    assertThat(Await.result(auth.identify(JwksFixture.sign(rsa, good))).user()).isEqualTo("alice");
    assertThat(Await.result(auth.identify(JwksFixture.sign(rsa, good.copy().put("aud", new JsonArray().add("other").add("parley-staging")))))
        .user()).as("one accepted audience among several").isEqualTo("alice");

    assertThat(Await.failure(auth.identify(JwksFixture.sign(rsa, good.copy().put("iss", "https://evil.example.com/")))))
        .isInstanceOf(Auth.Unauthorized.class).hasMessage("token issuer not accepted");
    JsonObject noIssuer = good.copy();
    noIssuer.remove("iss");
    assertThat(Await.failure(auth.identify(JwksFixture.sign(rsa, noIssuer)))).hasMessage("token issuer not accepted");
    assertThat(Await.failure(auth.identify(JwksFixture.sign(rsa, good.copy().put("aud", "other")))))
        .isInstanceOf(Auth.Unauthorized.class).hasMessage("token audience not accepted");
    assertThat(Await.failure(auth.identify(JwksFixture.sign(rsa, good.copy().put("aud", new JsonArray().add("x"))))))
        .hasMessage("token audience not accepted");
    JsonObject noAudience = good.copy();
    noAudience.remove("aud");
    assertThat(Await.failure(auth.identify(JwksFixture.sign(rsa, noAudience)))).hasMessage("token audience not accepted");

    // the server's own HS256 tokens carry the issuer and first audience, so they pass
    assertThat(Await.result(auth.identify(auth.issue("bob", 60))).user()).isEqualTo("bob");
    // and an HS256 token without them does not
    String bare = new Auth(vertx, SECRET).issue("bob", 60);
    assertThat(Await.failure(auth.identify(bare))).hasMessage("token issuer not accepted");
  }

  @Test
  void onlyRs256AndEs256SignatureKeysAreTakenFromTheKeySet() {
    JsonObject rsa = JwksFixture.rsa("r").jwk();
    JsonObject ec = JwksFixture.ec("e").jwk();
    List<JsonObject> usable = JwksKeys.usable(new JsonObject().put("keys", new JsonArray()
        .add(rsa)
        .add(ec)
        .add(new JsonObject().put("kty", "oct").put("kid", "sym").put("k", "c2VjcmV0"))
        .add(ec.copy().put("kid", "p384").put("crv", "P-384"))
        .add(rsa.copy().put("kid", "enc").put("use", "enc"))
        .add(rsa.copy().put("kid", "rs512").put("alg", "RS512"))
        .add("not an object")));
    assertThat(usable).extracting(k -> k.getString("kid")).containsExactly("r", "e");
    assertThat(usable).extracting(k -> k.getString("alg")).containsExactly("RS256", "ES256");
  }

  @Test
  void aKeySetOverOneMibIsNotRead() {
    JwksFixture.Key rsa = JwksFixture.rsa("rsa-1");
    idp.publish(rsa);
    idp.publishRaw(new JsonObject().put("kty", "oct").put("kid", "padding").put("k", "A".repeat(JwksKeys.BODY_MAX_BYTES)));
    Auth auth = auth("", List.of());
    assertThat(idp.fetches.get()).isEqualTo(1);
    assertThat(Await.failure(auth.identify(JwksFixture.sign(rsa, JwksFixture.claims("alice", 60)))))
        .as("nothing of the oversized set is used").isInstanceOf(Auth.Unauthorized.class);
    assertThat(Await.result(auth.identify(auth.issue("bob", 60))).user()).isEqualTo("bob");
  }

  @Test
  void anUnreachableKeySetLeavesHs256Working() {
    // port 1 (tcpmux): nothing listens there, the fetch is refused
    Auth auth = new Auth(vertx, SECRET, new IdentitySettings("http://127.0.0.1:1/jwks", "", List.of(), "", "", "text"),
        clock::get);
    Await.result(auth.start());
    assertThat(Await.result(auth.identify(auth.issue("alice", 60))).user()).isEqualTo("alice");
    assertThat(Await.failure(auth.identify(JwksFixture.sign(JwksFixture.rsa("k"), JwksFixture.claims("bob", 60)))))
        .isInstanceOf(Auth.Unauthorized.class);
  }

  private static String b64(String s) {
    return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private static String hmac(String key, String input) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key.getBytes(java.nio.charset.StandardCharsets.UTF_8), "HmacSHA256"));
      return java.util.Base64.getUrlEncoder().withoutPadding()
          .encodeToString(mac.doFinal(input.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
