package io.parley.gateway;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which browser origins may open a WebSocket ({@code http.allowed_origins}). Browsers let any page
 * open a socket to any server, and a page can hold a victim's token (one the app stored, one
 * taken from a redirect): the {@code Origin} header is the browser's word on which page asks, and
 * a page cannot forge it. Allowed: a request without {@code Origin} (not a browser: the SDK in
 * Node, bots, the bench), the server's own origin (the {@code Host} the request was sent to, so the
 * app served at {@code /} always works), every origin of the configured list ({@code *}: any), and
 * on the embedded profile any loopback origin (a developer's app on another local port).
 */
public final class Origins {
  private static final Set<String> LOOPBACK = Set.of("localhost", "127.0.0.1", "[::1]");

  private final Set<String> allowed;
  private final boolean any;
  private final boolean loopback;

  /**
   * @param allowed origins as {@code scheme://host[:port]} (normalized by {@link #normalize}), or {@code *}
   * @param loopback whether every {@code http(s)://localhost|127.0.0.1|[::1]} origin is allowed
   */
  public Origins(List<String> allowed, boolean loopback) {
    this.any = allowed.contains("*");
    this.allowed = allowed.stream().filter(o -> !"*".equals(o)).map(Origins::normalize).collect(Collectors.toUnmodifiableSet());
    this.loopback = loopback;
  }

  /**
   * Whether a handshake with this {@code Origin} header sent to this {@code Host} is allowed.
   *
   * @param origin the {@code Origin} header, null when absent
   * @param host the {@code Host} header (authority the client used), null when absent
   * @param tls whether the listener itself speaks TLS (the default port of a {@code Host} without one)
   */
  public boolean allows(String origin, String host, boolean tls) {
    if (origin == null) {
      return true;
    }
    if (any) {
      return true;
    }
    URI o;
    try {
      o = parse(origin);
    } catch (IllegalArgumentException e) {
      return false; // "null" (sandboxed frames, file:) and anything malformed
    }
    String normalized = normalize(o);
    if (allowed.contains(normalized)) {
      return true;
    }
    if (loopback && LOOPBACK.contains(hostOf(o))) {
      return true;
    }
    return host != null && sameAuthority(o, host, tls);
  }

  /** An origin as {@code scheme://host:port} with the scheme's default port made explicit, lower case. */
  public static String normalize(String origin) {
    return normalize(parse(origin));
  }

  private static String normalize(URI o) {
    return o.getScheme().toLowerCase(Locale.ROOT) + "://" + hostOf(o) + ":" + portOf(o);
  }

  /**
   * Parses an origin: {@code http} or {@code https}, a host, an optional port, nothing else.
   *
   * @throws IllegalArgumentException when it is not one
   */
  static URI parse(String origin) {
    URI u;
    try {
      u = new URI(origin.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("not an origin: " + origin, e);
    }
    String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
    boolean bare = (u.getRawPath() == null || u.getRawPath().isEmpty()) && u.getRawQuery() == null
        && u.getRawFragment() == null && u.getRawUserInfo() == null;
    if (!("http".equals(scheme) || "https".equals(scheme)) || u.getHost() == null || !bare) {
      throw new IllegalArgumentException("not an origin (scheme://host[:port]): " + origin);
    }
    return u;
  }

  private static String hostOf(URI o) {
    return o.getHost().toLowerCase(Locale.ROOT);
  }

  private static int portOf(URI o) {
    return o.getPort() >= 0 ? o.getPort() : "https".equalsIgnoreCase(o.getScheme()) ? 443 : 80;
  }

  private static boolean sameAuthority(URI origin, String host, boolean tls) {
    URI h;
    try {
      h = new URI((tls ? "https" : "http") + "://" + host.trim());
    } catch (URISyntaxException e) {
      return false;
    }
    if (h.getHost() == null || !hostOf(origin).equals(h.getHost().toLowerCase(Locale.ROOT))) {
      return false;
    }
    // a Host without a port was sent to the default port of the scheme the browser used (behind a
    // TLS-terminating proxy the listener's own scheme says nothing about it)
    return h.getPort() < 0 || h.getPort() == portOf(origin);
  }
}
