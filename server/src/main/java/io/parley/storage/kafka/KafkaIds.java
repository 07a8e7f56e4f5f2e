package io.parley.storage.kafka;

/**
 * Server ids of the cluster profile, derived from a message's position in the log:
 * {@code serverId = ((offset + 1) << 10) | partition}.
 *
 * <p>Why: a conversation always lives in one partition, and offsets only grow within a partition,
 * so ids strictly increase per conversation in log order — with no clock and no id generator on
 * any node, and unchanged by restarts (Kafka keeps the offsets). The {@code + 1} keeps every id
 * positive, so 0 still means "before the first message". Ids of different partitions interleave
 * by offset, not by time: ids are ordered per conversation only.
 *
 * <p>Bounds: partitions {@code 0..1023} ({@link #MAX_PARTITIONS} per topic, enforced where the
 * topic is created or checked, see {@link KafkaTopics}), offsets below 2<sup>53</sup> − 1.
 */
public final class KafkaIds {
  /** Bits of the partition number in an id. */
  static final int PARTITION_BITS = 10;
  /** Most partitions a topic may have: every partition number must fit in {@value #PARTITION_BITS} bits. */
  public static final int MAX_PARTITIONS = 1 << PARTITION_BITS;
  /** Highest offset that still gives a positive 63-bit id. */
  public static final long MAX_OFFSET = (Long.MAX_VALUE >>> PARTITION_BITS) - 1;
  private static final long PARTITION_MASK = MAX_PARTITIONS - 1;

  private KafkaIds() {}

  /** The server id of the record at {@code offset} in {@code partition}. */
  public static long serverId(int partition, long offset) {
    if (partition < 0 || partition >= MAX_PARTITIONS) {
      throw new IllegalArgumentException("kafka partition must be 0.." + (MAX_PARTITIONS - 1) + ": " + partition);
    }
    if (offset < 0 || offset > MAX_OFFSET) {
      throw new IllegalArgumentException("kafka offset must be 0.." + MAX_OFFSET + ": " + offset);
    }
    return ((offset + 1) << PARTITION_BITS) | partition;
  }

  /** The partition a server id was derived from. */
  public static int partition(long serverId) {
    requireValid(serverId);
    return (int) (serverId & PARTITION_MASK);
  }

  /** The offset a server id was derived from. */
  public static long offset(long serverId) {
    requireValid(serverId);
    return (serverId >>> PARTITION_BITS) - 1;
  }

  /** Whether {@code serverId} is one {@link #serverId(int, long)} can produce. */
  public static boolean isValid(long serverId) {
    return serverId >= (1L << PARTITION_BITS);
  }

  private static void requireValid(long serverId) {
    if (!isValid(serverId)) {
      throw new IllegalArgumentException("not a kafka-derived server id: " + serverId);
    }
  }
}
