package io.parley.storage.redis;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
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
      await(client.send(Request.cmd(Command.PING)));
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

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, SECONDS);
  }

  /** Polls {@code condition} every 50 ms on a Vert.x timer until true; the ms it took, failing after 5 s. */
  long awaitCondition(Supplier<Future<Boolean>> condition) throws Exception {
    return awaitCondition(condition, 50);
  }

  /** Polls {@code condition} every {@code everyMs} on a Vert.x timer until true; the ms it took, failing after 5 s. */
  long awaitCondition(Supplier<Future<Boolean>> condition, long everyMs) throws Exception {
    Promise<Long> met = Promise.promise();
    poll(condition, everyMs, System.nanoTime(), met);
    return met.future().toCompletionStage().toCompletableFuture().get(10_000, MILLISECONDS);
  }

  private void poll(Supplier<Future<Boolean>> condition, long everyMs, long start, Promise<Long> met) {
    condition.get().onComplete(ar -> {
      long elapsed = (System.nanoTime() - start) / 1_000_000;
      if (ar.succeeded() && ar.result()) {
        met.complete(elapsed);
      } else if (elapsed > 5_000) {
        met.fail(new AssertionError("condition not met within 5 s"
            + (ar.failed() ? ": " + ar.cause() : "")));
      } else {
        vertx.setTimer(everyMs, id -> poll(condition, everyMs, start, met));
      }
    });
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
      Response page = await(client.send(Request.cmd(Command.SCAN).arg(cursor)
          .arg("MATCH").arg(of.pattern()).arg("COUNT").arg(1_000)));
      cursor = page.get(0).toString();
      if (page.get(1).size() > 0) {
        Request unlink = Request.cmd(Command.UNLINK);
        page.get(1).forEach(k -> unlink.arg(k.toString()));
        await(client.send(unlink));
      }
    } while (!"0".equals(cursor));
  }

  @Override
  public void close() throws Exception {
    try {
      if (client != null) {
        deleteKeys();
        await(client.close());
      }
    } finally {
      await(vertx.close());
    }
  }
}
