package io.parley.storage.embedded;

import io.parley.testing.Await;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Promise;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RocksDB never runs on an event loop: {@link RocksStorage}'s blocking calls refuse one, so a
 * caller that slips (as {@code Node} once read the id floor in a compose callback) fails loudly in
 * every test that starts an embedded node, instead of stalling a loop unnoticed.
 */
class RocksStorageTest {
  @TempDir
  Path dir;
  private RocksFixture rocks;

  @BeforeEach
  void setUp() {
    rocks = new RocksFixture(dir);
  }

  @AfterEach
  void tearDown() throws Exception {
    rocks.close();
  }

  /** Runs {@code call} on an event loop and returns what it threw (null when nothing). */
  private Throwable onEventLoop(Runnable call) throws Exception {
    Promise<Throwable> thrown = Promise.promise();
    rocks.vertx.getOrCreateContext().runOnContext(v -> {
      try {
        call.run();
        thrown.complete(null);
      } catch (RuntimeException e) {
        thrown.complete(e);
      }
    });
    return Await.result(thrown.future());
  }

  @Test
  void blockingCallsOnAnEventLoopFail() throws Exception {
    assertThat(onEventLoop(() -> rocks.storage.idFloor()))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("idFloor").hasMessageContaining("event loop");
    assertThat(onEventLoop(() -> rocks.storage.lastMessageId(1)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("event loop");
    assertThat(onEventLoop(() -> RocksStorage.open(dir.resolve("other"), false)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("open");
    assertThat(onEventLoop(() -> rocks.storage.close()))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("close");
    // the refused close left the storage open
    assertThat(rocks.storage.idFloor()).isGreaterThanOrEqualTo(0);
  }
}
