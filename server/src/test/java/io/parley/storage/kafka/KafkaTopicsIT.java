package io.parley.storage.kafka;

import static io.parley.storage.kafka.KafkaFixture.BOOTSTRAP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.admin.KafkaAdminClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link KafkaTopics#ensure} on a real broker: creates a missing topic with the given partition
 * count, accepts it again (also when two nodes ensure it at once), rejects another count without
 * changing the topic, and rejects counts outside 1..1024 before asking the broker.
 */
class KafkaTopicsIT {
  private static Vertx vertx;
  private static final List<String> topics = new ArrayList<>();

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      KafkaFixture.deleteTopics(vertx, topics);
      Await.result(vertx.close(), Duration.ofSeconds(30));
    }
  }

  private static String newTopic() {
    String topic = KafkaFixture.uniqueName("topics");
    topics.add(topic);
    return topic;
  }

  private static int partitionsOf(String topic) throws Exception {
    KafkaAdminClient admin = KafkaAdminClient.create(vertx, Map.of("bootstrap.servers", BOOTSTRAP));
    try {
      return Await.result(admin.describeTopics(List.of(topic)), Duration.ofSeconds(30)).get(topic).getPartitions().size();
    } finally {
      Await.result(admin.close(5_000), Duration.ofSeconds(30));
    }
  }

  @Test
  void createsAMissingTopicAndAcceptsItAgain() throws Exception {
    String topic = newTopic();
    Await.result(KafkaTopics.ensure(vertx, BOOTSTRAP, topic, 3, (short) 1, KafkaFixture.ADMIN_TIMEOUT_MS), Duration.ofSeconds(60));
    assertThat(partitionsOf(topic)).isEqualTo(3);

    Await.result(KafkaTopics.ensure(vertx, BOOTSTRAP, topic, 3, (short) 1, KafkaFixture.ADMIN_TIMEOUT_MS), Duration.ofSeconds(60));
    assertThat(partitionsOf(topic)).isEqualTo(3);
  }

  @Test
  void twoNodesEnsuringAtOnceBothSucceed() throws Exception {
    String topic = newTopic();
    Await.result(Future.all(KafkaTopics.ensure(vertx, BOOTSTRAP, topic, 2, (short) 1, KafkaFixture.ADMIN_TIMEOUT_MS),
        KafkaTopics.ensure(vertx, BOOTSTRAP, topic, 2, (short) 1, KafkaFixture.ADMIN_TIMEOUT_MS)), Duration.ofSeconds(60));
    assertThat(partitionsOf(topic)).isEqualTo(2);
  }

  @Test
  void anotherPartitionCountIsRejectedAndTheTopicKept() throws Exception {
    String topic = newTopic();
    Await.result(KafkaTopics.ensure(vertx, BOOTSTRAP, topic, 3, (short) 1, KafkaFixture.ADMIN_TIMEOUT_MS), Duration.ofSeconds(60));

    for (int other : new int[] {4, 2}) {
      assertThatThrownBy(() -> Await.result(KafkaTopics.ensure(vertx, BOOTSTRAP, topic, other, (short) 1, KafkaFixture.ADMIN_TIMEOUT_MS), Duration.ofSeconds(60)))
          .isInstanceOf(CompletionException.class)
          .cause().isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(topic)
          .hasMessageContaining("has 3 partitions but " + other + " are configured")
          .hasMessageContaining("never change");
    }
    assertThat(partitionsOf(topic)).isEqualTo(3);
  }

  @Test
  void partitionCountsOutsideTheIdRangeAreRejected() {
    for (int bad : new int[] {0, -1, KafkaIds.MAX_PARTITIONS + 1}) {
      assertThatThrownBy(() -> Await.result(KafkaTopics.ensure(vertx, "127.0.0.1:1", "unused", bad, (short) 1, KafkaFixture.ADMIN_TIMEOUT_MS), Duration.ofSeconds(10)))
          .as("partitions %d", bad)
          .isInstanceOf(CompletionException.class)
          .cause().isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1.." + KafkaIds.MAX_PARTITIONS);
    }
    assertThatThrownBy(() -> Await.result(KafkaTopics.ensure(vertx, "127.0.0.1:1", "unused", 1, (short) 0, KafkaFixture.ADMIN_TIMEOUT_MS), Duration.ofSeconds(10)))
        .cause().isInstanceOf(IllegalArgumentException.class).hasMessageContaining("replication factor");
  }
}
