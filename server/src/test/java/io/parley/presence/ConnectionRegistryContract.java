package io.parley.presence;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.presence.ConnectionRegistry.Presence;
import io.parley.testing.Await;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Contract of the {@link ConnectionRegistry} port, run against every adapter by subclassing and
 * supplying {@link #registry()}. Covers: register tells when a user's first live connection
 * appears (also again after going offline); unregister tells when the last one goes, and is false
 * for unknown or already-removed connections; nodesOf lists the nodes with live connections and
 * leaves offline and unknown users out; connectionsOf lists the live connection ids the same way;
 * presence is online while any connection lives and reports
 * the last-seen time given with the final unregister.
 */
public abstract class ConnectionRegistryContract {
  /** The adapter under test, ready for use and empty. */
  protected abstract ConnectionRegistry registry();

  @Test
  void firstConnectionBringsUserOnline() throws Exception {
    assertThat(Await.result(registry().register("alice", "n1", "c1"))).isTrue();
    assertThat(Await.result(registry().register("alice", "n1", "c2"))).isFalse();
    assertThat(Await.result(registry().register("alice", "n2", "c3"))).isFalse();
    assertThat(Await.result(registry().register("bob", "n1", "c4"))).as("other users are independent").isTrue();
  }

  @Test
  void lastUnregisterTakesUserOffline() throws Exception {
    Await.result(registry().register("alice", "n1", "c1"));
    Await.result(registry().register("alice", "n2", "c2"));
    assertThat(Await.result(registry().unregister("alice", "n1", "c1", 10))).isFalse();
    assertThat(Await.result(registry().presence("alice")).online()).isTrue();
    assertThat(Await.result(registry().unregister("alice", "n2", "c2", 20))).isTrue();
    assertThat(Await.result(registry().presence("alice")).online()).isFalse();
  }

  @Test
  void unregisterOfUnknownConnectionsIsFalse() throws Exception {
    assertThat(Await.result(registry().unregister("ghost", "n1", "c1", 10))).isFalse();
    Await.result(registry().register("alice", "n1", "c1"));
    assertThat(Await.result(registry().unregister("alice", "n1", "nope", 10))).isFalse();
    assertThat(Await.result(registry().presence("alice")).online()).isTrue();
    assertThat(Await.result(registry().unregister("alice", "n1", "c1", 10))).isTrue();
    assertThat(Await.result(registry().unregister("alice", "n1", "c1", 11))).as("already removed").isFalse();
    assertThat(Await.result(registry().presence("ghost"))).isEqualTo(new Presence(false, 0));
  }

  @Test
  void reconnectAfterOfflineIsFirstAgain() throws Exception {
    assertThat(Await.result(registry().register("alice", "n1", "c1"))).isTrue();
    assertThat(Await.result(registry().unregister("alice", "n1", "c1", 10))).isTrue();
    assertThat(Await.result(registry().register("alice", "n1", "c2"))).isTrue();
    assertThat(Await.result(registry().presence("alice")).online()).isTrue();
  }

  @Test
  void connectionsOf() throws Exception {
    Await.result(registry().register("alice", "n1", "a1"));
    Await.result(registry().register("alice", "n2", "a2"));
    Await.result(registry().register("bob", "n3", "b1"));

    Map<String, Set<String>> conns = Await.result(registry().connectionsOf(List.of("alice", "bob", "nobody")));
    assertThat(conns).containsOnlyKeys("alice", "bob");
    assertThat(conns.get("alice")).containsExactlyInAnyOrder("a1", "a2");
    assertThat(conns.get("bob")).containsExactly("b1");

    Await.result(registry().unregister("alice", "n2", "a2", 5));
    Await.result(registry().unregister("bob", "n3", "b1", 5));
    assertThat(Await.result(registry().connectionsOf(List.of("alice", "bob")))).containsOnlyKeys("alice");
    assertThat(Await.result(registry().connectionsOf(List.of("alice"))).get("alice")).containsExactly("a1");
    assertThat(Await.result(registry().connectionsOf(List.of()))).isEmpty();
  }

  @Test
  void nodesOf() throws Exception {
    Await.result(registry().register("alice", "n1", "a1"));
    Await.result(registry().register("alice", "n2", "a2"));
    Await.result(registry().register("alice", "n2", "a3"));
    Await.result(registry().register("bob", "n3", "b1"));
    Await.result(registry().register("carol", "n1", "c1"));
    Await.result(registry().unregister("carol", "n1", "c1", 5));

    Map<String, Set<String>> nodes = Await.result(registry().nodesOf(List.of("alice", "bob", "carol", "nobody")));
    assertThat(nodes).containsOnlyKeys("alice", "bob");
    assertThat(nodes.get("alice")).containsExactlyInAnyOrder("n1", "n2");
    assertThat(nodes.get("bob")).containsExactly("n3");

    Await.result(registry().unregister("alice", "n2", "a2", 6));
    assertThat(Await.result(registry().nodesOf(List.of("alice"))).get("alice")).as("n2 still holds a3")
        .containsExactlyInAnyOrder("n1", "n2");
    Await.result(registry().unregister("alice", "n2", "a3", 7));
    assertThat(Await.result(registry().nodesOf(List.of("alice"))).get("alice")).containsExactly("n1");

    assertThat(Await.result(registry().nodesOf(List.of()))).isEmpty();
    assertThat(Await.result(registry().nodesOf(List.of("nobody")))).isEmpty();
  }

  @Test
  void presenceOnlineAndOfflineWithLastSeen() throws Exception {
    assertThat(Await.result(registry().presence("alice"))).isEqualTo(new Presence(false, 0));

    Await.result(registry().register("alice", "n1", "c1"));
    assertThat(Await.result(registry().presence("alice")).online()).isTrue();

    Await.result(registry().unregister("alice", "n1", "c1", 1_700_000_000_123L));
    assertThat(Await.result(registry().presence("alice"))).isEqualTo(new Presence(false, 1_700_000_000_123L));

    Await.result(registry().register("alice", "n1", "c2"));
    assertThat(Await.result(registry().presence("alice")).online()).isTrue();
    Await.result(registry().unregister("alice", "n1", "c2", 1_700_000_000_999L));
    assertThat(Await.result(registry().presence("alice"))).isEqualTo(new Presence(false, 1_700_000_000_999L));
  }

  @Test
  void lastSeenOnlyChangesWhenTheLastConnectionGoes() throws Exception {
    Await.result(registry().register("alice", "n1", "c1"));
    Await.result(registry().unregister("alice", "n1", "c1", 100));
    Await.result(registry().register("alice", "n1", "c2"));
    Await.result(registry().register("alice", "n1", "c3"));
    Await.result(registry().unregister("alice", "n1", "c2", 200));
    assertThat(Await.result(registry().presence("alice")).online()).isTrue();
    Await.result(registry().unregister("alice", "n1", "c3", 300));
    assertThat(Await.result(registry().presence("alice"))).isEqualTo(new Presence(false, 300));
  }

  @Test
  void presenceIsPerUser() throws Exception {
    Await.result(registry().register("alice", "n1", "c1"));
    Await.result(registry().register("bob", "n1", "c2"));
    Await.result(registry().unregister("bob", "n1", "c2", 42));
    assertThat(Await.result(registry().presence("alice")).online()).isTrue();
    assertThat(Await.result(registry().presence("bob"))).isEqualTo(new Presence(false, 42));
    assertThat(Await.result(registry().presence("carol"))).isEqualTo(new Presence(false, 0));
  }
}
