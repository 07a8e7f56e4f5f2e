package io.parley.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Loads configuration once, in this order (last wins): {@code conf/base.json} (every key and its
 * default), the profile overlay {@code conf/<profile>.json}, an optional file named by
 * {@code PARLEY_CONFIG_FILE}, system properties {@code parley.<key>}, and environment variables
 * {@code PARLEY_<KEY>} (the key upper-cased, dots as underscores: {@code http.port} →
 * {@code PARLEY_HTTP_PORT}). Each value must have the type of its default; a bad one stops startup
 * with a message naming the key.
 */
public final class ConfigLoader {
  public static final Set<String> PROFILES = Set.of("embedded", "cluster");
  /** Values of {@code transport}: the socket transport (see {@code app.Transports}). */
  public static final List<String> TRANSPORTS = List.of("auto", "io_uring", "epoll", "nio");
  /** {@code push.fcm.project_id}: a segment of the FCM API's URL path. */
  private static final Pattern FCM_PROJECT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9.:-]{0,99}");
  /** {@code push.smtp.host}: a DNS name, IPv4 address or bracket-less IPv6 address. */
  private static final Pattern SMTP_HOST = Pattern.compile("[A-Za-z0-9.:_-]{1,253}");
  /** {@code push.smtp.from}: local@domain, nothing a header could be split on. */
  private static final Pattern SMTP_FROM = Pattern.compile("[^\\s@<>\",]{1,64}@[^\\s@<>\",]{1,189}");
  /** {@code push.apns.key_id} and {@code push.apns.team_id}: Apple's 10-character ids. */
  private static final Pattern APNS_ID = Pattern.compile("[A-Z0-9]{10}");
  /** {@code push.apns.topic}: a bundle id (with a suffix such as {@code .voip}). */
  private static final Pattern APNS_TOPIC = Pattern.compile("[A-Za-z0-9.-]{1,255}");

  private ConfigLoader() {}

  public static String envName(String key) {
    return "PARLEY_" + key.toUpperCase(Locale.ROOT).replace('.', '_');
  }

  public static ParleyConfig load(Map<String, String> env, Map<String, String> sysProps) {
    JsonObject base = resource("conf/base.json");
    JsonObject merged = base.copy();

    String profile = firstNonNull(env.get(envName("profile")), sysProps.get("parley.profile"), base.getString("profile"));
    if (!PROFILES.contains(profile)) {
      throw new ConfigException("profile: unknown profile '" + profile + "' (set by " + envName("profile")
          + "); known: " + PROFILES);
    }
    overlay(merged, base, resource("conf/" + profile + ".json"), "conf/" + profile + ".json");
    String file = env.get("PARLEY_CONFIG_FILE");
    if (file != null && !file.isBlank()) {
      overlay(merged, base, readFile(Path.of(file)), file);
    }
    for (String key : base.fieldNames()) {
      String sys = sysProps.get("parley." + key);
      if (sys != null) {
        merged.put(key, coerce(key, base.getValue(key), sys, "system property parley." + key));
      }
      String e = env.get(envName(key));
      if (e != null) {
        merged.put(key, coerce(key, base.getValue(key), e, "environment variable " + envName(key)));
      }
    }
    merged.put("profile", profile);
    return validate(merged);
  }

  private static ParleyConfig validate(JsonObject c) {
    ParleyConfig cfg = new ParleyConfig(
        c.getString("profile"),
        intIn(c, "node.id", 0, 1023),
        nonBlank(c, "http.host"),
        intIn(c, "http.port", 0, 65535),
        Path.of(nonBlank(c, "data.dir")),
        c.getString("jwt.secret"),
        bool(c, "dev_token.enabled"),
        intIn(c, "dev_token.ttl_s", 1, Integer.MAX_VALUE),
        intIn(c, "gateway.instances", 0, 64),
        oneOf(c, "transport", TRANSPORTS),
        intIn(c, "limits.body_max_bytes", 1, 16 * 1024 * 1024),
        intIn(c, "limits.media_max_items", 0, 1000),
        intIn(c, "limits.frame_max_bytes", 1024, 64 * 1024 * 1024),
        intIn(c, "limits.send_rate_per_s", 1, Integer.MAX_VALUE),
        intIn(c, "limits.send_burst", 1, Integer.MAX_VALUE),
        intIn(c, "limits.sync_convs_max", 1, 10_000),
        intIn(c, "limits.presence_users_max", 1, 100_000),
        longIn(c, "heartbeat.idle_timeout_ms", 100, Long.MAX_VALUE),
        longIn(c, "typing.throttle_ms", 0, Long.MAX_VALUE),
        bool(c, "storage.fsync"),
        intIn(c, "storage.commit_window_ms", 0, 100),
        intIn(c, "groups.small_max", 2, 100_000),
        intIn(c, "groups.large_max", 2, 1_000_000),
        intIn(c, "history.page_default", 1, 10_000),
        intIn(c, "history.page_max", 1, 10_000),
        intIn(c, "sync.max_messages", 1, 100_000),
        gateway(c),
        cluster(c),
        routing(c),
        push(c),
        pushDelivery(c),
        longIn(c, "vertx.max_event_loop_execute_ms", 1, 3_600_000),
        longIn(c, "warmup.ms", 0, 60_000),
        identity(c),
        bridge(c),
        admin(c));
    if (cfg.frameMaxBytes() <= cfg.bodyMaxBytes()) {
      throw new ConfigException("limits.frame_max_bytes must be greater than limits.body_max_bytes");
    }
    if (cfg.historyPageDefault() > cfg.historyPageMax()) {
      throw new ConfigException("history.page_default must not exceed history.page_max");
    }
    if (cfg.smallGroupMax() > cfg.largeGroupMax()) {
      throw new ConfigException("groups.small_max must not exceed groups.large_max");
    }
    String secret = cfg.jwtSecret();
    if (secret != null && !secret.isEmpty() && secret.getBytes(StandardCharsets.UTF_8).length < 32) {
      throw new ConfigException("jwt.secret must be at least 32 bytes (" + envName("jwt.secret") + ")");
    }
    return cfg;
  }

  private static IdentitySettings identity(JsonObject c) {
    String jwks = string(c, "auth.jwks_url").trim();
    if (!jwks.isEmpty()) {
      URI u;
      try {
        u = new URI(jwks);
      } catch (URISyntaxException e) {
        u = null;
      }
      // keys fetched over plain http could be anyone's: only from this machine (a local IdP or sidecar)
      boolean loopback = u != null && u.getHost() != null
          && (u.getHost().equals("localhost") || u.getHost().startsWith("127.") || u.getHost().equals("[::1]"));
      if (u == null || u.getHost() == null || u.getRawUserInfo() != null
          || !("https".equals(u.getScheme()) || "http".equals(u.getScheme()) && loopback)) {
        throw new ConfigException("auth.jwks_url: an https:// URL (http:// only on a loopback host), or empty ("
            + envName("auth.jwks_url") + "), got '" + jwks + "'");
      }
    }
    String cert = string(c, "http.tls.cert_file").trim();
    String key = string(c, "http.tls.key_file").trim();
    if (cert.isEmpty() != key.isEmpty()) {
      throw new ConfigException((cert.isEmpty() ? "http.tls.cert_file" : "http.tls.key_file")
          + ": http.tls.cert_file and http.tls.key_file are set together or not at all ("
          + envName(cert.isEmpty() ? "http.tls.cert_file" : "http.tls.key_file") + ")");
    }
    return new IdentitySettings(jwks, string(c, "auth.issuer").trim(), listOf(string(c, "auth.audience")), cert, key,
        oneOf(c, "log.format", IdentitySettings.LOG_FORMATS));
  }

  private static BridgeSettings bridge(JsonObject c) {
    return new BridgeSettings(adminHost(c), intIn(c, "bridge.port", 0, 65535),
        token(c, "bridge.token", BridgeSettings.TOKEN_MIN_CHARS, "no bridge"),
        bool(c, "bridge.include_bodies"), intIn(c, "bridge.write_queue_max_bytes", 1024, 1024 * 1024 * 1024));
  }

  private static AdminSettings admin(JsonObject c) {
    return new AdminSettings(adminHost(c), intIn(c, "admin.port", 0, 65535), bool(c, "metrics.enabled"),
        token(c, "admin.token", AdminSettings.TOKEN_MIN_CHARS, "no admin actions"));
  }

  /** {@code admin.host}: where both operator listeners (metrics and actions, the bridge) bind. */
  private static String adminHost(JsonObject c) {
    return nonBlank(c, "admin.host").trim();
  }

  /** An operator's shared secret: empty ({@code empty} says what that means), or minChars without surrounding spaces. */
  private static String token(JsonObject c, String key, int minChars, String empty) {
    String token = string(c, key);
    if (!token.isEmpty() && (token.length() < minChars || !token.equals(token.strip()))) {
      throw new ConfigException(key + ": at least " + minChars + " characters without surrounding spaces, or empty for "
          + empty + " (" + envName(key) + ")");
    }
    return token;
  }

  private static GatewaySettings gateway(JsonObject c) {
    return new GatewaySettings(
        longIn(c, "gateway.slow_reader.unsent_max_bytes", 1, Long.MAX_VALUE),
        longIn(c, "gateway.slow_reader.behind_ms", 1, Long.MAX_VALUE / 1_000_000),
        intIn(c, "gateway.sync.held_back_max", 1, Integer.MAX_VALUE),
        intIn(c, "gateway.sends_waiting_max", 1, Integer.MAX_VALUE),
        longIn(c, "gateway.register_wait_ms", 1, Long.MAX_VALUE),
        longIn(c, "gateway.close_timeout_ms", 1, Long.MAX_VALUE),
        longIn(c, "gateway.request_timeout_ms", 1, Long.MAX_VALUE),
        new IpLimitSettings(
            intIn(c, "limits.ip.handshakes_per_s", 0, 1_000_000),
            intIn(c, "limits.ip.handshake_burst", 1, 10_000_000),
            intIn(c, "limits.ip.rest_per_s", 0, 1_000_000),
            intIn(c, "limits.ip.rest_burst", 1, 10_000_000),
            bool(c, "limits.ip.exempt_loopback"),
            intIn(c, "limits.ip.tracked_max", 1, 10_000_000)),
        new DrainSettings(
            longIn(c, "drain.window_ms", 0, 3_600_000),
            longIn(c, "drain.timeout_ms", 1, 3_600_000)),
        origins(c, "http.allowed_origins"));
  }

  private static List<String> origins(JsonObject c, String key) {
    List<String> out = new java.util.ArrayList<>();
    for (String o : listMaybeEmpty(c, key)) {
      if ("*".equals(o)) {
        out.add(o);
        continue;
      }
      try {
        out.add(io.parley.gateway.Origins.normalize(o));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(key + ": a comma-separated list of origins (scheme://host[:port]) or *, got '" + o
            + "' (" + envName(key) + ")");
      }
    }
    return List.copyOf(out);
  }

  private static ClusterSettings cluster(JsonObject c) {
    Set<String> roles = new java.util.LinkedHashSet<>(list(c, "node.roles"));
    if (roles.isEmpty() || !ClusterSettings.ROLES.containsAll(roles)) {
      throw new ConfigException("node.roles: a comma-separated list of " + ClusterSettings.ROLES + " (" + envName("node.roles")
          + "), got '" + c.getString("node.roles") + "'");
    }
    // empty: this node joins no one and founds the cluster, which the others join by listing it
    List<String> members = listMaybeEmpty(c, "cluster.members");
    for (String m : members) {
      hostPort(m, "cluster.members");
    }
    hostPort(nonBlank(c, "cassandra.contact"), "cassandra.contact");
    String strategy = nonBlank(c, "cassandra.replication_strategy");
    if (!strategy.equals("SimpleStrategy") && !strategy.equals("NetworkTopologyStrategy")) {
      throw new ConfigException("cassandra.replication_strategy: SimpleStrategy or NetworkTopologyStrategy, got '" + strategy + "'");
    }
    String keyspace = nonBlank(c, "cassandra.keyspace");
    if (!keyspace.matches("[a-z][a-z0-9_]{0,47}")) {
      throw new ConfigException("cassandra.keyspace: lower-case letters, digits and _, starting with a letter; got '" + keyspace + "'");
    }
    long ttl = longIn(c, "registry.ttl_ms", 1_000, Long.MAX_VALUE);
    long refresh = longIn(c, "registry.refresh_ms", 100, Long.MAX_VALUE);
    if (refresh * 2 > ttl) {
      throw new ConfigException("registry.refresh_ms must be at most half of registry.ttl_ms (two missed beats fit in a TTL)");
    }
    int session = intIn(c, "kafka.session_timeout_ms", 1, 3_600_000);
    int heartbeat = intIn(c, "kafka.heartbeat_interval_ms", 1, 3_600_000);
    if (heartbeat >= session) {
      throw new ConfigException("kafka.heartbeat_interval_ms must be below kafka.session_timeout_ms");
    }
    return new ClusterSettings(Set.copyOf(roles), nonBlank(c, "cluster.name"), nonBlank(c, "cluster.host"),
        intIn(c, "cluster.port", 0, 65535), members, nonBlank(c, "kafka.bootstrap"), nonBlank(c, "kafka.topic"),
        intIn(c, "kafka.partitions", 1, 1024), intIn(c, "kafka.replication_factor", 1, 32), nonBlank(c, "kafka.group"),
        longIn(c, "kafka.send_timeout_ms", 100, 600_000), intIn(c, "kafka.admin_timeout_ms", 100, 3_600_000),
        longIn(c, "kafka.poll_timeout_ms", 1, 60_000), session, heartbeat,
        nonBlank(c, "cassandra.contact"), nonBlank(c, "cassandra.dc"),
        keyspace, strategy, intIn(c, "cassandra.replication_factor", 1, 32),
        intIn(c, "cassandra.request_timeout_ms", 1, 600_000), intIn(c, "cassandra.connections", 1, 64),
        nonBlank(c, "redis.url"), nonBlank(c, "redis.prefix"), intIn(c, "redis.pool_size", 1, 1024),
        intIn(c, "redis.pool_waiting", 1, 1_000_000), longIn(c, "limits.redis_timeout_ms", 1, 60_000),
        longIn(c, "limits.redis_retry_ms", 1, 3_600_000),
        ttl, refresh, longIn(c, "routing.retry_max_ms", 100, 600_000),
        intIn(c, "fanout.remote_request_chars", 1, 64 * 1024 * 1024),
        // Cassandra's longest TTL is 20 years
        intIn(c, "cassandra.dedupe_ttl_s", 60, 630_720_000),
        longIn(c, "routing.dead_letter_after_ms", 100, 86_400_000));
  }

  private static RoutingSettings routing(JsonObject c) {
    return new RoutingSettings(intIn(c, "routing.backlog_max", 1, 10_000_000), intIn(c, "routing.batch_max", 1, 65_536),
        intIn(c, "routing.cluster_appends_max", 1, 1024), intIn(c, "routing.member_cache_max", 1, 10_000_000),
        longIn(c, "routing.shed_queue_wait_ms", 0, 3_600_000), longIn(c, "overload.loop_lag_ms", 0, 3_600_000),
        intIn(c, "routing.hot_group_members", 0, 10_000_000), intIn(c, "routing.hot_fanout_shards", 1, 1024));
  }

  private static PushSettings push(JsonObject c) {
    String vapidFile = c.getString("push.webpush.vapid_key_file");
    String subject = c.getString("push.webpush.subject");
    if (vapidFile == null) {
      throw new ConfigException("push.webpush.vapid_key_file: must be a string, empty for the default ("
          + envName("push.webpush.vapid_key_file") + ")");
    }
    if (subject == null || !(subject.isEmpty() || subject.startsWith("mailto:") || subject.startsWith("https:"))) {
      throw new ConfigException("push.webpush.subject: a mailto: or https: URI, or empty (" + envName("push.webpush.subject")
          + "), got '" + subject + "'");
    }
    return new PushSettings(intIn(c, "push.devices_max", 1, 1000), intIn(c, "push.preview_chars", 0, 64),
        vapidFile.trim(), subject, string(c, "push.fcm.service_account_file").trim(), fcmProjectId(c), baseUrl(c, "push.fcm.base_url"),
        bool(c, "push.webpush.enabled"), smtpHost(c), intIn(c, "push.smtp.port", 1, 65535), smtpFrom(c),
        oneOf(c, "push.smtp.starttls", PushSettings.STARTTLS), string(c, "push.smtp.username").trim(),
        string(c, "push.smtp.password"),
        string(c, "push.apns.key_file").trim(), apnsId(c, "push.apns.key_id"), apnsId(c, "push.apns.team_id"), apnsTopic(c),
        baseUrl(c, "push.apns.base_url"), baseUrl(c, "push.apns.sandbox_base_url"), string(c, "push.apns.ca_file").trim());
  }

  /** Empty (no digests by email) or a host name or address, no port, no spaces. */
  private static String smtpHost(JsonObject c) {
    String host = string(c, "push.smtp.host").trim();
    // one colon is host:port (the port is push.smtp.port); an IPv6 address has several
    if (!host.isEmpty() && (!SMTP_HOST.matcher(host).matches() || host.indexOf(':') >= 0 && host.indexOf(':') == host.lastIndexOf(':'))) {
      throw new ConfigException("push.smtp.host: a host name or IP address without a port, or empty for no email digests ("
          + envName("push.smtp.host") + "), got '" + host + "'");
    }
    return host;
  }

  /** A bare address (local@domain): it goes into the envelope and the From header. */
  private static String smtpFrom(JsonObject c) {
    String from = nonBlank(c, "push.smtp.from").trim();
    if (!SMTP_FROM.matcher(from).matches()) {
      throw new ConfigException("push.smtp.from: an email address such as parley@example.com (" + envName("push.smtp.from")
          + "), got '" + from + "'");
    }
    return from;
  }

  private static PushDeliverySettings pushDelivery(JsonObject c) {
    long retryBase = longIn(c, "push.retry_base_ms", 1, 3_600_000);
    long retryMax = longIn(c, "push.retry_max_ms", 1, 86_400_000);
    if (retryMax < retryBase) {
      throw new ConfigException("push.retry_max_ms (" + retryMax + ") must be at least push.retry_base_ms (" + retryBase + ")");
    }
    java.util.Map<String, PushDeliverySettings.Pacing> pacing = new java.util.LinkedHashMap<>();
    for (String p : PushDeliverySettings.PROVIDERS) {
      pacing.put(p, new PushDeliverySettings.Pacing(intIn(c, "push." + p + ".rate_per_s", 1, 1_000_000),
          intIn(c, "push." + p + ".burst", 1, 1_000_000), intIn(c, "push." + p + ".in_flight_max", 1, 100_000)));
    }
    String topic = nonBlank(c, "push.queue_topic").trim();
    return new PushDeliverySettings(longIn(c, "push.coalesce_ms", 0, 3_600_000), longIn(c, "push.spill_after_ms", 1_000, 7 * 86_400_000L),
        retryBase, retryMax, intIn(c, "push.queue_max", 1, 10_000_000), topic, intIn(c, "push.queue_partitions", 1, 1024),
        java.util.Map.copyOf(pacing));
  }

  /** Empty, or Apple's 10-character id; required (not empty) when {@code push.apns.key_file} is set. */
  private static String apnsId(JsonObject c, String key) {
    String id = string(c, key).trim();
    if (!id.isEmpty() && !APNS_ID.matcher(id).matches()) {
      throw new ConfigException(key + ": Apple's 10-character id (A-Z, 0-9) (" + envName(key) + "), got '" + id + "'");
    }
    if (id.isEmpty() && !string(c, "push.apns.key_file").isBlank()) {
      throw new ConfigException(key + ": required when push.apns.key_file is set (" + envName(key) + ")");
    }
    return id;
  }

  private static String apnsTopic(JsonObject c) {
    String topic = string(c, "push.apns.topic").trim();
    if (!topic.isEmpty() && !APNS_TOPIC.matcher(topic).matches()) {
      throw new ConfigException("push.apns.topic: the app's bundle id, or empty (" + envName("push.apns.topic") + "), got '"
          + topic + "'");
    }
    return topic;
  }

  private static String string(JsonObject c, String key) {
    if (!(c.getValue(key) instanceof String s)) {
      throw new ConfigException(key + ": must be a string (" + envName(key) + ")");
    }
    return s;
  }

  /** Empty (the key file's), or a project id: it becomes a segment of the API's URL path. */
  private static String fcmProjectId(JsonObject c) {
    String id = string(c, "push.fcm.project_id").trim();
    if (!id.isEmpty() && !FCM_PROJECT_ID.matcher(id).matches()) {
      throw new ConfigException("push.fcm.project_id: a Firebase project id (letters, digits, '-', '.', ':'), or empty for the "
          + "service account file's (" + envName("push.fcm.project_id") + "), got '" + id + "'");
    }
    return id;
  }

  /** {@code http(s)://host[:port]}, a trailing slash dropped. */
  private static String baseUrl(JsonObject c, String key) {
    String v = nonBlank(c, key).trim();
    if (v.endsWith("/")) {
      v = v.substring(0, v.length() - 1);
    }
    URI u;
    try {
      u = new URI(v);
    } catch (URISyntaxException e) {
      u = null;
    }
    if (u == null || !("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null
        || !(u.getRawPath() == null || u.getRawPath().isEmpty()) || u.getRawQuery() != null || u.getRawUserInfo() != null) {
      throw new ConfigException(key + ": an http(s)://host[:port] URL without a path (" + envName(key) + "), got '" + v + "'");
    }
    return v;
  }

  private static List<String> list(JsonObject c, String key) {
    return listOf(nonBlank(c, key));
  }

  /** A comma-separated list that may be empty (a missing key is still an error). */
  private static List<String> listMaybeEmpty(JsonObject c, String key) {
    String v = c.getString(key);
    if (v == null) {
      throw new ConfigException(key + ": missing (" + envName(key) + ")");
    }
    return listOf(v);
  }

  private static List<String> listOf(String value) {
    List<String> out = new java.util.ArrayList<>();
    for (String part : value.split(",")) {
      if (!part.isBlank()) {
        out.add(part.trim());
      }
    }
    return List.copyOf(out);
  }

  private static void hostPort(String value, String key) {
    int colon = value.lastIndexOf(':');
    try {
      if (colon <= 0) {
        throw new NumberFormatException();
      }
      int port = Integer.parseInt(value.substring(colon + 1));
      if (port < 1 || port > 65535) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      throw new ConfigException(key + ": expected host:port, got '" + value + "' (" + envName(key) + ")");
    }
  }

  private static void overlay(JsonObject merged, JsonObject base, JsonObject overlay, String source) {
    for (String key : overlay.fieldNames()) {
      if (key.equals("profile")) {
        throw new ConfigException("profile: cannot be set in " + source + "; use " + envName("profile"));
      }
      if (!base.containsKey(key)) {
        throw new ConfigException(key + ": unknown key in " + source);
      }
      Object v = overlay.getValue(key);
      Object def = base.getValue(key);
      if (v != null && !(def == null || sameType(def, v))) {
        throw new ConfigException(key + ": expected " + typeName(def) + " in " + source + ", got " + v);
      }
      merged.put(key, v);
    }
  }

  private static boolean sameType(Object def, Object v) {
    return (def instanceof Number && v instanceof Number) || def.getClass() == v.getClass();
  }

  private static Object coerce(String key, Object def, String raw, String source) {
    try {
      if (def instanceof Boolean) {
        if (!raw.equalsIgnoreCase("true") && !raw.equalsIgnoreCase("false")) {
          throw new IllegalArgumentException();
        }
        return Boolean.parseBoolean(raw);
      }
      if (def instanceof Number) {
        return Long.parseLong(raw.trim());
      }
      return raw;
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key + ": expected " + typeName(def) + " from " + source + ", got '" + raw + "'");
    }
  }

  private static String typeName(Object def) {
    return def instanceof Boolean ? "true or false" : def instanceof Number ? "an integer" : "a string";
  }

  private static int intIn(JsonObject c, String key, int min, int max) {
    return (int) longIn(c, key, min, max);
  }

  private static long longIn(JsonObject c, String key, long min, long max) {
    Object v = c.getValue(key);
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
      throw new ConfigException(key + ": expected an integer (" + envName(key) + "), got " + v);
    }
    long l = n.longValue();
    if (l < min || l > max) {
      throw new ConfigException(key + ": " + l + " is outside " + min + ".." + max + " (" + envName(key) + ")");
    }
    return l;
  }

  private static boolean bool(JsonObject c, String key) {
    Object v = c.getValue(key);
    if (!(v instanceof Boolean b)) {
      throw new ConfigException(key + ": expected true or false (" + envName(key) + "), got " + v);
    }
    return b;
  }

  private static String oneOf(JsonObject c, String key, List<String> allowed) {
    String v = nonBlank(c, key);
    if (!allowed.contains(v)) {
      throw new ConfigException(key + ": must be one of " + String.join(", ", allowed) + ", not '" + v + "' ("
          + envName(key) + ")");
    }
    return v;
  }

  private static String nonBlank(JsonObject c, String key) {
    String v = c.getString(key);
    if (v == null || v.isBlank()) {
      throw new ConfigException(key + ": must not be empty (" + envName(key) + ")");
    }
    return v;
  }

  private static String firstNonNull(String... values) {
    for (String v : values) {
      if (v != null && !v.isBlank()) {
        return v;
      }
    }
    return null;
  }

  private static JsonObject resource(String name) {
    try (InputStream in = ConfigLoader.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new ConfigException("missing configuration resource " + name);
      }
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException | DecodeException e) {
      throw new ConfigException("cannot read " + name + ": " + e.getMessage());
    }
  }

  private static JsonObject readFile(Path path) {
    try {
      return new JsonObject(Files.readString(path));
    } catch (IOException | DecodeException e) {
      throw new ConfigException("PARLEY_CONFIG_FILE: cannot read " + path + ": " + e.getMessage());
    }
  }
}
