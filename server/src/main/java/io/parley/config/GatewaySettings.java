package io.parley.config;

/**
 * Limits of the WebSocket gateway that operators may want to change; each is a {@code gateway.*}
 * key in conf/base.json (defaults there and in the README).
 *
 * @param slowReaderUnsentMaxBytes unsent bytes past which a connection is closed (1013) at once,
 *     whatever else holds; well above a burst of large frames handed to a socket in one event-loop
 *     turn, which io_uring counts as unsent until the ring completes
 * @param slowReaderBehindMs how long a live connection's socket may stay over its high-water mark
 *     (the client does not read) before it is closed (1013); not applied while a sync runs
 * @param syncHeldBackMax live messages of one conversation held back while a sync of it runs; one
 *     more closes the connection (1013: reconnect and sync)
 * @param sendsWaitingMax sends of one connection waiting for the rate limiter; beyond it a send is
 *     refused at once ({@code rate_limited})
 * @param registerWaitMs longest wait for the connection registry before a new connection's frames
 *     are read anyway
 * @param closeTimeoutMs how long a close frame the server sent waits for the client's answer
 *     before the TCP connection is dropped
 * @param requestTimeoutMs timeout of the gateway's event-bus requests to routing (signals)
 * @param ipLimits per-remote-IP limits of handshakes and REST requests ({@code limits.ip.*})
 * @param drain how a stopping node lets its connections go ({@code drain.*})
 * @param allowedOrigins browser origins ({@code scheme://host[:port]}, or {@code *}) allowed to open a
 *     WebSocket besides the server's own ({@code http.allowed_origins}; loopback ones too on the
 *     embedded profile); a handshake without {@code Origin} is always allowed
 */
public record GatewaySettings(
    long slowReaderUnsentMaxBytes,
    long slowReaderBehindMs,
    int syncHeldBackMax,
    int sendsWaitingMax,
    long registerWaitMs,
    long closeTimeoutMs,
    long requestTimeoutMs,
    IpLimitSettings ipLimits,
    DrainSettings drain,
    java.util.List<String> allowedOrigins) {}
