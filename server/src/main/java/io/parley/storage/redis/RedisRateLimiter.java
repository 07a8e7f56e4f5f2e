package io.parley.storage.redis;

import io.parley.limits.LimitKey;
import io.parley.limits.RateLimiter;
import io.parley.storage.redis.LuaScripts.Script;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import java.util.List;
import java.util.Objects;

/**
 * The cluster profile's rate limiter: token buckets shared by every node through Redis, so a
 * user's limit holds over all of the user's connections wherever they are.
 *
 * <p>One bucket is one hash ({@link RedisKeys#rateLimit}, in the user's hash-tag slot) with the
 * tokens left and when they were counted. A call is one Lua script run with EVALSHA
 * ({@link LuaScripts}; reloaded on {@code NOSCRIPT}): it refills the bucket for the time passed by
 * the Redis clock ({@code TIME}, never a node's clock), takes a token when there is one, writes
 * the bucket back and sets it to expire when it would be full again — an idle bucket vanishes, and
 * a missing bucket counts as full. Atomic, so nodes racing for a user's last token cannot both get it.
 *
 * <p>Needs Redis 5 or later (writes after reading {@code TIME}). Fails when Redis does; wrap it in
 * {@link io.parley.limits.FallbackRateLimiter} to fail open.
 */
public final class RedisRateLimiter implements RateLimiter {

  /**
   * KEYS: bucket. ARGV: rate in tokens per ms, burst. 1 when a token was taken, else 0. Time in
   * ms with a microsecond fraction; tokens written with full precision, so a tiny rate still adds up.
   */
  private static final Script TAKE = Script.of("""
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
      local rate = tonumber(ARGV[1])
      local burst = tonumber(ARGV[2])
      local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
      local tokens = tonumber(b[1])
      local at = tonumber(b[2])
      if tokens == nil or at == nil then
        tokens = burst
        at = now
      elseif now > at then
        tokens = math.min(burst, tokens + (now - at) * rate)
        at = now
      end
      local taken = 0
      if tokens >= 1 then
        tokens = tokens - 1
        taken = 1
      end
      redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.3f', at))
      redis.call('PEXPIRE', KEYS[1], string.format('%d', math.max(1, math.ceil((burst - tokens) / rate))))
      return taken
      """);

  private final RedisKeys keys;
  private final LuaScripts scripts;

  /**
   * @param redis a client the caller owns (and closes)
   * @param keys the key names, i.e. the prefix of this deployment
   */
  public RedisRateLimiter(Redis redis, RedisKeys keys) {
    this.keys = Objects.requireNonNull(keys, "keys");
    this.scripts = new LuaScripts(redis, List.of(TAKE));
  }

  /** Loads the script into the server's script cache (also done on demand after NOSCRIPT). */
  public Future<Void> loadScripts() {
    return scripts.load();
  }

  @Override
  public Future<Boolean> tryAcquire(LimitKey key, double ratePerSecond, int burst) {
    RateLimiter.checkLimits(ratePerSecond, burst);
    return scripts.eval(TAKE, List.of(keys.rateLimit(key.user(), key.bucket())),
            Double.toString(ratePerSecond / 1000), Integer.toString(burst))
        .map(r -> r.toInteger() == 1);
  }
}
