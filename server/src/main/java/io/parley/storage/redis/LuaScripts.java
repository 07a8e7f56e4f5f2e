package io.parley.storage.redis;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * The Lua scripts of one Redis adapter, run by SHA-1 with EVALSHA. The SHA-1 is computed here;
 * on {@code NOSCRIPT} (the server restarted or flushed its script cache) every script of the set
 * is loaded again and the calls are retried once.
 */
final class LuaScripts {

  /** A Lua script and the SHA-1 EVALSHA names it by. */
  record Script(String source, String sha) {
    static Script of(String source) {
      try {
        MessageDigest md = MessageDigest.getInstance("SHA-1");
        return new Script(source, HexFormat.of().formatHex(md.digest(source.getBytes(StandardCharsets.UTF_8))));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-1 is a mandatory JDK algorithm", e);
      }
    }
  }

  private final Redis redis;
  private final List<Script> scripts;

  LuaScripts(Redis redis, List<Script> scripts) {
    this.redis = Objects.requireNonNull(redis, "redis");
    this.scripts = List.copyOf(scripts);
  }

  /** Loads every script into the server's script cache (also done on demand after NOSCRIPT). */
  Future<Void> load() {
    List<Request> loads = new ArrayList<>(scripts.size());
    for (Script script : scripts) {
      loads.add(Request.cmd(Command.SCRIPT).arg("LOAD").arg(script.source()));
    }
    return redis.batch(loads).mapEmpty();
  }

  /** One EVALSHA call. */
  Future<Response> eval(Script script, List<String> keys, String... args) {
    return runAll(List.of(evalsha(script, keys, args))).map(replies -> replies.get(0));
  }

  /** The EVALSHA request for {@code script}, to send alone or in a batch through {@link #runAll}. */
  static Request evalsha(Script script, List<String> keys, String... args) {
    Request req = Request.cmd(Command.EVALSHA).arg(script.sha()).arg(keys.size());
    keys.forEach(req::arg);
    for (String a : args) {
      req.arg(a);
    }
    return req;
  }

  /** Sends the calls in one round trip; when the server lost the scripts, loads them and retries once. */
  Future<List<Response>> runAll(List<Request> calls) {
    return send(calls).recover(e -> isNoScript(e)
        ? load().compose(ignored -> send(calls))
        : Future.failedFuture(e));
  }

  private Future<List<Response>> send(List<Request> calls) {
    return calls.size() == 1 ? redis.send(calls.get(0)).map(List::of) : redis.batch(calls);
  }

  private static boolean isNoScript(Throwable e) {
    return e.getMessage() != null && e.getMessage().startsWith("NOSCRIPT");
  }
}
