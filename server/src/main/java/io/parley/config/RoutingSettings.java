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
 */
public record RoutingSettings(int backlogMax, int batchMax, int clusterAppendsMax, int memberCacheMax) {}
