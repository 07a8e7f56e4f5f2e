package io.parley.storage.redis;

import java.util.Objects;

/**
 * Every Redis key Parley uses is built here, and only here, and parsed back here. All keys start
 * with a configurable prefix, so deployments sharing a server (and every test run) keep their
 * names apart, and one {@link #pattern()} finds all of them.
 *
 * <p>Keys of one user carry the user id as a hash tag ({@code {user}}): in a Redis Cluster all of
 * a user's keys then live in one slot, which the per-user scripts of
 * {@link RedisConnectionRegistry} need (a script may only touch keys of one slot there).
 *
 * <ul>
 *   <li>{@code <prefix>:conn:{<user>}} — hash: connection id → node holding it
 *   <li>{@code <prefix>:exp:{<user>}} — sorted set: connection id scored by the epoch millis at
 *       which it lapses unless refreshed (per-connection liveness)
 *   <li>{@code <prefix>:seen:{<user>}} — string: last-seen epoch millis of the user
 *   <li>{@code <prefix>:rl:<bucket>:{<user>}} — hash: token bucket {@code <bucket>} of the user's
 *       rate limits ({@link RedisRateLimiter})
 * </ul>
 */
public final class RedisKeys {
  private static final String CONN = "conn";
  private static final String EXP = "exp";
  private static final String SEEN = "seen";
  private static final String RATE_LIMIT = "rl";

  private final String prefix;

  /**
   * @param prefix non-blank, without braces (a brace would turn the prefix into the hash tag and
   *     put every key into one cluster slot)
   */
  public RedisKeys(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    if (prefix.isBlank() || prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0) {
      throw new IllegalArgumentException("redis key prefix must be non-blank and without braces: '" + prefix + "'");
    }
    this.prefix = prefix;
  }

  public String prefix() {
    return prefix;
  }

  /** Hash connection id → node of the user's registered connections. */
  public String connections(String user) {
    return key(CONN, user);
  }

  /** Sorted set connection id → expiry (epoch millis) of the user's registered connections. */
  public String expiries(String user) {
    return key(EXP, user);
  }

  /** Last-seen epoch millis of the user. */
  public String lastSeen(String user) {
    return key(SEEN, user);
  }

  /**
   * Hash holding the token bucket {@code bucket} of the user (e.g. {@code send},
   * {@code typing:<conv>}); the bucket name carries no braces, so the user stays the hash tag.
   */
  public String rateLimit(String user, String bucket) {
    if (bucket.isEmpty() || bucket.indexOf('{') >= 0 || bucket.indexOf('}') >= 0) {
      throw new IllegalArgumentException("bucket must be non-empty and without braces: '" + bucket + "'");
    }
    return key(RATE_LIMIT + ':' + bucket, user);
  }

  /** A glob for SCAN/KEYS matching every key of this prefix (glob characters of the prefix escaped). */
  public String pattern() {
    StringBuilder sb = new StringBuilder(prefix.length() + 4);
    for (char c : prefix.toCharArray()) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
        sb.append('\\');
      }
      sb.append(c);
    }
    return sb.append(":*").toString();
  }

  /** The user a key of this prefix belongs to, or null when it is not a per-user key of this prefix. */
  public String userOf(String key) {
    for (String kind : new String[] {CONN, EXP, SEEN}) {
      String head = prefix + ':' + kind + ":{";
      if (key.startsWith(head) && key.endsWith("}") && key.length() > head.length()) {
        return key.substring(head.length(), key.length() - 1);
      }
    }
    String rateLimits = prefix + ':' + RATE_LIMIT + ':';
    int tag = key.indexOf(":{", rateLimits.length());
    if (key.startsWith(rateLimits) && tag > rateLimits.length() && key.endsWith("}") && key.length() > tag + 3
        && key.substring(rateLimits.length(), tag).indexOf('{') < 0) {
      return key.substring(tag + 2, key.length() - 1);
    }
    return null;
  }

  private String key(String kind, String user) {
    return prefix + ':' + kind + ":{" + user + '}';
  }
}
