package io.parley.presence;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@link ConnectionIds}: the device comes back out of every id the gateway builds, dashes and all. */
class ConnectionIdsTest {

  @Test
  void deviceRoundTrips() {
    assertThat(ConnectionIds.of("node-1", 42, "phone")).isEqualTo("node-1-42-phone");
    assertThat(ConnectionIds.device(ConnectionIds.of("node-1", 42, "phone"))).isEqualTo("phone");
    assertThat(ConnectionIds.device(ConnectionIds.of("node-1023", 7, "my-old-phone"))).isEqualTo("my-old-phone");
    assertThat(ConnectionIds.device(ConnectionIds.of("node-3", 1, "default"))).isEqualTo("default");
    assertThat(ConnectionIds.device(ConnectionIds.of("node-3", 1, "a_b-9"))).isEqualTo("a_b-9");
  }

  @Test
  void foreignIdsHaveNoDevice() {
    assertThat(ConnectionIds.device("c1")).isNull();
    assertThat(ConnectionIds.device("node-1-x-phone")).isNull();
    assertThat(ConnectionIds.device("node-1-2-")).isNull();
  }
}
