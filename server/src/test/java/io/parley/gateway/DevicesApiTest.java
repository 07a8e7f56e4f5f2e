package io.parley.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.push.PushRegistration;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link DevicesApi#parse} for APNs: the token is 64–200 hex digits, stored in lower case; the
 * topic may be left out when the server has {@code push.apns.topic} (the registration then names
 * none, so the setting in force applies when sending), and is required when it has not; APNs off
 * refuses the registration naming the provider.
 */
class DevicesApiTest {
  private static DevicesApi api(Set<String> providers, String apnsTopic) {
    return new DevicesApi(null, null, null, 10, providers, null, apnsTopic);
  }

  private static JsonObject apns(String token) {
    return new JsonObject().put("provider", "apns").put("token", token);
  }

  @Test
  void apnsTopicFallsBackToTheServersOnlyWhenItHasOne() {
    DevicesApi withDefault = api(Set.of("apns"), "com.example.app");
    PushRegistration r = withDefault.parse("bob", "phone", apns("AB".repeat(32)).put("sandbox", true), 5);
    assertThat(r.address()).isEqualTo("ab".repeat(32));
    assertThat(r.params()).isEqualTo(new JsonObject().put("sandbox", true));
    assertThat(withDefault.parse("bob", "phone", apns("ab".repeat(100)).put("topic", "com.example.app.voip"), 5).params())
        .isEqualTo(new JsonObject().put("topic", "com.example.app.voip").put("sandbox", false));

    DevicesApi noDefault = api(Set.of("apns"), "");
    assertThatThrownBy(() -> noDefault.parse("bob", "phone", apns("ab".repeat(32)), 5))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'topic'").hasMessageContaining("no default topic");
    assertThat(noDefault.parse("bob", "phone", apns("ab".repeat(32)).put("topic", "com.example.app"), 5).params().getString("topic"))
        .isEqualTo("com.example.app");
  }

  @Test
  void apnsTokensAreHexAndTheProviderMustBeOn() {
    DevicesApi on = api(Set.of("apns"), "com.example.app");
    for (String bad : new String[] {"ab".repeat(31), "ab".repeat(101), "zz".repeat(32), ""}) {
      assertThatThrownBy(() -> on.parse("bob", "phone", apns(bad), 5)).as(bad).hasMessageContaining("'token'");
    }
    assertThatThrownBy(() -> on.parse("bob", "phone", apns("ab".repeat(32)).put("topic", 7), 5)).hasMessageContaining("'topic'");
    assertThatThrownBy(() -> api(Set.of("fcm"), "com.example.app").parse("bob", "phone", apns("ab".repeat(32)), 5))
        .hasMessageContaining("'apns' is not configured");
  }
}
