package io.parley.push;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.pushfakes.FakePushService;
import io.parley.testing.Await;
import io.parley.push.ProviderSender.Outcome;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link WebPushSender} against {@link FakePushService}: a push the service decrypts and whose
 * VAPID JWT it verifies (signature, aud, exp) is accepted; the conversation is the {@code Topic};
 * 404 and 410 are "gone", 500 is a failure; a JWT signed by another key is refused by the
 * service; the JWT audience is the endpoint's scheme, host and port, without the path.
 */
class WebPushSenderTest {
  private Vertx vertx;
  private VapidKeys keys;
  private FakePushService service;
  private WebPushSender sender;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    keys = VapidKeys.generate();
    service = new FakePushService(keys.publicKeyBase64Url());
    sender = new WebPushSender(vertx, keys, "mailto:ops@example.com");
  }

  @AfterEach
  void tearDown() throws Exception {
    service.close();
    Await.result(vertx.close());
  }

  private static PushRegistration registration(FakePushService.Subscription s) {
    JsonObject sub = s.registration().getJsonObject("subscription");
    return new PushRegistration("alice", "laptop", "webpush", sub.getString("endpoint"), sub.getJsonObject("keys"), 1, 1);
  }

  @Test
  void theServiceDecryptsWhatItGets() throws Exception {
    FakePushService.Subscription s = service.subscribe();
    String payload = "{\"conv\":\"77\",\"server_id\":\"9\"}";

    assertThat(Await.result(sender.send(registration(s), 77, payload))).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.ACCEPTED);
    assertThat(Await.result(sender.send(registration(s), 77, payload))).as("the cached JWT again").extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.ACCEPTED);

    FakePushService.Received r = service.next(Duration.ofSeconds(5));
    assertThat(r.subscription()).isEqualTo(s.id);
    assertThat(r.payload()).isEqualTo(new JsonObject(payload));
    assertThat(r.topic()).isEqualTo("c77");
    assertThat(r.ttl()).isEqualTo("86400");
    assertThat(service.errors).isEmpty();
  }

  @Test
  void goneAndFailedAnswers() throws Exception {
    assertThat(Await.result(sender.send(registration(service.subscribe().answer(410)), 1, "{}"))).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.GONE);
    assertThat(Await.result(sender.send(registration(service.subscribe().answer(404)), 1, "{}"))).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.GONE);
    assertThat(Await.result(sender.send(registration(service.subscribe().answer(500)), 1, "{}"))).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.RETRY);
    assertThat(Await.result(sender.send(registration(service.subscribe().answer(429)), 1, "{}"))).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.THROTTLED);
    assertThat(service.errors).isEmpty();
  }

  @Test
  void aJwtOfAnotherKeyIsRefused() throws Exception {
    WebPushSender impostor = new WebPushSender(vertx, VapidKeys.generate(), "");
    assertThat(Await.result(impostor.send(registration(service.subscribe()), 1, "{}"))).extracting(Outcome::kind).isEqualTo(ProviderSender.Kind.REFUSED);
    assertThat(service.errors).singleElement().asString().contains("application server key");
  }

  @Test
  void originIsSchemeHostAndPort() {
    assertThat(WebPushSender.origin(URI.create("https://FCM.googleapis.com/fcm/send/abc"))).isEqualTo("https://fcm.googleapis.com");
    assertThat(WebPushSender.origin(URI.create("http://127.0.0.1:8443/push/1"))).isEqualTo("http://127.0.0.1:8443");
  }

}
