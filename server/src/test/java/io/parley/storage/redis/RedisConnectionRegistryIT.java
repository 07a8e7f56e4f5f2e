package io.parley.storage.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.parley.presence.ConnectionRegistry;
import io.parley.presence.ConnectionRegistry.Presence;
import io.parley.presence.ConnectionRegistryContract;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link ConnectionRegistryContract} against {@link RedisConnectionRegistry} on a real Redis
 * ({@code PARLEY_REDIS_URL}, system property or environment, default {@code redis://127.0.0.1:6379}),
 * plus the adapter's own guarantees: connections lapse after the TTL unless refreshed (and then are
 * neither reported nor left behind), a refresh never revives a lapsed connection, two gateways
 * racing for a user's first connection see exactly one "first", nodesOf spans several script
 * chunks, and the scripts are reloaded when the server lost them.
 *
 * <p>Every run uses its own key prefix; the keys of that prefix are deleted after each test.
 */
class RedisConnectionRegistryIT extends ConnectionRegistryContract {
  private static final Duration LONG_TTL = Duration.ofSeconds(60);
  private static final Duration SHORT_TTL = Duration.ofSeconds(1);

  private static RedisFixture redis;
  private static Vertx vertx;
  private static Redis client;
  private static RedisKeys keys;
  private RedisConnectionRegistry registry;

  @BeforeAll
  static void connect() throws Exception {
    redis = new RedisFixture();
    vertx = redis.vertx;
    client = redis.client;
    keys = redis.keys;
  }

  @AfterAll
  static void close() throws Exception {
    if (redis != null) {
      redis.close();
    }
  }

  @BeforeEach
  void setUp() {
    registry = new RedisConnectionRegistry(client, keys, LONG_TTL);
  }

  @AfterEach
  void cleanUp() throws Exception {
    redis.deleteKeys();
  }

  @Override
  protected ConnectionRegistry registry() {
    return registry;
  }

  @Test
  void connectionsLapseAfterTheTtlAndAreNotReported() throws Exception {
    RedisConnectionRegistry shortLived = new RedisConnectionRegistry(client, keys, SHORT_TTL);
    long before = System.currentTimeMillis();
    assertThat(Await.result(shortLived.register("alice", "n1", "a1"))).isTrue();
    assertThat(Await.result(registry.register("alice", "n2", "a2"))).as("a1 is still live").isFalse();
    assertThat(Await.result(shortLived.register("carol", "n1", "c1"))).isTrue();
    assertThat(Await.result(registry.nodesOf(List.of("alice"))).get("alice")).containsExactlyInAnyOrder("n1", "n2");

    long waited = redis.until("carol's connection lapsed", () -> shortLived.presence("carol").map(p -> !p.online()));
    assertThat(System.currentTimeMillis() - before).as("lapsed no earlier than the TTL").isGreaterThanOrEqualTo(900);
    assertThat(waited).isLessThan(5_000);

    Presence carol = Await.result(registry.presence("carol"));
    assertThat(carol.online()).isFalse();
    assertThat(carol.lastSeen()).as("last heard of at registration (Redis clock)").isCloseTo(before, within(5_000L));
    Map<String, Set<String>> nodes = Await.result(registry.nodesOf(List.of("alice", "carol")));
    assertThat(nodes).containsOnlyKeys("alice");
    assertThat(nodes.get("alice")).as("a1 on n1 lapsed, a2 on n2 lives").containsExactly("n2");
    assertThat(Await.result(registry.presence("alice")).online()).isTrue();

    assertThat(Await.result(registry.unregister("alice", "n1", "a1", 1))).as("a lapsed connection is gone").isFalse();
    assertThat(Await.result(registry.register("carol", "n1", "c2"))).as("first again after lapsing").isTrue();
    assertThat(Await.result(registry.unregister("alice", "n2", "a2", 2))).as("a2 was alice's last").isTrue();
  }

  @Test
  void aCrashedNodesEntriesVanishFromRedis() throws Exception {
    RedisConnectionRegistry shortLived = new RedisConnectionRegistry(client, keys, SHORT_TTL);
    Await.result(shortLived.register("dave", "n1", "d1"));
    Await.result(shortLived.register("dave", "n1", "d2"));
    assertThat(Await.result(countKeys(keys.connections("dave"), keys.expiries("dave")))).isEqualTo(2);

    // nobody refreshes or unregisters: the node crashed
    redis.until("dave's connection keys expired", () -> countKeys(keys.connections("dave"), keys.expiries("dave")).map(n -> n == 0));
    assertThat(Await.result(countKeys(keys.lastSeen("dave")))).as("last-seen outlives the connections").isEqualTo(1);
    assertThat(Await.result(registry.presence("dave")).online()).isFalse();
  }

  @Test
  void refreshKeepsAConnectionLive() throws Exception {
    RedisConnectionRegistry shortLived = new RedisConnectionRegistry(client, keys, SHORT_TTL);
    Await.result(shortLived.register("alice", "n1", "a1"));
    Await.result(shortLived.register("bob", "n1", "b1"));

    AtomicInteger refreshed = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    long heartbeat = vertx.setPeriodic(200, id -> shortLived.refresh("alice", "n1", "a1")
        .onSuccess(v -> refreshed.incrementAndGet())
        .onFailure(e -> failed.incrementAndGet()));
    try {
      redis.until("bob's connection lapsed", () -> shortLived.presence("bob").map(p -> !p.online()));
      assertThat(Await.result(shortLived.presence("alice")).online()).as("refreshed while bob lapsed").isTrue();
      redis.until("12 refreshes of alice", () -> Future.succeededFuture(refreshed.get() >= 12)); // 2.4 s = 2.4 TTLs
      assertThat(Await.result(shortLived.presence("alice")).online()).isTrue();
      assertThat(Await.result(shortLived.nodesOf(List.of("alice", "bob")))).isEqualTo(Map.of("alice", Set.of("n1")));
      assertThat(failed).hasValue(0);
    } finally {
      vertx.cancelTimer(heartbeat);
    }

    redis.until("alice's connection lapsed", () -> shortLived.presence("alice").map(p -> !p.online()));
    long aliceSeen = Await.result(registry.presence("alice")).lastSeen();
    long bobSeen = Await.result(registry.presence("bob")).lastSeen();
    assertThat(aliceSeen - bobSeen).as("alice's last-seen is her last heartbeat").isGreaterThanOrEqualTo(2_000);
  }

  @Test
  void refreshDoesNotReviveUnknownOrLapsedConnections() throws Exception {
    RedisConnectionRegistry shortLived = new RedisConnectionRegistry(client, keys, SHORT_TTL);
    Await.result(shortLived.refresh("ghost", "n1", "g1"));
    assertThat(Await.result(registry.presence("ghost"))).isEqualTo(new Presence(false, 0));
    assertThat(Await.result(registry.nodesOf(List.of("ghost")))).isEmpty();

    Await.result(shortLived.register("carol", "n1", "c1"));
    redis.until("carol's connection lapsed", () -> shortLived.presence("carol").map(p -> !p.online()));
    Await.result(shortLived.refresh("carol", "n1", "c1"));
    assertThat(Await.result(registry.presence("carol")).online()).isFalse();
    assertThat(Await.result(registry.register("carol", "n1", "c1"))).as("must register again: first").isTrue();
  }

  @Test
  void twoGatewaysRacingForTheFirstConnectionSeeExactlyOneFirst() throws Exception {
    Redis otherClient = newClient();
    try {
      RedisConnectionRegistry gatewayA = registry;
      RedisConnectionRegistry gatewayB = new RedisConnectionRegistry(otherClient, keys, LONG_TTL);
      int users = 300;
      List<Future<Boolean>> a = new ArrayList<>();
      List<Future<Boolean>> b = new ArrayList<>();
      for (int i = 0; i < users; i++) {
        a.add(gatewayA.register("u" + i, "nA", "a" + i));
        b.add(gatewayB.register("u" + i, "nB", "b" + i));
      }
      Await.result(Future.all(a).transform(ar -> Future.all(b)));
      for (int i = 0; i < users; i++) {
        assertThat(a.get(i).result() ^ b.get(i).result()).as("exactly one first for u" + i).isTrue();
      }

      a.clear();
      b.clear();
      for (int i = 0; i < users; i++) {
        a.add(gatewayA.unregister("u" + i, "nA", "a" + i, 10));
        b.add(gatewayB.unregister("u" + i, "nB", "b" + i, 20));
      }
      Await.result(Future.all(a).transform(ar -> Future.all(b)));
      for (int i = 0; i < users; i++) {
        assertThat(a.get(i).result() ^ b.get(i).result()).as("exactly one last for u" + i).isTrue();
      }
      assertThat(Await.result(registry.presence("u0")).online()).isFalse();
    } finally {
      Await.result(otherClient.close());
    }
  }

  @Test
  void nodesOfManyUsersSpansScriptChunks() throws Exception {
    int users = RedisConnectionRegistry.NODES_OF_CHUNK * 2 + 7;
    List<Future<Boolean>> registered = new ArrayList<>();
    List<String> asked = new ArrayList<>();
    for (int i = 0; i < users; i++) {
      if (i % 3 != 0) {
        registered.add(registry.register("u" + i, "n" + i % 5, "c" + i));
      }
      asked.add("u" + i);
    }
    Await.result(Future.all(registered));

    Map<String, Set<String>> nodes = Await.result(registry.nodesOf(asked));
    assertThat(nodes).hasSize(registered.size());
    for (int i = 0; i < users; i++) {
      if (i % 3 == 0) {
        assertThat(nodes).doesNotContainKey("u" + i);
      } else {
        assertThat(nodes.get("u" + i)).as("u" + i).containsExactly("n" + i % 5);
      }
    }
  }

  @Test
  void scriptsAreReloadedWhenTheServerLostThem() throws Exception {
    Await.result(registry.register("alice", "n1", "a1"));
    Await.result(client.send(Request.cmd(Command.SCRIPT).arg("FLUSH")));
    assertThat(Await.result(registry.register("alice", "n1", "a2"))).isFalse();
    Await.result(client.send(Request.cmd(Command.SCRIPT).arg("FLUSH")));
    assertThat(Await.result(registry.nodesOf(List.of("alice")))).isEqualTo(Map.of("alice", Set.of("n1")));
  }

  @Test
  void prefixesIsolateDeployments() throws Exception {
    RedisKeys otherKeys = new RedisKeys(keys.prefix() + "-other");
    RedisConnectionRegistry other = new RedisConnectionRegistry(client, otherKeys, LONG_TTL);
    try {
      Await.result(registry.register("alice", "n1", "a1"));
      assertThat(Await.result(other.presence("alice"))).isEqualTo(new Presence(false, 0));
      assertThat(Await.result(other.register("alice", "n9", "a1"))).isTrue();
      assertThat(Await.result(registry.nodesOf(List.of("alice")))).isEqualTo(Map.of("alice", Set.of("n1")));
    } finally {
      deleteKeys(otherKeys);
    }
  }

  @Test
  void connectFactoryLoadsScriptsAndFailsForAnUnreachableServer() throws Exception {
    RedisConnectionRegistry connected = Await.result(RedisConnectionRegistry.connect(vertx, RedisFixture.URL, keys.prefix(), LONG_TTL));
    try {
      assertThat(Await.result(connected.register("alice", "n1", "a1"))).isTrue();
      assertThat(Await.result(registry.presence("alice")).online()).isTrue();
    } finally {
      Await.result(connected.close());
    }
    Future<RedisConnectionRegistry> unreachable =
        RedisConnectionRegistry.connect(vertx, "redis://127.0.0.1:1", keys.prefix(), LONG_TTL);
    assertThat(Await.failure(unreachable, Duration.ofSeconds(10))).isNotNull();
  }

  // --- helpers ---------------------------------------------------------------------------------

  private static Redis newClient() {
    return redis.newClient();
  }

  private static Future<Integer> countKeys(String... keys) {
    return redis.countKeys(keys);
  }

  private static void deleteKeys(RedisKeys keys) throws Exception {
    redis.deleteKeys(keys);
  }
}
