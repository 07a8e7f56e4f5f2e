package io.parley.push;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.push.ProviderSender.Outcome;
import io.parley.pushfakes.FakeFcmService;
import io.parley.pushfakes.FakeFcmService.Answer;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link FcmSender} against {@link FakeFcmService}, which verifies the RS256 assertion of each
 * token request and the bearer token and message of each send: the payload arrives as string data
 * collapsed per conversation; one access token serves many sends, concurrent ones included, until
 * shortly before it expires (time moved on a clock the sender and the service share); a revoked
 * token is replaced and the send retried once, not twice; UNREGISTERED and a malformed token are
 * "gone", 503 a failure; an assertion signed by another key gets no token.
 */
class FcmSenderTest {
  private final AtomicLong offsetMs = new AtomicLong();
  private final LongSupplier clock = () -> System.currentTimeMillis() + offsetMs.get();
  private Vertx vertx;
  private FakeFcmService fcm;
  private FcmSender sender;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    fcm = new FakeFcmService(clock);
    sender = new FcmSender(vertx, FcmServiceAccount.parse(fcm.serviceAccountJson().encode(), ""), fcm.origin(), clock);
  }

  @AfterEach
  void tearDown() {
    fcm.close();
    Await.result(vertx.close());
  }

  private static PushRegistration device(String token) {
    return new PushRegistration("bob", "phone", PushRegistration.FCM, token, new JsonObject(), 1, 1);
  }

  private static String payload(long conv, long serverId) {
    return PushPayload.of(new PushSender.Notification("bob", conv, serverId, "alice", "hello"), 3);
  }

  @Test
  void thePayloadArrivesAsStringDataCollapsedPerConversation() throws Exception {
    assertThat(Await.result(sender.send(device("tok-1"), 77, payload(77, 9001)))).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.ACCEPTED);

    FakeFcmService.Received r = fcm.next(Duration.ofSeconds(5));
    assertThat(r.token()).isEqualTo("tok-1");
    assertThat(r.data()).isEqualTo(new JsonObject().put("conv", "77").put("server_id", "9001").put("sender", "alice")
        .put("count", "1").put("fetch", "true").put("preview", "hel"));
    assertThat(r.collapseKey()).isEqualTo("c77");
    assertThat(r.priority()).isEqualTo("high");
    assertThat(fcm.errors).isEmpty();
  }

  @Test
  void oneAccessTokenServesManySendsConcurrentOnesIncluded() {
    List<Future<Outcome>> sends = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      sends.add(sender.send(device("tok-" + i), i, payload(i, i)));
    }
    Await.result(Future.all(sends));
    assertThat(sends).allSatisfy(f -> assertThat(f.result()).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.ACCEPTED));
    assertThat(Await.result(sender.send(device("tok-9"), 9, payload(9, 9)))).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.ACCEPTED);

    assertThat(fcm.tokenRequests).as("one token request for six sends").hasValue(1);
    assertThat(fcm.received).hasSize(6);
    assertThat(fcm.errors).isEmpty();
  }

  @Test
  void theTokenIsRenewedShortlyBeforeItExpires() {
    assertThat(Await.result(sender.send(device("tok-1"), 1, payload(1, 1)))).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.ACCEPTED);

    offsetMs.addAndGet(Duration.ofMinutes(58).toMillis()); // two minutes left
    assertThat(Await.result(sender.send(device("tok-1"), 1, payload(1, 2)))).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.ACCEPTED);
    assertThat(fcm.tokenRequests).as("still the first token").hasValue(1);

    offsetMs.addAndGet(Duration.ofSeconds(61).toMillis()); // 59 s left
    assertThat(Await.result(sender.send(device("tok-1"), 1, payload(1, 3)))).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.ACCEPTED);
    assertThat(fcm.tokenRequests).as("renewed before it expired").hasValue(2);
    assertThat(fcm.unauthorized).as("never sent with an expired token").hasValue(0);
    assertThat(fcm.errors).isEmpty();
  }

  @Test
  void aShortLivedTokenIsRenewedHalfwayThrough() {
    fcm.expiresInS = 100;
    Await.result(sender.send(device("tok-1"), 1, payload(1, 1)));
    offsetMs.addAndGet(49_000);
    Await.result(sender.send(device("tok-1"), 1, payload(1, 2)));
    assertThat(fcm.tokenRequests).hasValue(1);
    offsetMs.addAndGet(2_000);
    assertThat(Await.result(sender.send(device("tok-1"), 1, payload(1, 3)))).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.ACCEPTED);
    assertThat(fcm.tokenRequests).hasValue(2);
    assertThat(fcm.unauthorized).hasValue(0);
  }

  @Test
  void aRevokedTokenIsReplacedAndTheSendRetriedOnce() throws Exception {
    Await.result(sender.send(device("tok-1"), 1, payload(1, 1)));
    fcm.revokeAccessTokens();

    assertThat(Await.result(sender.send(device("tok-1"), 1, payload(1, 2)))).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.ACCEPTED);
    assertThat(fcm.unauthorized).hasValue(1);
    assertThat(fcm.tokenRequests).hasValue(2);
    assertThat(fcm.next(Duration.ofSeconds(5)).data().getString("server_id")).isEqualTo("1");
    assertThat(fcm.next(Duration.ofSeconds(5)).data().getString("server_id")).isEqualTo("2");

    fcm.refuseAllAccessTokens = true;
    assertThat(Await.result(sender.send(device("tok-1"), 1, payload(1, 3)))).as("retried once, then left to push's retries")
        .extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.RETRY);
    assertThat(fcm.unauthorized).hasValue(3);
    assertThat(fcm.tokenRequests).hasValue(3);
    assertThat(fcm.errors).isEmpty();
  }

  @Test
  void unregisteredAndMalformedTokensAreGoneUnavailableIsRetried() {
    fcm.answer("old", Answer.UNREGISTERED);
    fcm.answer("garbled", Answer.INVALID_TOKEN);
    fcm.answer("busy", Answer.UNAVAILABLE);

    assertThat(Await.result(sender.send(device("old"), 1, payload(1, 1)))).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.GONE);
    assertThat(Await.result(sender.send(device("garbled"), 1, payload(1, 1)))).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.GONE);
    assertThat(Await.result(sender.send(device("busy"), 1, payload(1, 1)))).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.RETRY);
    assertThat(fcm.received).isEmpty();
    assertThat(fcm.errors).isEmpty();
  }

  @Test
  void otherAnswersAreNotGone() {
    assertThat(FcmSender.outcome(404, io.vertx.core.buffer.Buffer.buffer("{\"error\":{\"code\":404,\"status\":\"NOT_FOUND\"}}"), -1))
        .as("a 404 without UNREGISTERED: a wrong project, not a dead token").extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.REFUSED);
    assertThat(FcmSender.outcome(400, io.vertx.core.buffer.Buffer.buffer("{\"error\":{\"code\":400,\"status\":\"INVALID_ARGUMENT\","
        + "\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.BadRequest\",\"fieldViolations\":[{\"field\":\"message.data\"}]}]}}"), -1))
        .as("our message at fault, not the token").extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.REFUSED);
    assertThat(FcmSender.outcome(429, io.vertx.core.buffer.Buffer.buffer("not json"), 5000)).isEqualTo(Outcome.of(ProviderSender.Kind.THROTTLED, 429, 5000, ""));
  }

  @Test
  void anAssertionSignedByAnotherKeyGetsNoToken() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    FcmServiceAccount impostor = new FcmServiceAccount(FakeFcmService.CLIENT_EMAIL, FakeFcmService.pem(g.generateKeyPair().getPrivate()),
        fcm.tokenUri(), FakeFcmService.PROJECT);
    FcmSender other = new FcmSender(vertx, impostor, fcm.origin(), clock);

    Throwable failure = Await.failure(other.send(device("tok-1"), 1, payload(1, 1)));
    assertThat(failure).hasMessageContaining("token endpoint answered 400");
    assertThat(fcm.errors).singleElement().asString().contains("not signed by the service account's key");
    assertThat(fcm.received).isEmpty();
  }
}
