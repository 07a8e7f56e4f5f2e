package io.parley.storage.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Server ids from log positions: layout, inverse, order within a partition, bounds. Needs no broker. */
class KafkaIdsTest {

  @Test
  void idIsOffsetPlusOneAboveTenBitsOfPartition() {
    assertThat(KafkaIds.serverId(0, 0)).isEqualTo(1024L);
    assertThat(KafkaIds.serverId(5, 0)).isEqualTo(1024L + 5);
    assertThat(KafkaIds.serverId(1023, 41)).isEqualTo((42L << 10) | 1023);
  }

  @Test
  void inverseGivesBackPartitionAndOffset() {
    int[] partitions = {0, 1, 7, 512, 1023};
    long[] offsets = {0, 1, 2, 1_000, 123_456_789_012L, KafkaIds.MAX_OFFSET - 1, KafkaIds.MAX_OFFSET};
    for (int p : partitions) {
      for (long o : offsets) {
        long id = KafkaIds.serverId(p, o);
        assertThat(id).as("id of %d@%d", p, o).isPositive();
        assertThat(KafkaIds.isValid(id)).isTrue();
        assertThat(KafkaIds.partition(id)).as("partition of %d", id).isEqualTo(p);
        assertThat(KafkaIds.offset(id)).as("offset of %d", id).isEqualTo(o);
      }
    }
  }

  @Test
  void idsStrictlyIncreaseWithTheOffsetWithinAPartition() {
    for (int p : new int[] {0, 3, 1023}) {
      long prev = 0;
      for (long o = 0; o < 5_000; o++) {
        long id = KafkaIds.serverId(p, o);
        assertThat(id).isGreaterThan(prev);
        prev = id;
      }
      assertThat(KafkaIds.serverId(p, KafkaIds.MAX_OFFSET)).isGreaterThan(KafkaIds.serverId(p, KafkaIds.MAX_OFFSET - 1));
    }
  }

  @Test
  void samePositionInDifferentPartitionsGivesDifferentIds() {
    assertThat(KafkaIds.serverId(1, 10)).isNotEqualTo(KafkaIds.serverId(2, 10));
    // ...ordered by offset first: ids are comparable per partition (conversation) only
    assertThat(KafkaIds.serverId(1023, 10)).isLessThan(KafkaIds.serverId(0, 11));
  }

  @Test
  void largestIdIsLongMax() {
    assertThat(KafkaIds.serverId(1023, KafkaIds.MAX_OFFSET)).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void partitionAndOffsetOutOfRangeAreRejected() {
    assertThat(KafkaIds.MAX_PARTITIONS).isEqualTo(1024);
    assertThatThrownBy(() -> KafkaIds.serverId(-1, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> KafkaIds.serverId(1024, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1024");
    assertThatThrownBy(() -> KafkaIds.serverId(0, -1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> KafkaIds.serverId(0, KafkaIds.MAX_OFFSET + 1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void idsNoPositionCanGiveAreRejectedByTheInverse() {
    for (long id : new long[] {0, 1, 1023, -1, -1024, Long.MIN_VALUE}) {
      assertThat(KafkaIds.isValid(id)).as("valid %d", id).isFalse();
      assertThatThrownBy(() -> KafkaIds.partition(id)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> KafkaIds.offset(id)).isInstanceOf(IllegalArgumentException.class);
    }
  }
}
