package io.parley.push;

import static org.assertj.core.api.Assertions.assertThat;

import com.eatthepath.pushy.apns.server.RejectionReason;
import io.parley.push.ProviderSender.Kind;
import io.parley.push.ProviderSender.Outcome;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ApnsSender} against Pushy's mock APNs ({@link MockApns}), which checks every provider
 * token against the key pair's public key, the topic and the device token: the notification
 * arrives with APNs's headers and the aps dictionary; one provider token serves every send until
 * it is 40 minutes old on the sender's clock; a token APNs calls expired is replaced and the send
 * retried once; Unregistered, BadDeviceToken and DeviceTokenNotForTopic are "gone", 413 too large,
 * 429 throttled, 5xx retried. Retry-After, which the mock never sends, comes from a small Vert.x
 * HTTP/2 server answering like APNs. TLS is verified: the mock's certificate is trusted only
 * through the configured CA, and only for the name it was made for.
 */
class ApnsSenderTest {
  static MockApns apns;
  private final AtomicLong offsetMs = new AtomicLong();
  private final LongSupplier clock = () -> System.currentTimeMillis() + offsetMs.get();
  private Vertx vertx;
  private ApnsSender sender;

  @BeforeAll
  static void startApns() throws Exception {
    apns = new MockApns();
  }

