package io.parley.config;

import java.util.List;
import java.util.Set;

/**
 * Settings of the cluster profile (ignored by the embedded one): which concerns this node runs,
 * how it finds the other nodes, and where Kafka, Cassandra and Redis are.
 *
 * @param roles {@code gateway} (WebSocket/REST, send intake into Kafka, per-node delivery) and/or
 *     {@code routing} (Kafka consumer: persist to Cassandra, fan out, push)
 * @param port Hazelcast's port (the next free one when it is busy); 0: any free port, named in the
 *     start-up line "joined cluster ... as Hazelcast member host:port"
 * @param members the TCP-IP join list ({@code host:port} each); empty: join no one and found the
 *     cluster (the others list this node)
 * @param fanoutRemoteRequestChars the most characters (frames plus user ids) fan-out puts in one
 *     event-bus request to another node's inbox; a polled batch's deliveries to that node are cut
 *     into several requests above it
 * @param kafkaAdminTimeoutMs bound of one admin call and of the wait for the topic's partition leaders at start
 * @param kafkaPollTimeoutMs longest wait of one routing poll for records
 * @param kafkaSessionTimeoutMs how long the consumer group waits for a silent routing node before
 *     moving its partitions
 * @param kafkaHeartbeatIntervalMs how often a routing node tells the group it lives
 * @param cassandraRequestTimeoutMs how long one Cassandra statement may take
 * @param cassandraConnections driver connections per Cassandra node of the local datacenter
 * @param redisPoolSize connections of the node's one Redis client (registry and rate limits)
 * @param redisPoolWaiting Redis requests that may wait for a pooled connection
 * @param limitsRedisTimeoutMs a rate-limit check Redis has not answered by then is decided locally
 * @param limitsRedisRetryMs after a failed check, how long limits stay local before Redis is asked again
 * @param cassandraDedupeTtlS how long (seconds) a sent (sender, msg id) is remembered: a retry later
 *     than that is stored as a new message
 * @param routingDeadLetterAfterMs how long routing retries a record that fails transiently, while
 *     the store persists other records, before it parks it in the dead-letter topic
 */
public record ClusterSettings(
    Set<String> roles,
    String name,
    String host,
    int port,
    List<String> members,
    String kafkaBootstrap,
    String kafkaTopic,
    int kafkaPartitions,
    int kafkaReplicationFactor,
    String kafkaGroup,
    long kafkaSendTimeoutMs,
    int kafkaAdminTimeoutMs,
    long kafkaPollTimeoutMs,
    int kafkaSessionTimeoutMs,
    int kafkaHeartbeatIntervalMs,
    String cassandraContact,
    String cassandraDc,
    String cassandraKeyspace,
    String cassandraReplicationStrategy,
    int cassandraReplicationFactor,
    int cassandraRequestTimeoutMs,
    int cassandraConnections,
    String redisUrl,
    String redisPrefix,
    int redisPoolSize,
    int redisPoolWaiting,
    long limitsRedisTimeoutMs,
    long limitsRedisRetryMs,
    long registryTtlMs,
    long registryRefreshMs,
    long routingRetryMaxMs,
    int fanoutRemoteRequestChars,
    int cassandraDedupeTtlS,
    long routingDeadLetterAfterMs) {

  public static final String GATEWAY = "gateway";
  public static final String ROUTING = "routing";
  public static final Set<String> ROLES = Set.of(GATEWAY, ROUTING);

  public boolean runs(String role) {
    return roles.contains(role);
  }
}
