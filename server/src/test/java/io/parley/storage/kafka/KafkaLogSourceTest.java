package io.parley.storage.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.junit.jupiter.api.Test;

/**
 * {@link KafkaLogSource}'s consumer settings without a broker: the configured timing reaches the
 * Kafka consumer's config, and a timing Kafka would reject (or misbehave with) is refused up front.
 */
class KafkaLogSourceTest {

  @Test
  void theTimingReachesTheConsumerConfig() {
    Map<String, Object> config = KafkaLogSource.consumerConfig("h:9092", "g", new KafkaLogSource.Timing(250, 10_000, 3_000));
    assertThat(config).containsEntry(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000)
        .containsEntry(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 3_000)
        .containsEntry(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "h:9092")
        .containsEntry(ConsumerConfig.GROUP_ID_CONFIG, "g")
        .containsEntry(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
  }

  @Test
  void aTimingKafkaWouldRejectIsRefused() {
    assertThatThrownBy(() -> new KafkaLogSource.Timing(0, 6_000, 2_000)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new KafkaLogSource.Timing(100, 0, 2_000)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new KafkaLogSource.Timing(100, 6_000, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new KafkaLogSource.Timing(100, 6_000, 6_000))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("below the session timeout");
    assertThat(new KafkaLogSource.Timing(1, 2, 1).heartbeatIntervalMs()).isEqualTo(1);
  }
}
