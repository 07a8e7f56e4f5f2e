package io.parley.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Loads configuration once, in this order (last wins): {@code conf/base.json} (every key and its
 * default), the profile overlay {@code conf/<profile>.json}, an optional file named by
 * {@code PARLEY_CONFIG_FILE}, system properties {@code parley.<key>}, and environment variables
 * {@code PARLEY_<KEY>} (the key upper-cased, dots as underscores: {@code http.port} →
 * {@code PARLEY_HTTP_PORT}). Each value must have the type of its default; a bad one stops startup
 * with a message naming the key.
 */
public final class ConfigLoader {
  public static final Set<String> PROFILES = Set.of("embedded");

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
        intIn(c, "groups.small_max", 2, 100_000),
        intIn(c, "groups.large_max", 2, 1_000_000),
        intIn(c, "history.page_default", 1, 10_000),
        intIn(c, "history.page_max", 1, 10_000),
        intIn(c, "sync.max_messages", 1, 100_000));
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
