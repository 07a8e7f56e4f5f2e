package io.parley.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class OriginsTest {
  private final Origins none = new Origins(List.of(), false);
  private final Origins listed = new Origins(List.of("https://chat.example.com", "http://app.example.com:8081"), false);
  private final Origins embedded = new Origins(List.of(), true);

  @Test
  void aRequestWithoutOriginIsNotABrowserAndIsAllowed() {
    assertThat(none.allows(null, "chat.example.com", false)).isTrue();
  }

  @Test
  void theServersOwnOriginIsAllowedWhateverTheList() {
    assertThat(none.allows("http://127.0.0.1:8080", "127.0.0.1:8080", false)).isTrue();
    assertThat(none.allows("HTTP://Chat.Example.COM", "chat.example.com", false)).as("case").isTrue();
    // behind a TLS-terminating proxy: the browser's https page, a Host without a port
    assertThat(none.allows("https://chat.example.com", "chat.example.com", false)).isTrue();
    assertThat(none.allows("https://chat.example.com:8443", "chat.example.com:8443", true)).isTrue();
    assertThat(none.allows("http://[::1]:8080", "[::1]:8080", false)).isTrue();
  }

  @Test
  void anotherSiteIsRefused() {
    assertThat(none.allows("https://evil.example", "chat.example.com", false)).isFalse();
    assertThat(none.allows("http://127.0.0.1:9999", "127.0.0.1:8080", false)).as("another port").isFalse();
    assertThat(none.allows("https://chat.example.com.evil.example", "chat.example.com", false)).isFalse();
    assertThat(none.allows("http://localhost:3000", "chat.example.com", false)).as("loopback off").isFalse();
    assertThat(none.allows("https://evil.example", null, false)).as("no Host").isFalse();
  }

  @Test
  void opaqueAndMalformedOriginsAreRefused() {
    assertThat(none.allows("null", "chat.example.com", false)).isFalse();
    assertThat(none.allows("file://", "chat.example.com", false)).isFalse();
    assertThat(none.allows("https://chat.example.com/path", "chat.example.com", false)).isFalse();
    assertThat(none.allows("not an origin", "chat.example.com", false)).isFalse();
  }

  @Test
  void listedOriginsAreAllowedWithTheirDefaultPorts() {
    assertThat(listed.allows("https://chat.example.com", "api.example.com", false)).isTrue();
    assertThat(listed.allows("https://chat.example.com:443", "api.example.com", false)).isTrue();
    assertThat(listed.allows("http://chat.example.com", "api.example.com", false)).as("other scheme").isFalse();
    assertThat(listed.allows("http://app.example.com:8081", "api.example.com", false)).isTrue();
    assertThat(listed.allows("http://app.example.com", "api.example.com", false)).as("other port").isFalse();
  }

  @Test
  void theEmbeddedProfileAllowsLoopbackOriginsOnAnyPort() {
    assertThat(embedded.allows("http://localhost:5173", "127.0.0.1:8080", false)).isTrue();
    assertThat(embedded.allows("http://127.0.0.1:3000", "127.0.0.1:8080", false)).isTrue();
    assertThat(embedded.allows("http://[::1]:3000", "127.0.0.1:8080", false)).isTrue();
    assertThat(embedded.allows("http://localhost.evil.example", "127.0.0.1:8080", false)).isFalse();
  }

  @Test
  void aStarAllowsEveryOrigin() {
    assertThat(new Origins(List.of("*"), false).allows("https://anywhere.example", "chat.example.com", false)).isTrue();
  }

  @Test
  void normalizeMakesTheDefaultPortExplicitAndRefusesNonOrigins() {
    assertThat(Origins.normalize("HTTPS://Chat.Example.com")).isEqualTo("https://chat.example.com:443");
    assertThat(Origins.normalize("http://localhost")).isEqualTo("http://localhost:80");
    assertThatThrownBy(() -> Origins.normalize("ws://chat.example.com")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Origins.normalize("https://u@chat.example.com")).isInstanceOf(IllegalArgumentException.class);
  }
}
