package io.parley.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hazelcast.cluster.Address;
import io.parley.config.ConfigException;
import io.parley.config.ConfigLoader;
import io.parley.config.ParleyConfig;
import io.parley.testing.Await;
import io.vertx.core.Vertx;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@code cluster.host} reaches Hazelcast's interface list as an IP address: Hazelcast drops a host
 * name from that list and then cannot start ("No matching network interface found"), so a
 * container's service name is resolved first (deploy/compose.yaml names nodes parley1..3).
 */
class ClusterHostTest {

  @Test
  void anIpAddressIsKeptAsItIs() {
    assertThat(ClusterBackends.interfaceAddress("127.0.0.1")).isEqualTo("127.0.0.1");
    assertThat(ClusterBackends.interfaceAddress("10.1.2.3")).isEqualTo("10.1.2.3");
  }

  @Test
  void aHostNameBecomesItsAddress() throws Exception {
    String name = InetAddress.getLocalHost().getHostName();
    String address = ClusterBackends.interfaceAddress(name);
    assertThat(address).isNotEqualTo(name);
    assertThat(InetAddress.getByName(address).isAnyLocalAddress()).isFalse();
    assertThat(InetAddress.getAllByName(name)).extracting(InetAddress::getHostAddress).contains(address);
    assertThat(ClusterBackends.interfaceAddress("localhost")).isEqualTo("127.0.0.1");
  }

  @Test
  void anUnknownHostNameIsAConfigurationErrorNamingTheKey() {
    // .invalid never resolves (RFC 6761)
    assertThatThrownBy(() -> ClusterBackends.interfaceAddress("parley-node.invalid"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cluster.host")
        .hasMessageContaining("PARLEY_CLUSTER_HOST");
  }

  @Test
  void aNodeNamedByHostNameJoinsOnItsAddress() {
    ParleyConfig config = ConfigLoader.load(Map.of("PARLEY_PROFILE", "cluster",
        "PARLEY_JWT_SECRET", "a-test-secret-of-at-least-32-bytes!!",
        "PARLEY_CLUSTER_NAME", "parley-host-test-" + System.nanoTime(),
        "PARLEY_CLUSTER_HOST", "localhost", "PARLEY_CLUSTER_PORT", "0", "PARLEY_CLUSTER_MEMBERS", ""), Map.of());
    AtomicReference<ClusterManager> manager = new AtomicReference<>();
    Vertx vertx = Await.result("the cluster join", ClusterBackends.joinCluster(config, manager::set), Duration.ofSeconds(60));
    try {
      Address member = ((HazelcastClusterManager) manager.get()).getHazelcastInstance().getCluster()
          .getLocalMember().getAddress();
      assertThat(member.getHost()).isEqualTo("127.0.0.1");
      assertThat(member.getPort()).isPositive();
    } finally {
      Await.result(vertx.close());
    }
  }

  @Test
  void anUnresolvableHostFailsTheJoinWithTheKey() {
    ParleyConfig config = ConfigLoader.load(Map.of("PARLEY_PROFILE", "cluster",
        "PARLEY_JWT_SECRET", "a-test-secret-of-at-least-32-bytes!!",
        "PARLEY_CLUSTER_HOST", "parley-node.invalid", "PARLEY_CLUSTER_PORT", "0", "PARLEY_CLUSTER_MEMBERS", ""), Map.of());
    assertThat(Await.failure(ClusterBackends.joinCluster(config, m -> { })))
        .isInstanceOf(ConfigException.class).hasMessageContaining("cluster.host");
  }
}
