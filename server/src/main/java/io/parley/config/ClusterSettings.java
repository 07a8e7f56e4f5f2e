package io.parley.config;

import java.util.List;
import java.util.Set;

/**
 * Settings of the cluster profile (ignored by the embedded one): which concerns this node runs,
 * how it finds the other nodes, and where Kafka, Cassandra and Redis are.
 *
 * @param roles {@code gateway} (WebSocket/REST, send intake into Kafka, per-node delivery) and/or
 *     {@code routing} (Kafka consumer: persist to Cassandra, fan out, push)
 * @param fanoutRemoteRequestChars the most characters (frames plus user ids) fan-out puts in one
 *     event-bus request to another node's inbox; a polled batch's deliveries to that node are cut
 *     into several requests above it
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
    String cassandraContact,
    String cassandraDc,
    String cassandraKeyspace,
    String cassandraReplicationStrategy,
    int cassandraReplicationFactor,
    String redisUrl,
    String redisPrefix,
    long registryTtlMs,
    long registryRefreshMs,
    long routingRetryMaxMs,
    int fanoutRemoteRequestChars) {

  public static final String GATEWAY = "gateway";
  public static final String ROUTING = "routing";
  public static final Set<String> ROLES = Set.of(GATEWAY, ROUTING);

  public boolean runs(String role) {
    return roles.contains(role);
  }
}
