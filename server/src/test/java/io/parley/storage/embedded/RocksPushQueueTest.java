package io.parley.storage.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.push.PushJob;
import io.parley.push.PushQueue;
import io.parley.push.PushQueueContract;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@link PushQueueContract} against {@link RocksPushQueue}; a restart is a new queue over the same storage. */
class RocksPushQueueTest extends PushQueueContract {
  @TempDir
  Path dir;
  private RocksFixture rocks;

  @BeforeEach
  void setUp() {
    rocks = new RocksFixture(dir);
  }

  @AfterEach
  void tearDown() throws Exception {
    closeAll();
    rocks.close();
  }

  @Override
  protected PushQueue newQueue() {
    return new RocksPushQueue(rocks.vertx, rocks.storage, rocks.metaWriter);
  }

  @Override
  protected Vertx vertx() {
    return rocks.vertx;
  }

  @Test
  void aRecordOfAnotherVersionIsRejectedNamingIt() {
    assertThatThrownBy(() -> PushJob.fromJson(new JsonObject().put("v", 2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("version 2");
    assertThat(RocksPushQueue.seq(RocksPushQueue.key(Long.MAX_VALUE - 1))).isEqualTo(Long.MAX_VALUE - 1);
  }
}
