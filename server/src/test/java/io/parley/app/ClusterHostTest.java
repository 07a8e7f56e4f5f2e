package io.parley.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hazelcast.cluster.Address;
import io.parley.config.ConfigException;
import io.parley.config.ConfigLoader;
import io.parley.config.ParleyConfig;
import io.parley.metrics.NodeMetrics;
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
 * {@code cluster.host} may be a name (deploy/compose.yaml names nodes parley1..3): Hazelcast's
 * interface list takes IP addresses only (it drops a name, then cannot start: "No matching network
 * interface found"), and with an interface list it keeps only the members listed by name whose
 * addresses match it; so a name is resolved and bound as Hazelcast's local address instead. That
 * three containers listed by service name form one cluster was checked with podman (README,
 * "Containers"); here the names are loopback's.
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
  void nodesNamedByHostNameBindItsAddressAndJoinMembersListedByName() {
    String cluster = "parley-host-test-" + System.nanoTime();
    Vertx first = null;
    Vertx second = null;
    try {
      AtomicReference<ClusterManager> a = new AtomicReference<>();
      first = Await.result("the first join", ClusterBackends.joinCluster(named(cluster, ""), NodeMetrics.none(), a::set), Duration.ofSeconds(60));
      Address firstAddress = member(a.get()).getLocalMember().getAddress();
      assertThat(firstAddress.getHost()).isEqualTo("127.0.0.1");
      AtomicReference<ClusterManager> b = new AtomicReference<>();
      second = Await.result("the second join", ClusterBackends.joinCluster(
          named(cluster, "localhost:" + firstAddress.getPort()), NodeMetrics.none(), b::set), Duration.ofSeconds(60));
      assertThat(member(b.get()).getMembers()).hasSize(2);
      assertThat(member(a.get()).getMembers()).hasSize(2);
    } finally {
      for (Vertx v : new Vertx[] {second, first}) {
        if (v != null) {
          Await.result(v.close(), Duration.ofSeconds(30));
        }
      }
    }
  }

  private static ParleyConfig named(String cluster, String members) {
    return ConfigLoader.load(Map.of("PARLEY_PROFILE", "cluster",
        "PARLEY_JWT_SECRET", "a-test-secret-of-at-least-32-bytes!!", "PARLEY_CLUSTER_NAME", cluster,
        "PARLEY_CLUSTER_HOST", "localhost", "PARLEY_CLUSTER_PORT", "0", "PARLEY_CLUSTER_MEMBERS", members), Map.of());
  }

  private static com.hazelcast.cluster.Cluster member(ClusterManager manager) {
    return ((HazelcastClusterManager) manager).getHazelcastInstance().getCluster();
  }

  @Test
  void anUnresolvableHostFailsTheJoinWithTheKey() {
    ParleyConfig config = ConfigLoader.load(Map.of("PARLEY_PROFILE", "cluster",
        "PARLEY_JWT_SECRET", "a-test-secret-of-at-least-32-bytes!!",
        "PARLEY_CLUSTER_HOST", "parley-node.invalid", "PARLEY_CLUSTER_PORT", "0", "PARLEY_CLUSTER_MEMBERS", ""), Map.of());
    assertThat(Await.failure(ClusterBackends.joinCluster(config, NodeMetrics.none(), m -> { })))
        .isInstanceOf(ConfigException.class).hasMessageContaining("cluster.host");
  }
}
