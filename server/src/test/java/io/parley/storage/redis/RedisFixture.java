package io.parley.storage.redis;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * One real-Redis setup per test class: a Vert.x instance, a client, and a key prefix of its own
 * ({@code parley-it-<random>}) whose keys {@link #deleteKeys()} removes (after each test) and
 * {@link #close()} removes too. The server comes from {@code PARLEY_REDIS_URL} (system property
 * or environment, default {@code redis://127.0.0.1:6379}).
 */
final class RedisFixture implements AutoCloseable {
  static final String URL = System.getProperty("PARLEY_REDIS_URL",
      System.getenv().getOrDefault("PARLEY_REDIS_URL", "redis://127.0.0.1:6379"));

  final Vertx vertx;
  final Redis client;
  final RedisKeys keys = new RedisKeys("parley-it-" + UUID.randomUUID().toString().substring(0, 8));

  RedisFixture() throws Exception {
    vertx = Vertx.vertx();
    client = newClient();
    try {
      Await.result(client.send(Request.cmd(Command.PING)));
    } catch (Exception e) {
      close();
      throw e;
    }
  }

  /** Another client of the same server (another node, as far as Redis can tell). */
  Redis newClient() {
    return Redis.createClient(vertx, new RedisOptions().setConnectionString(URL)
        .setMaxPoolSize(8).setMaxPoolWaiting(4096));
  }

  /**
   * Polls the asynchronous {@code condition} every 50 ms until it is true (a failed or false answer:
   * not yet); the ms it took, failing after 5 s.
   */
  long until(String what, Supplier<Future<Boolean>> condition) {
    return until(what, condition, 50);
  }

  /** {@link #until(String, Supplier)}, polling every {@code everyMs}. */
  long until(String what, Supplier<Future<Boolean>> condition, long everyMs) {
    return Await.until(what, () -> Await.result(condition.get()), Duration.ofSeconds(5), Duration.ofMillis(everyMs))
        .toMillis();
  }

  /** How many of {@code keys} exist. */
  Future<Integer> countKeys(String... names) {
    Request exists = Request.cmd(Command.EXISTS);
    for (String k : names) {
      exists.arg(k);
    }
    return client.send(exists).map(Response::toInteger);
  }

  /** Deletes every key of this run's prefix. */
  void deleteKeys() throws Exception {
    deleteKeys(keys);
  }

  void deleteKeys(RedisKeys of) throws Exception {
    String cursor = "0";
    do {
      Response page = Await.result(client.send(Request.cmd(Command.SCAN).arg(cursor)
          .arg("MATCH").arg(of.pattern()).arg("COUNT").arg(1_000)));
      cursor = page.get(0).toString();
      if (page.get(1).size() > 0) {
        Request unlink = Request.cmd(Command.UNLINK);
        page.get(1).forEach(k -> unlink.arg(k.toString()));
        Await.result(client.send(unlink));
      }
    } while (!"0".equals(cursor));
  }

  @Override
  public void close() throws Exception {
    try {
      if (client != null) {
        deleteKeys();
        Await.result(client.close());
      }
    } finally {
      Await.result(vertx.close());
    }
  }
}
