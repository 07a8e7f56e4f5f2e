package io.parley.storage.kafka;

import static java.util.concurrent.TimeUnit.SECONDS;

import io.parley.routing.LogSource;
import io.parley.routing.LogSource.Logged;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.kafka.admin.KafkaAdminClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * Shared pieces of the Kafka integration tests: the broker address ({@code PARLEY_KAFKA_BOOTSTRAP},
 * system property or environment, default 127.0.0.1:9092), names of their own for every run
 * (topics and consumer groups with a random suffix), topic clean-up, and polling a
 * {@link LogSource} until an observable condition holds (no sleeping).
 */
final class KafkaFixture {
  static final String BOOTSTRAP = System.getProperty("PARLEY_KAFKA_BOOTSTRAP",
      System.getenv().getOrDefault("PARLEY_KAFKA_BOOTSTRAP", "127.0.0.1:9092"));

  /** The admin bound and consumer timing of conf/base.json ({@code kafka.admin_timeout_ms}, {@code kafka.*_timeout_ms}). */
  static final int ADMIN_TIMEOUT_MS = 30_000;
  static final KafkaLogSource.Timing TIMING = new KafkaLogSource.Timing(100, 6_000, 2_000);

  private KafkaFixture() {}

  /** A topic or group name no other run uses: {@code parley-it-<kind>-<random>}. */
  static String uniqueName(String kind) {
    return "parley-it-" + kind + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Deletes the topics (best effort: a leftover test topic is harmless). */
  static void deleteTopics(Vertx vertx, List<String> topics) throws Exception {
    KafkaAdminClient admin = KafkaAdminClient.create(vertx, Map.of("bootstrap.servers", BOOTSTRAP));
    try {
      Await.result(admin.deleteTopics(topics).otherwiseEmpty(), Duration.ofSeconds(30));
    } finally {
      Await.result(admin.close(5_000), Duration.ofSeconds(30));
    }
  }

  /**
   * Polls {@code source} until everything polled so far satisfies {@code done}; fails after
   * {@code seconds}. Each poll waits up to 100 ms for records, so this never spins.
   */
  static Future<List<Logged>> pollUntil(LogSource source, Predicate<List<Logged>> done, int seconds) {
    Promise<List<Logged>> result = Promise.promise();
    long deadline = System.nanoTime() + SECONDS.toNanos(seconds);
    pollInto(source, new ArrayList<>(), done, deadline, result);
    return result.future();
  }

  private static void pollInto(LogSource source, List<Logged> seen, Predicate<List<Logged>> done, long deadline,
      Promise<List<Logged>> result) {
    source.poll().onComplete(ar -> {
      if (ar.failed()) {
        result.fail(ar.cause());
        return;
      }
      seen.addAll(ar.result());
      if (done.test(seen)) {
        result.complete(seen);
      } else if (System.nanoTime() > deadline) {
        result.fail(new AssertionError("condition not met before the deadline; polled " + seen.size() + " records"));
      } else {
        pollInto(source, seen, done, deadline, result);
      }
    });
  }
}
