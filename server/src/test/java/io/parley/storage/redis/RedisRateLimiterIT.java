package io.parley.storage.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.limits.FallbackRateLimiter;
import io.parley.limits.LimitKey;
import io.parley.limits.RateLimiter;
import io.parley.limits.RateLimiterContract;
import io.parley.storage.embedded.InMemoryRateLimiter;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link RateLimiterContract} against {@link RedisRateLimiter} on a real Redis (see
 * {@link RedisFixture}), plus the adapter's own guarantees: a bucket refills at the rate by the
 * Redis clock (not earlier, and it does); two nodes (two clients) share one bucket; a bucket left
 * alone vanishes from Redis once it would be full again; the script is reloaded when the server
 * lost it; and wrapped in {@link FallbackRateLimiter}, an unreachable Redis still gets answers.
 *
 * <p>Every run uses its own key prefix; the keys of that prefix are deleted after each test.
 */
class RedisRateLimiterIT extends RateLimiterContract {
  private static RedisFixture redis;
  private RedisRateLimiter limiter;

  @BeforeAll
  static void connect() throws Exception {
    redis = new RedisFixture();
  }

  @AfterAll
  static void close() throws Exception {
    if (redis != null) {
      redis.close();
    }
  }

  @BeforeEach
  void setUp() {
    limiter = new RedisRateLimiter(redis.client, redis.keys);
  }

  @AfterEach
  void cleanUp() throws Exception {
    redis.deleteKeys();
  }

  @Override
  protected RateLimiter limiter() {
    return limiter;
  }

  @Test
  void aDrainedBucketRefillsAtTheRateNotEarlier() throws Exception {
    LimitKey key = LimitKey.typing("alice", 1);
    double rate = 20; // one token per 50 ms
    long before = System.nanoTime();
    assertThat(Await.result(limiter.tryAcquire(key, rate, 1))).isTrue();
    long waited = redis.until("a token came back", () -> limiter.tryAcquire(key, rate, 1), 5);
    long sinceFirstSent = (System.nanoTime() - before) / 1_000_000;
    // the first call reached Redis after `before`; the allowed one before now (both by Redis TIME)
    assertThat(sinceFirstSent).as("a token takes 50 ms to come back").isGreaterThanOrEqualTo(50);
    assertThat(waited).isLessThan(5_000);
    assertThat(Await.result(limiter.tryAcquire(key, 0.001, 1))).as("and it was taken").isFalse();
  }

  @Test
  void twoNodesShareOneBucket() throws Exception {
    Redis otherClient = redis.newClient();
    try {
      RedisRateLimiter nodeA = limiter;
      RedisRateLimiter nodeB = new RedisRateLimiter(otherClient, redis.keys);
      LimitKey key = LimitKey.send("alice");
      List<Future<Boolean>> calls = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        calls.add(nodeA.tryAcquire(key, TINY_RATE, 30));
        calls.add(nodeB.tryAcquire(key, TINY_RATE, 30));
      }
      Await.result(Future.all(calls));
      assertThat(calls.stream().filter(Future::result).count()).as("a burst of 30 over both nodes").isEqualTo(30);
    } finally {
      Await.result(otherClient.close());
    }
  }

  @Test
  void anIdleBucketVanishesOnceItWouldBeFull() throws Exception {
    LimitKey key = LimitKey.send("bob");
    String name = redis.keys.rateLimit("bob", "send");
    assertThat(Await.result(limiter.tryAcquire(key, 10, 2))).isTrue(); // 1 token short: full again in 100 ms
    assertThat(Await.result(redis.countKeys(name))).isEqualTo(1);
    long pttl = Await.result(redis.client.send(Request.cmd(Command.PTTL).arg(name))).toLong();
    assertThat(pttl).as("expires when refilled").isBetween(1L, 100L);
    redis.until("the full bucket expired", () -> redis.countKeys(name).map(n -> n == 0));
    assertThat(Await.result(limiter.tryAcquire(key, 10, 2))).isTrue();
    assertThat(Await.result(limiter.tryAcquire(key, 10, 2))).as("a vanished bucket counts as full").isTrue();

    assertThat(Await.result(limiter.tryAcquire(LimitKey.send("slow"), TINY_RATE, 3))).isTrue();
    long slowTtl = Await.result(redis.client.send(Request.cmd(Command.PTTL).arg(redis.keys.rateLimit("slow", "send")))).toLong();
    assertThat(slowTtl).as("one token at 0.001/s takes 1000 s").isBetween(990_000L, 1_000_000L);
  }

  @Test
  void theScriptIsReloadedWhenTheServerLostIt() throws Exception {
    LimitKey key = LimitKey.send("carol");
    assertThat(Await.result(limiter.tryAcquire(key, TINY_RATE, 2))).isTrue();
    Await.result(redis.client.send(Request.cmd(Command.SCRIPT).arg("FLUSH")));
    assertThat(Await.result(limiter.tryAcquire(key, TINY_RATE, 2))).isTrue();
    assertThat(Await.result(limiter.tryAcquire(key, TINY_RATE, 2))).isFalse();
  }

  @Test
  void behindAFallbackAnUnreachableRedisStillGetsAnswers() throws Exception {
    Redis nowhere = Redis.createClient(redis.vertx, "redis://127.0.0.1:1");
    try {
      RedisRateLimiter unreachable = new RedisRateLimiter(nowhere, redis.keys);
      LimitKey key = LimitKey.send("dave");
      FallbackRateLimiter failOpen = new FallbackRateLimiter(redis.vertx, unreachable, new InMemoryRateLimiter(100), 500,
          1_000);
      assertThat(Await.result(failOpen.tryAcquire(key, TINY_RATE, 2))).as("decided locally").isTrue();
      assertThat(failOpen.degraded()).isTrue();
      assertThat(Await.result(failOpen.tryAcquire(key, TINY_RATE, 2))).isTrue();
      assertThat(Await.result(failOpen.tryAcquire(key, TINY_RATE, 2))).as("the local bucket limits").isFalse();
    } finally {
      Await.result(nowhere.close());
    }
  }
}
