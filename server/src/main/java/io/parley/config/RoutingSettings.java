package io.parley.config;

/**
 * Bounds of routing (keys {@code routing.*}; defaults in conf/base.json).
 *
 * @param backlogMax sends waiting for their member check or append beyond which a send is refused
 *     with {@code unavailable} (shed load rather than queue without bound)
 * @param batchMax most sends in one append to the message log
 * @param clusterAppendsMax cluster profile: appends the gateway node's intake has in flight to
 *     Kafka at once (Kafka keeps their order; the embedded routing always has one)
 * @param memberCacheMax conversations whose member sets each routing verticle caches (LRU)
 * @param shedQueueWaitMs while the oldest accepted send has waited longer than this for its append
 *     (the log, or on the cluster Kafka and routing's verdicts, falls behind), new sends are shed
 *     with {@code unavailable}; 0: never
 * @param loopLagMs an event loop of the node whose timers fire later than this is behind: new sends
 *     are shed with {@code unavailable}, and the gateway on that loop judges no socket a slow reader
 *     meanwhile (key {@code overload.loop_lag_ms}); 0: never
 * @param hotGroupMembers cluster profile: a conversation with more members than this is hot, and its
 *     fan-out is split by recipient over the live nodes ({@code routing.hot_group_members}); 0: never
 * @param hotFanoutShards the sub-partitions a hot conversation's recipients are split into, by a
 *     stable hash of the user id ({@code routing.hot_fanout_shards})
 */
public record RoutingSettings(int backlogMax, int batchMax, int clusterAppendsMax, int memberCacheMax,
    long shedQueueWaitMs, long loopLagMs, int hotGroupMembers, int hotFanoutShards) {
  /** The default split of hot conversations' fan-out (see conf/base.json). */
  public static final int HOT_GROUP_MEMBERS_DEFAULT = 1000;
  public static final int HOT_FANOUT_SHARDS_DEFAULT = 16;

  /** Bounds without overload shedding (tests of other concerns). */
  public RoutingSettings(int backlogMax, int batchMax, int clusterAppendsMax, int memberCacheMax) {
    this(backlogMax, batchMax, clusterAppendsMax, memberCacheMax, 0, 0);
  }

  /** Bounds with the default split of hot conversations (tests of other concerns). */
  public RoutingSettings(int backlogMax, int batchMax, int clusterAppendsMax, int memberCacheMax,
      long shedQueueWaitMs, long loopLagMs) {
    this(backlogMax, batchMax, clusterAppendsMax, memberCacheMax, shedQueueWaitMs, loopLagMs,
        HOT_GROUP_MEMBERS_DEFAULT, HOT_FANOUT_SHARDS_DEFAULT);
  }
}
