package io.parley.config;

/**
 * Per-remote-IP token buckets of one node's HTTP port ({@code limits.ip.*}): WebSocket handshakes
 * and REST requests ({@code /v1/...}) each have their own. A rate of 0 turns that bucket off.
 *
 * @param handshakesPerSecond handshakes per second one address may start, refill rate
 *     ({@code limits.ip.handshakes_per_s}); 0: unlimited
 * @param handshakeBurst handshakes one address may start at once ({@code limits.ip.handshake_burst})
 * @param restPerSecond REST requests per second per address ({@code limits.ip.rest_per_s}); 0: unlimited
 * @param restBurst REST requests one address may make at once ({@code limits.ip.rest_burst})
 * @param exemptLoopback whether clients on a loopback address (127.0.0.0/8, ::1) are not limited
 *     ({@code limits.ip.exempt_loopback}): they are the host's own tools (the bench, scripts/cluster)
 *     or a reverse proxy on the same host, behind which every client would share one bucket
 * @param trackedMax addresses whose buckets are kept at most ({@code limits.ip.tracked_max}); beyond
 *     it, refilled buckets and then arbitrary ones are forgotten (which only errs towards allowing)
 */
public record IpLimitSettings(
    int handshakesPerSecond,
    int handshakeBurst,
    int restPerSecond,
    int restBurst,
    boolean exemptLoopback,
    int trackedMax) {

  /** No per-IP limit at all. */
  public static final IpLimitSettings OFF = new IpLimitSettings(0, 1, 0, 1, true, 1);
}
