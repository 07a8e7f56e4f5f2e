package io.parley.config;

import java.nio.file.Path;

/**
 * Parley's validated configuration. Every key, its default and its meaning: conf/base.json and the README.
 *
 * <p>{@code maxEventLoopExecuteMs} ({@code vertx.max_event_loop_execute_ms}): how long one event-loop task may
 * run before Vert.x's blocked-thread checker logs "Thread ... has been blocked"; the checker then
 * looks every {@code min(1000, max(10, maxEventLoopExecuteMs / 2))} ms, so a block just over the limit is seen.
 */
public record ParleyConfig(
    String profile,
    int nodeId,
    String httpHost,
    int httpPort,
    Path dataDir,
    String jwtSecret,
    boolean devTokenEnabled,
    int devTokenTtlSeconds,
    int gatewayInstances,
    String transport,
    int bodyMaxBytes,
    int mediaMaxItems,
    int frameMaxBytes,
    int sendRatePerSecond,
    int sendBurst,
    int syncConvsMax,
    int presenceUsersMax,
    long idleTimeoutMs,
    long typingThrottleMs,
    boolean fsync,
    int commitWindowMs,
    int smallGroupMax,
    int largeGroupMax,
    int historyPageDefault,
    int historyPageMax,
    int syncMaxMessages,
    GatewaySettings gateway,
    ClusterSettings cluster,
    RoutingSettings routing,
    PushSettings push,
    PushDeliverySettings pushDelivery,
    long maxEventLoopExecuteMs,
    long warmupMs,
    IdentitySettings identity,
    BridgeSettings bridge,
    AdminSettings admin) {

  public boolean clustered() {
    return "cluster".equals(profile);
  }

  public String nodeName() {
    return "node-" + nodeId;
  }

  public ParleyConfig withJwtSecret(String secret) {
    return new ParleyConfig(profile, nodeId, httpHost, httpPort, dataDir, secret, devTokenEnabled, devTokenTtlSeconds,
        gatewayInstances, transport, bodyMaxBytes, mediaMaxItems, frameMaxBytes, sendRatePerSecond, sendBurst, syncConvsMax,
        presenceUsersMax, idleTimeoutMs, typingThrottleMs, fsync, commitWindowMs, smallGroupMax, largeGroupMax, historyPageDefault,
        historyPageMax, syncMaxMessages, gateway, cluster, routing, push, pushDelivery, maxEventLoopExecuteMs,
        warmupMs, identity, bridge, admin);
  }
}