  @AfterAll
  static void stopApns() {
    apns.close();
  }

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    sender = sender(apns.origin(), apns.origin(), MockApns.TOPIC);
    apns.received.clear();
    apns.rejected.clear();
    apns.providerTokens.clear();
  }

  @AfterEach
  void tearDown() {
    Await.result(vertx.close());
  }

  private ApnsSender sender(String base, String sandbox, String defaultTopic) throws Exception {
    return new ApnsSender(vertx, apns.credentials(), defaultTopic, base, sandbox, clock);
  }

  private static PushRegistration device(String token) {
    return new PushRegistration("bob", "phone", PushRegistration.APNS, token, new JsonObject().put("sandbox", false), 1, 1);
  }

  private static PushRegistration device(String token, JsonObject params) {
    return new PushRegistration("bob", "phone", PushRegistration.APNS, token, params, 1, 1);
  }

  private static String payload(long conv, long serverId) {
    return PushPayload.of(new PushSender.Notification("bob", conv, serverId, "alice", "hello"), 0);
  }

  private Outcome send(ApnsSender s, PushRegistration d, long conv, String payload) {
    return Await.result(s.send(d, conv, payload));
  }

  @Test
  void theNotificationArrivesWithApnsHeadersAndTheApsDictionary() throws Exception {
    String token = apns.registerDevice();
    String payload = new JsonObject(PushPayload.of(new PushSender.Notification("bob", 77, 9001, "alice", "hello there"), 5))
        .put("count", 3).put("badge", 4).encode();
    long before = System.currentTimeMillis() / 1000;

    assertThat(send(sender, device(token), 77, payload)).isEqualTo(Outcome.ACCEPTED);

    MockApns.Received r = apns.next(Duration.ofSeconds(5));
    assertThat(r.deviceToken()).isEqualTo(token);
    assertThat(r.header(":path")).isEqualTo("/3/device/" + token);
    assertThat(r.header("apns-topic")).isEqualTo(MockApns.TOPIC);
    assertThat(r.header("apns-push-type")).isEqualTo("alert");
    assertThat(r.header("apns-priority")).isEqualTo("10");
    assertThat(r.header("apns-collapse-id")).isEqualTo("c77");
    assertThat(Long.parseLong(r.header("apns-expiration"))).isBetween(before + 86_400 - 5, before + 86_400 + 5);
    assertThat(r.body()).isEqualTo(new JsonObject()
        .put("aps", new JsonObject()
            .put("alert", new JsonObject().put("body", "hello").put("title", "alice"))
            .put("badge", 4).put("sound", "default").put("thread-id", "c77").put("mutable-content", 1))
        .put("conv", "77").put("server_id", "9001").put("from", "alice").put("count", 3).put("fetch", true).put("preview", "hello"));
    assertThat(apns.rejected).isEmpty();
  }

  @Test
  void withoutAPreviewTheAlertSaysHowManyMessagesAndNoBadgeWithoutOne() {
    JsonObject one = ApnsSender.body(5, payload(5, 1));
    assertThat(one.getJsonObject("aps").getJsonObject("alert").getString("body")).isEqualTo("New message");
    assertThat(one.getJsonObject("aps").containsKey("badge")).isFalse();
    assertThat(one.containsKey("preview")).isFalse();
    JsonObject many = ApnsSender.body(5, new JsonObject(payload(5, 1)).put("count", 12).encode());
    assertThat(many.getJsonObject("aps").getJsonObject("alert").getString("body")).isEqualTo("12 new messages");
  }

  @Test
  void theRegistrationsTopicWinsTheDefaultServesTheOthersSandboxGoesToTheSandboxHost() throws Exception {
    String token = apns.registerDevice();
    ApnsSender otherDefault = sender(apns.origin(), apns.origin(), "com.example.other");
    assertThat(send(otherDefault, device(token, new JsonObject().put("topic", MockApns.TOPIC)), 1, payload(1, 1)))
        .isEqualTo(Outcome.ACCEPTED);
    assertThat(send(sender, device(token, new JsonObject()), 1, payload(1, 2))).as("no topic: the default").isEqualTo(Outcome.ACCEPTED);
    assertThat(send(sender(apns.origin(), apns.origin(), ""), device(token, new JsonObject()), 1, payload(1, 3)))
        .as("no topic at all: refused here, not sent").extracting(Outcome::kind).isEqualTo(Kind.REFUSED);

    String nowhere = "https://localhost:1";
    ApnsSender split = sender(nowhere, apns.origin(), MockApns.TOPIC);
    assertThat(send(split, device(token, new JsonObject().put("sandbox", true)), 1, payload(1, 4))).isEqualTo(Outcome.ACCEPTED);
    assertThat(Await.failure(split.send(device(token), 1, payload(1, 5)))).as("production: the other host, where nothing listens")
        .hasStackTraceContaining("Connection refused");

    assertThat(List.of(apns.next(Duration.ofSeconds(5)), apns.next(Duration.ofSeconds(5)), apns.next(Duration.ofSeconds(5))))
        .extracting(r -> r.body().getString("server_id")).containsExactly("1", "2", "4");
    assertThat(apns.rejected).isEmpty();
  }

  @Test
  void oneProviderTokenServesEverySendUntilItIsFortyMinutesOld() throws Exception {
    String token = apns.registerDevice();
    List<Future<Outcome>> sends = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      sends.add(sender.send(device(token), i, payload(i, i)));
    }
    Await.result(Future.all(sends));
    assertThat(sends).allSatisfy(f -> assertThat(f.result()).isEqualTo(Outcome.ACCEPTED));
    offsetMs.addAndGet(Duration.ofMinutes(39).toMillis());
    assertThat(send(sender, device(token), 9, payload(9, 9))).isEqualTo(Outcome.ACCEPTED);
    assertThat(apns.providerTokens).hasSize(6).as("one token for six sends").containsOnly(apns.providerTokens.get(0));

    String jwt = apns.providerTokens.get(0);
    JsonObject header = part(jwt, 0);
    JsonObject claims = part(jwt, 1);
    assertThat(header.getString("alg")).isEqualTo("ES256");
    assertThat(header.getString("kid")).isEqualTo(MockApns.KEY_ID);
    assertThat(claims.fieldNames()).containsExactlyInAnyOrder("iss", "iat");
    assertThat(claims.getString("iss")).isEqualTo(MockApns.TEAM_ID);
    assertThat(claims.getLong("iat")).isCloseTo(System.currentTimeMillis() / 1000, org.assertj.core.data.Offset.offset(60L));

    offsetMs.addAndGet(Duration.ofMinutes(1).toMillis() + 1);
    assertThat(send(sender, device(token), 9, payload(9, 10))).isEqualTo(Outcome.ACCEPTED);
    assertThat(apns.providerTokens).hasSize(7);
    assertThat(apns.providerTokens.get(6)).as("renewed at 40 minutes").isNotEqualTo(jwt);
    assertThat(part(apns.providerTokens.get(6), 1).getLong("iat")).isCloseTo(clock.getAsLong() / 1000, org.assertj.core.data.Offset.offset(2L));
    assertThat(apns.rejected).isEmpty();
  }

  private static JsonObject part(String jwt, int i) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[i]), StandardCharsets.UTF_8));
  }

  @Test
  void anExpiredProviderTokenIsReplacedAndTheSendRetriedOnce() throws Exception {
    String token = apns.registerDevice();
    assertThat(send(sender, device(token), 1, payload(1, 1))).isEqualTo(Outcome.ACCEPTED);
    String first = apns.providerTokens.get(0);
    apns.revoke(first);

    assertThat(send(sender, device(token), 1, payload(1, 2))).isEqualTo(Outcome.ACCEPTED);
    assertThat(apns.providerTokens).hasSize(3);
    assertThat(apns.providerTokens.get(1)).isEqualTo(first);
    assertThat(apns.providerTokens.get(2)).isNotEqualTo(first);
    assertThat(apns.rejected).containsExactly(token + " " + RejectionReason.EXPIRED_PROVIDER_TOKEN);
    assertThat(apns.next(Duration.ofSeconds(5)).body().getString("server_id")).isEqualTo("1");
    assertThat(apns.next(Duration.ofSeconds(5)).body().getString("server_id")).isEqualTo("2");

    // a clock an hour behind: every token it makes is expired for APNs (Pushy checks iat itself)
    apns.providerTokens.clear();
    apns.rejected.clear();
    offsetMs.set(-Duration.ofMinutes(61).toMillis());
    ApnsSender late = sender(apns.origin(), apns.origin(), MockApns.TOPIC);
    Outcome o = send(late, device(token), 1, payload(1, 3));
    assertThat(o.kind()).as("retried once, then left to push's retries").isEqualTo(Kind.RETRY);
    assertThat(o.status()).isEqualTo(403);
    assertThat(o.reason()).isEqualTo("ExpiredProviderToken");
    assertThat(apns.providerTokens).hasSize(2).doesNotHaveDuplicates();
    assertThat(apns.received).isEmpty();
  }

  @Test
  void aProviderTokenSignedByAnotherKeyIsRefused() throws Exception {
    String token = apns.registerDevice();
    try (MockApns other = new MockApns()) {
      ApnsCredentials theirs = other.credentials();
      ApnsSender stranger = new ApnsSender(vertx, new ApnsCredentials(theirs.keyId(), theirs.teamId(), theirs.privateKeyPem(),
          apns.credentials().trustedCaPem()), MockApns.TOPIC, apns.origin(), apns.origin(), clock);
      Outcome o = send(stranger, device(token), 1, payload(1, 1));
      assertThat(o.kind()).isEqualTo(Kind.RETRY);
      assertThat(o.reason()).isEqualTo("InvalidProviderToken");
    }
    assertThat(apns.received).isEmpty();
  }

  @Test
  void unregisteredAndBadTokensAreGone() {
    String unregistered = apns.registerDevice();
    apns.answer(unregistered, RejectionReason.UNREGISTERED);
    Outcome o = send(sender, device(unregistered), 1, payload(1, 1));
    assertThat(o).extracting(Outcome::kind, Outcome::status, Outcome::reason).containsExactly(Kind.GONE, 410, "Unregistered");

    Outcome bad = send(sender, device("ab".repeat(50)), 1, payload(1, 1));
    assertThat(bad).extracting(Outcome::kind, Outcome::status, Outcome::reason).containsExactly(Kind.GONE, 400, "BadDeviceToken");

    Outcome otherApp = send(sender, device("cd".repeat(32)), 1, payload(1, 1));
    assertThat(otherApp).extracting(Outcome::kind, Outcome::status, Outcome::reason)
        .containsExactly(Kind.GONE, 400, "DeviceTokenNotForTopic");
    assertThat(apns.received).isEmpty();
  }

  @Test
  void tooLargeThrottledUnavailableAndRefused() {
    String big = apns.registerDevice(), busy = apns.registerDevice(), broken = apns.registerDevice(),
        down = apns.registerDevice(), disallowed = apns.registerDevice();
    apns.answer(big, RejectionReason.PAYLOAD_TOO_LARGE);
    apns.answer(busy, RejectionReason.TOO_MANY_REQUESTS);
    apns.answer(broken, RejectionReason.INTERNAL_SERVER_ERROR);
    apns.answer(down, RejectionReason.SERVICE_UNAVAILABLE);
    apns.answer(disallowed, RejectionReason.TOPIC_DISALLOWED);

    assertThat(send(sender, device(big), 1, payload(1, 1))).extracting(Outcome::kind, Outcome::status, Outcome::reason)
        .containsExactly(Kind.TOO_LARGE, 413, "PayloadTooLarge");
    assertThat(send(sender, device(busy), 1, payload(1, 1))).extracting(Outcome::kind, Outcome::status, Outcome::retryAfterMs)
        .containsExactly(Kind.THROTTLED, 429, -1L);
    assertThat(send(sender, device(broken), 1, payload(1, 1))).extracting(Outcome::kind, Outcome::status)
        .containsExactly(Kind.RETRY, 500);
    assertThat(send(sender, device(down), 1, payload(1, 1))).extracting(Outcome::kind, Outcome::status)
        .containsExactly(Kind.RETRY, 503);
    assertThat(send(sender, device(disallowed), 1, payload(1, 1))).extracting(Outcome::kind, Outcome::status, Outcome::reason)
        .containsExactly(Kind.REFUSED, 400, "TopicDisallowed");
    assertThat(apns.providerTokens).as("no token renewal for these").containsOnly(apns.providerTokens.get(0));
  }

  @Test
  void retryAfterIsHonouredWhenApnsSendsOne() throws Exception {
    MockApns.Scripted scripted = apns.scripted(vertx);
    ApnsSender s = sender(scripted.origin(), scripted.origin(), MockApns.TOPIC);
    scripted.answer(429, "TooManyRequests", "30");
    assertThat(send(s, device("ab".repeat(32)), 1, payload(1, 1)))
        .extracting(Outcome::kind, Outcome::status, Outcome::retryAfterMs, Outcome::reason)
        .containsExactly(Kind.THROTTLED, 429, 30_000L, "TooManyRequests");
    scripted.answer(503, "ServiceUnavailable", "5");
    assertThat(send(s, device("ab".repeat(32)), 1, payload(1, 1)))
        .extracting(Outcome::kind, Outcome::status, Outcome::retryAfterMs).containsExactly(Kind.RETRY, 503, 5_000L);
    assertThat(scripted.protocols).as("HTTP/2 over TLS").containsOnly(HttpVersion.HTTP_2);
  }

  @Test
  void tlsIsVerifiedTransportErrorsFailTheSend() throws Exception {
    String token = apns.registerDevice();
    ApnsCredentials k = apns.credentials();
    ApnsSender jdkTrust = new ApnsSender(vertx, new ApnsCredentials(k.keyId(), k.teamId(), k.privateKeyPem(), ""),
        MockApns.TOPIC, apns.origin(), apns.origin(), clock);
    assertThat(Await.failure(jdkTrust.send(device(token), 1, payload(1, 1)))).as("a certificate the JDK does not trust")
        .hasStackTraceContaining("SSLHandshakeException").hasStackTraceContaining("PKIX");

    String byAddress = apns.origin().replace("localhost", "127.0.0.1");
    assertThat(Await.failure(sender(byAddress, byAddress, MockApns.TOPIC).send(device(token), 1, payload(1, 1))))
        .as("the certificate is for localhost, not 127.0.0.1: hostname verification is on")
        .hasStackTraceContaining("SSLHandshakeException").hasStackTraceContaining("No subject alternative");
    assertThat(apns.received).isEmpty();
  }
}
