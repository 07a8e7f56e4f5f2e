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
 * @param token {@code admin.token}: the bearer token of the listener's actions ({@code POST
 *     /admin/drain}); empty: no action is offered (at least {@link #TOKEN_MIN_CHARS} characters)
 */
public record AdminSettings(String host, int port, boolean metricsEnabled, String token) {
  /** Loopback, port 9464, metrics on, no actions: the defaults. */
  public static final AdminSettings DEFAULTS = new AdminSettings("127.0.0.1", 9464, true, "");
  public static final int TOKEN_MIN_CHARS = 16;

  /** Whether the listener offers its actions (a token is set). */
  public boolean actions() {
    return !token.isEmpty();
  }

  @Override
  public String toString() { // never the token
    return "AdminSettings[host=" + host + ", port=" + port + ", metricsEnabled=" + metricsEnabled + ", token="
        + (token.isEmpty() ? "" : "(set)") + "]";
  }

  /** Whether the node opens its admin listener. */
  public boolean listens() {
    return port != 0;
  }
}
