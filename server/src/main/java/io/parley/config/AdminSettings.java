package io.parley.config;

/**
 * The operator's listener and metrics (keys {@code admin.*}, {@code metrics.enabled}; defaults in
 * conf/base.json).
 *
 * @param host {@code admin.host}: where the admin listener binds (loopback by default: it is for the
 *     host's scraper, not for clients)
 * @param port {@code admin.port}: its port; 0 turns the listener off
 * @param metricsEnabled {@code metrics.enabled}: Vert.x's, the JVM's and Parley's meters; false
 *     builds Vert.x without metrics and counts nothing ({@code GET /metrics} then answers 404)
 */
public record AdminSettings(String host, int port, boolean metricsEnabled) {
  /** Loopback, port 9464, metrics on: the defaults. */
  public static final AdminSettings DEFAULTS = new AdminSettings("127.0.0.1", 9464, true);

  /** Whether the node opens its admin listener. */
  public boolean listens() {
    return port != 0;
  }
}
