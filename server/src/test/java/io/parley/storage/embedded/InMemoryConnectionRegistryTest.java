package io.parley.storage.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.presence.ConnectionRegistry;
import io.parley.presence.ConnectionRegistry.Presence;
import io.parley.presence.ConnectionRegistryContract;
import io.parley.testing.Await;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link ConnectionRegistryContract} against {@link InMemoryConnectionRegistry}, plus its own
 * guarantees: the last-seen table is bounded (oldest entries dropped first) and the registry is
 * safe for several threads registering and unregistering the same user at once (every
 * came-online is matched by exactly one went-offline).
 */
class InMemoryConnectionRegistryTest extends ConnectionRegistryContract {
  private InMemoryConnectionRegistry registry;
  private ExecutorService pool;

  @BeforeEach
  void setUp() {
    registry = new InMemoryConnectionRegistry(1_000);
  }

  @AfterEach
  void tearDown() {
    if (pool != null) {
      pool.shutdownNow();
    }
  }

  @Override
  protected ConnectionRegistry registry() {
    return registry;
  }

  @Test
  void lastSeenTableIsBoundedDroppingTheOldest() throws Exception {
    InMemoryConnectionRegistry small = new InMemoryConnectionRegistry(2);
    for (String[] u : new String[][] {{"a", "100"}, {"b", "200"}, {"c", "300"}}) {
      Await.result(small.register(u[0], "n1", u[0] + "-c"));
      Await.result(small.unregister(u[0], "n1", u[0] + "-c", Long.parseLong(u[1])));
    }
    assertThat(Await.result(small.presence("a"))).isEqualTo(new Presence(false, 0));
    assertThat(Await.result(small.presence("b"))).isEqualTo(new Presence(false, 200));
    assertThat(Await.result(small.presence("c"))).isEqualTo(new Presence(false, 300));
  }

  @Test
  void concurrentConnectsAndDisconnectsBalance() throws Exception {
    pool = Executors.newFixedThreadPool(8);
    int threads = 8;
    int perThread = 2_000;
    List<Callable<int[]>> tasks = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      tasks.add(() -> {
        int online = 0;
        int offline = 0;
        for (int i = 0; i < perThread; i++) {
          String conn = "t" + thread + "-" + i;
          if (Await.result(registry.register("shared", "n" + thread, conn))) {
            online++;
          }
          if (Await.result(registry.unregister("shared", "n" + thread, conn, i))) {
            offline++;
          }
        }
        return new int[] {online, offline};
      });
    }
    int online = 0;
    int offline = 0;
    for (Future<int[]> f : pool.invokeAll(tasks, 30, TimeUnit.SECONDS)) {
      int[] r = f.get();
      online += r[0];
      offline += r[1];
    }
    assertThat(online).isPositive();
    assertThat(offline).isEqualTo(online);
    assertThat(Await.result(registry.presence("shared")).online()).isFalse();
    assertThat(Await.result(registry.nodesOf(List.of("shared")))).isEmpty();
  }
}
