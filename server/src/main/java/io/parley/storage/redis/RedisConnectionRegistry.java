package io.parley.storage.redis;

import io.parley.presence.ConnectionRegistry;
import io.parley.storage.redis.LuaScripts.Script;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * The cluster profile's connection registry, shared by every gateway node through Redis (Redis 5 or
 * later: the scripts read the server clock before writing).
 *
 * <h2>Data layout</h2>
 *
 * Per user (names built by {@link RedisKeys}, all in the user's hash-tag slot):
 *
 * <ul>
 *   <li>{@code conn:{user}} — hash connection id → node holding that connection;
 *   <li>{@code exp:{user}} — sorted set connection id → epoch millis (Redis server clock) at which
 *       the connection lapses unless {@link #refresh refreshed};
 *   <li>{@code seen:{user}} — the user's last-seen epoch millis: the value given with the final
 *       {@link #unregister}, and until then the server time of the latest register/refresh, so a
 *       user whose node crashed still shows when it was last heard of. Kept for
 *       {@code lastSeenRetention} after its last write.
 * </ul>
 *
 * A connection is <em>live</em> while its expiry is in the future. Lapsed entries are never
 * reported ({@link #nodesOf} and {@link #presence} filter by expiry) and are deleted by the next
 * write for that user; in any case both per-user keys carry a Redis expiry equal to the latest
 * connection expiry, so a crashed node's entries vanish on their own.
 *
 * <h2>Atomicity</h2>
 *
 * Every operation is one Lua script run with EVALSHA ({@link LuaScripts}: the SHA-1 is computed; on
 * {@code NOSCRIPT}, e.g. after a server restart, the scripts are loaded again and the call is
 * retried once). A script runs atomically, so two gateways registering a user's first connections
 * at once cannot both see "first", and an unregister racing a register sees one order or the
 * other. Expiry is judged by the Redis clock ({@code TIME}), never by the gateways' clocks.
 * {@link #nodesOf} runs one script for up to {@value #NODES_OF_CHUNK} users; more users are split
 * into several scripts sent as one pipeline: one round trip either way.
 *
 * <h2>Heartbeats</h2>
 *
 * The gateway must call {@link #refresh} for each of its open connections periodically, well within
 * the TTL (every TTL/3 leaves room for two missed beats). A connection that lapsed (its node was
 * unreachable or down for a whole TTL) is not brought back by a refresh: its owner has to register
 * it again, which reports "first" again if it was the user's only connection.
 *
 * <p>Non-blocking throughout; the Redis client is shared and thread-safe. Tested against a
 * standalone Redis. The per-user scripts only touch keys of one hash-tag slot, as a Redis Cluster
 * requires, but {@link #nodesOf} reads many users' keys in one script and would need splitting by
 * slot there.
 */
public final class RedisConnectionRegistry implements ConnectionRegistry {

  /** Most users looked up by one nodesOf script (bounds how long one script holds Redis). */
  public static final int NODES_OF_CHUNK = 500;
  /** Default retention of a user's last-seen time after its last write. */
  public static final Duration DEFAULT_LAST_SEEN_RETENTION = Duration.ofDays(30);

  /**
   * Prelude of the write scripts (KEYS: conn, exp, ...): computes {@code now} (Redis clock, epoch
   * millis), drops the user's lapsed connections, and defines {@code keep()}, which sets both
   * per-user keys to expire with the user's latest connection (or deletes them when none is left).
   */
  private static final String PRUNE = """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      local lapsed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
      for _, c in ipairs(lapsed) do redis.call('HDEL', KEYS[1], c) end
      if #lapsed > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
      local function keep()
        local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
        if #last == 0 then
          redis.call('DEL', KEYS[1], KEYS[2])
        else
          redis.call('PEXPIREAT', KEYS[1], last[2])
          redis.call('PEXPIREAT', KEYS[2], last[2])
        end
      end
      """;

  /** KEYS: conn, exp, seen. ARGV: connection, node, ttl ms, seen retention ms. 1 when first live connection. */
  private static final Script REGISTER = Script.of(PRUNE + """
      local first = redis.call('ZCARD', KEYS[2]) == 0
      redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
      redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
      redis.call('SET', KEYS[3], string.format('%d', now), 'PX', ARGV[4])
      keep()
      if first then return 1 end
      return 0
      """);

  /** KEYS: conn, exp, seen. ARGV: connection, last seen, seen retention ms. 1 when it was the last live one. */
  private static final Script UNREGISTER = Script.of(PRUNE + """
      local removed = redis.call('HDEL', KEYS[1], ARGV[1])
      redis.call('ZREM', KEYS[2], ARGV[1])
      keep()
      if removed == 1 and redis.call('EXISTS', KEYS[2]) == 0 then
        redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3])
        return 1
      end
      return 0
      """);

  /** KEYS: conn, exp, seen. ARGV: connection, node, ttl ms, seen retention ms. 1 when it was live. */
  private static final Script REFRESH = Script.of(PRUNE + """
      if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
        return 0
      end
      redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
      redis.call('ZADD', KEYS[2], 'XX', now + tonumber(ARGV[3]), ARGV[1])
      redis.call('SET', KEYS[3], string.format('%d', now), 'PX', ARGV[4])
      keep()
      return 1
      """);

  /** KEYS: exp, seen. Returns {online 0/1, last seen (0 while online or unknown)}. Read-only. */
  private static final Script PRESENCE = Script.of("""
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      if redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf') > 0 then return {1, 0} end
      local seen = redis.call('GET', KEYS[2])
      return {0, tonumber(seen) or 0}
      """);

  /**
   * KEYS: conn, exp of user 1, conn, exp of user 2, ... Returns one array per user: the nodes of
   * its live connections (with repeats). Read-only.
   */
  private static final Script NODES_OF = Script.of("""
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      local out = {}
      for i = 1, #KEYS, 2 do
        local live = redis.call('ZRANGEBYSCORE', KEYS[i + 1], '(' .. now, '+inf')
        if #live > 0 then
          out[#out + 1] = redis.call('HMGET', KEYS[i], unpack(live))
        else
          out[#out + 1] = {}
        end
      end
      return out
      """);

  /** KEYS: exp of user 1, exp of user 2, ... Returns one array per user: its live connection ids. Read-only. */
  private static final Script CONNECTIONS_OF = Script.of("""
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      local out = {}
      for i = 1, #KEYS do
        out[#out + 1] = redis.call('ZRANGEBYSCORE', KEYS[i], '(' .. now, '+inf')
      end
      return out
      """);

  private static final List<Script> SCRIPTS = List.of(REGISTER, UNREGISTER, REFRESH, PRESENCE, NODES_OF, CONNECTIONS_OF);

  private final Redis redis;
  private final LuaScripts scripts;
  private final RedisKeys keys;
  private final String ttlMillis;
  private final String retentionMillis;
  private final boolean ownsClient;

  /**
   * @param redis a client the caller owns (and closes)
   * @param keys the key names, i.e. the prefix of this deployment
   * @param ttl how long a connection stays live without a {@link #refresh}
   */
  public RedisConnectionRegistry(Redis redis, RedisKeys keys, Duration ttl) {
    this(redis, keys, ttl, DEFAULT_LAST_SEEN_RETENTION);
  }

  public RedisConnectionRegistry(Redis redis, RedisKeys keys, Duration ttl, Duration lastSeenRetention) {
    this(redis, keys, ttl, lastSeenRetention, false);
  }

  private RedisConnectionRegistry(Redis redis, RedisKeys keys, Duration ttl, Duration lastSeenRetention,
      boolean ownsClient) {
    this.redis = Objects.requireNonNull(redis, "redis");
    this.scripts = new LuaScripts(redis, SCRIPTS);
    this.keys = Objects.requireNonNull(keys, "keys");
    this.ttlMillis = Long.toString(positiveMillis(ttl, "ttl"));
    this.retentionMillis = Long.toString(positiveMillis(lastSeenRetention, "lastSeenRetention"));
    this.ownsClient = ownsClient;
  }

  /**
   * Connects to {@code redisUrl} (e.g. {@code redis://127.0.0.1:6379}) with a client owned by the
   * registry (released by {@link #close()}) and the client library's default pool, and loads the
   * scripts: the future fails when Redis is unreachable, so a deploy depending on it fails too.
   * (A node shares one client, made by {@link #createClient}, with its rate limiter.)
   */
  public static Future<RedisConnectionRegistry> connect(Vertx vertx, String redisUrl, String keyPrefix, Duration ttl) {
    RedisKeys keys = new RedisKeys(keyPrefix);
    Redis client = Redis.createClient(vertx, redisUrl);
    RedisConnectionRegistry registry =
        new RedisConnectionRegistry(client, keys, ttl, DEFAULT_LAST_SEEN_RETENTION, true);
    return registry.loadScripts()
        .map(registry)
        .recover(e -> client.close().transform(ignored -> Future.failedFuture(e)));
  }

  /**
   * A pooled client for {@code redisUrl}; the caller closes it. Creating it does not connect.
   *
   * @param poolSize the most connections open at once ({@code redis.pool_size})
   * @param poolWaiting the most requests waiting for a connection, beyond which they fail at once
   *     ({@code redis.pool_waiting})
   */
  public static Redis createClient(Vertx vertx, String redisUrl, int poolSize, int poolWaiting) {
    if (poolSize < 1 || poolWaiting < 1) {
      throw new IllegalArgumentException("redis pool size and waiting must be at least 1: " + poolSize + ", " + poolWaiting);
    }
    return Redis.createClient(vertx, new RedisOptions()
        .setConnectionString(redisUrl)
        .setMaxPoolSize(poolSize)
        .setMaxPoolWaiting(poolWaiting));
  }

  /** Closes the Redis client when {@link #connect} created it; a client passed in stays open. */
  public Future<Void> close() {
    return ownsClient ? redis.close() : Future.succeededFuture();
  }

  /** Loads every script into the server's script cache (also done on demand after NOSCRIPT). */
  public Future<Void> loadScripts() {
    return scripts.load();
  }

  @Override
  public Future<Boolean> register(String user, String node, String connectionId) {
    return eval(REGISTER, userKeys(user), connectionId, node, ttlMillis, retentionMillis)
        .map(r -> r.toInteger() == 1);
  }

  @Override
  public Future<Boolean> unregister(String user, String node, String connectionId, long lastSeen) {
    return eval(UNREGISTER, userKeys(user), connectionId, Long.toString(lastSeen), retentionMillis)
        .map(r -> r.toInteger() == 1);
  }

  /**
   * Heartbeat of a live connection: pushes its expiry to now + TTL (and the user's last-seen to
   * now). Call it for every open connection well within the TTL. Does nothing for a connection
   * that is not registered or has already lapsed; such a connection must {@link #register} again.
   */
  @Override
  public Future<Boolean> refresh(String user, String node, String connectionId) {
    return eval(REFRESH, userKeys(user), connectionId, node, ttlMillis, retentionMillis)
        .map(r -> r.toInteger() == 1);
  }

  @Override
  public Future<Map<String, Set<String>>> nodesOf(Collection<String> users) {
    return perUser(NODES_OF, users, user -> List.of(keys.connections(user), keys.expiries(user)));
  }

  @Override
  public Future<Map<String, Set<String>>> connectionsOf(Collection<String> users) {
    return perUser(CONNECTIONS_OF, users, user -> List.of(keys.expiries(user)));
  }

  /**
   * Runs a read-only per-user script for up to {@value #NODES_OF_CHUNK} users at a time, the
   * chunks in one pipeline; each reply holds one array of strings per user, in order. Users whose
   * array is empty are left out.
   */
  private Future<Map<String, Set<String>>> perUser(Script script, Collection<String> users,
      Function<String, List<String>> keysOf) {
    if (users.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    List<String> ordered = List.copyOf(users);
    List<Request> calls = new ArrayList<>((ordered.size() + NODES_OF_CHUNK - 1) / NODES_OF_CHUNK);
    for (int from = 0; from < ordered.size(); from += NODES_OF_CHUNK) {
      List<String> chunkKeys = new ArrayList<>();
      for (String user : ordered.subList(from, Math.min(from + NODES_OF_CHUNK, ordered.size()))) {
        chunkKeys.addAll(keysOf.apply(user));
      }
      calls.add(LuaScripts.evalsha(script, chunkKeys));
    }
    return scripts.runAll(calls).map(replies -> {
      Map<String, Set<String>> out = new HashMap<>();
      int i = 0;
      for (Response reply : replies) {
        for (Response values : reply) {
          String user = ordered.get(i++);
          if (values != null) {
            for (Response v : values) {
              if (v != null) {
                out.computeIfAbsent(user, u -> new HashSet<>(4)).add(v.toString());
              }
            }
          }
        }
      }
      out.replaceAll((u, set) -> Set.copyOf(set));
      return out;
    });
  }

  @Override
  public Future<Presence> presence(String user) {
    return eval(PRESENCE, List.of(keys.expiries(user), keys.lastSeen(user)))
        .map(r -> new Presence(r.get(0).toInteger() == 1, r.get(1).toLong()));
  }

  // --- scripts ---------------------------------------------------------------------------------

  /** KEYS of the register, unregister and refresh scripts. */
  private List<String> userKeys(String user) {
    return List.of(keys.connections(user), keys.expiries(user), keys.lastSeen(user));
  }

  private Future<Response> eval(Script script, List<String> scriptKeys, String... args) {
    return scripts.eval(script, scriptKeys, args);
  }

  private static long positiveMillis(Duration d, String name) {
    if (d == null || d.toMillis() <= 0) {
      throw new IllegalArgumentException(name + " must be at least 1 ms: " + d);
    }
    return d.toMillis();
  }
}
