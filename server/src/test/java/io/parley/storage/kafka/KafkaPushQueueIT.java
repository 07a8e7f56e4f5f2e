package io.parley.storage.kafka;

import static io.parley.storage.kafka.KafkaFixture.BOOTSTRAP;

import io.parley.push.PushQueue;
import io.parley.push.PushQueueContract;
import io.parley.testing.Await;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * Runs {@link PushQueueContract} against {@link KafkaPushQueue} on the real broker: a topic of its
 * own per test (3 partitions), one consumer group per test; a restart is a new member of that group
 * after the previous one left.
 */
class KafkaPushQueueIT extends PushQueueContract {
  private static Vertx vertx;
  private static final List<String> topics = new ArrayList<>();
  private String topic;
  private String group;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() throws Exception {
    if (vertx != null) {
      KafkaFixture.deleteTopics(vertx, topics);
      Await.result(vertx.close(), Duration.ofSeconds(30));
    }
  }

  @BeforeEach
  void newTopic() {
    topic = KafkaFixture.uniqueName("push");
    group = KafkaFixture.uniqueName("push-group");
    topics.add(topic);
    Await.result(KafkaTopics.ensure(vertx, BOOTSTRAP, topic, 3, (short) 1, KafkaFixture.ADMIN_TIMEOUT_MS), Duration.ofSeconds(60));
  }

  @AfterEach
  void close() {
    closeAll();
  }

  @Override
  protected PushQueue newQueue() {
    return new KafkaPushQueue(vertx, BOOTSTRAP, topic, group, KafkaFixture.TIMING, 10_000);
  }

  @Override
  protected Vertx vertx() {
    return vertx;
  }

  @Override
  protected Duration patience() {
    return Duration.ofSeconds(30);
  }
}
