package io.parley.pushfakes;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * The fakes' pacing over HTTP: {@code POST /subscribe} gives a usable subscription; a throttled
 * push is answered 429 with the Retry-After asked for, and beyond the rate cap only; answers wait
 * for the delay; every answer is counted by kind.
 */
class PacingTest {
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> post(String uri, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(uri)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void subscribeOverHttpGivesARegistrableSubscription() throws Exception {
    try (FakePushService service = new FakePushService(null, "127.0.0.1", 0)) {
      HttpResponse<String> resp = post(service.origin() + "/subscribe", "");
      assertThat(resp.statusCode()).isEqualTo(200);
      JsonObject sub = new JsonObject(resp.body());
      assertThat(sub.getString("endpoint")).startsWith(service.origin() + "/push/s");
      byte[] p256dh = Base64.getUrlDecoder().decode(sub.getJsonObject("keys").getString("p256dh"));
      assertThat(UserAgentCrypto.publicKey(p256dh)).isNotNull();
      assertThat(Base64.getUrlDecoder().decode(sub.getJsonObject("keys").getString("auth"))).hasSize(16);

      assertThat(post(service.origin() + "/subscribe", "{\"applicationServerKey\":\"not-a-key\"}").statusCode()).isEqualTo(400);
    }
  }

  @Test
  void throttledPushesGet429WithRetryAfterAndAreCounted() throws Exception {
    try (FakePushService service = new FakePushService(null, "127.0.0.1", 0)) {
      String endpoint = service.subscribe().endpoint();
      service.pacing.throttle(0, 7, 0);
      HttpResponse<String> throttled = post(endpoint, "x");
      assertThat(throttled.statusCode()).isEqualTo(429);
      assertThat(throttled.headers().firstValue("Retry-After")).hasValue("7");

      service.pacing.throttleOff();
      assertThat(post(endpoint, "x").statusCode()).as("no VAPID: refused, no longer throttled").isEqualTo(400);
      assertThat(service.pacing.counters()).isEqualTo(new JsonObject().put("accepted", 0L).put("throttled", 1L).put("other", 1L));
    }
  }

  @Test
  void aRateCapLetsThatManyThroughPerSecond() throws Exception {
    try (FakePushService service = new FakePushService(null, "127.0.0.1", 0)) {
      String endpoint = service.subscribe().endpoint();
      service.pacing.throttle(60_000, 1, 2);
      int tooMany = 0;
      for (int i = 0; i < 5; i++) {
        if (post(endpoint, "x").statusCode() == 429) {
          tooMany++;
        }
      }
      // the five fall into one or two seconds: 2 or 4 pass the cap (and are then refused: no VAPID)
      assertThat(tooMany).isBetween(1, 3);
      assertThat(service.pacing.throttledCount()).isEqualTo(tooMany);
    }
  }

  @Test
  void answersWaitForTheDelay() throws Exception {
    try (FakeFcmService fcm = new FakeFcmService()) {
      fcm.pacing.setDelayMs(300);
      long start = System.nanoTime();
      HttpResponse<String> resp = post(fcm.origin() + "/v1/projects/" + FakeFcmService.PROJECT + "/messages:send", "{}");
      long elapsedMs = (System.nanoTime() - start) / 1_000_000;
      assertThat(resp.statusCode()).as("no bearer token").isEqualTo(401);
      assertThat(elapsedMs).isGreaterThanOrEqualTo(300);
      assertThat(fcm.pacing.otherCount()).isEqualTo(1);
    }
  }
}
