package io.parley.storage.kafka;

import static io.parley.storage.kafka.KafkaFixture.BOOTSTRAP;
import static org.assertj.core.api.Assertions.assertThat;

import io.parley.history.MessageStore;
import io.parley.protocol.ChatMessage;
import io.parley.routing.MessageLog;
import io.parley.routing.MessageLog.Appended;
import io.parley.routing.MessageLog.NewMessage;
import io.parley.routing.MessageLogContract;
import io.parley.routing.SendIndex;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link MessageLogContract} against {@link KafkaMessageLog} on a real broker (read back
 * through {@link KafkaReadBack}), plus the adapter's own guarantees: a message the
 * {@link SendIndex} knows comes back as that original without being produced (and is then known
 * without asking again); an index that fails or never answers does not hold a send up; against a
 * broker that cannot be reached an append fails within the send timeout, a retry of it is not
 * taken for a success, and while the producer's backlog is over its bound a batch fails at once.
 *
 * <p>Every run writes to a topic of its own, deleted afterwards.
 */
class KafkaMessageLogIT extends MessageLogContract {
  private static final long SEND_TIMEOUT_MS = 5_000;
  private static final SendIndex NOTHING_STORED = (from, msgId) -> Future.succeededFuture(Optional.empty());

  private static Vertx vertx;
  private static String topic;
  private static KafkaMessageLog log;
  private static KafkaReadBack readBack;
  private static final List<KafkaMessageLog> extraLogs = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    topic = KafkaFixture.uniqueName("log");
    Await.result(KafkaTopics.ensure(vertx, BOOTSTRAP, topic, 4, (short) 1, KafkaFixture.ADMIN_TIMEOUT_MS), Duration.ofSeconds(60));
    log = Await.result(KafkaMessageLog.create(vertx, BOOTSTRAP, topic, NOTHING_STORED, SEND_TIMEOUT_MS), Duration.ofSeconds(30));
    readBack = new KafkaReadBack(vertx, BOOTSTRAP, topic);
    // the first send fetches metadata and a producer id: keep that out of the contract's 5 s budget
    Await.result(log.append(List.of(msg("warm-up", newConv(), "warm-up"))), Duration.ofSeconds(30));
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx == null) {
      return;
    }
    for (KafkaMessageLog l : extraLogs) {
      Await.result(l.close().otherwiseEmpty(), Duration.ofSeconds(30));
    }
    if (log != null) {
      Await.result(log.close(), Duration.ofSeconds(30));
    }
    KafkaFixture.deleteTopics(vertx, List.of(topic));
    Await.result(vertx.close(), Duration.ofSeconds(30));
  }

  @Override
  protected MessageLog log() {
    return log;
  }

  @Override
  protected MessageStore readBack() {
    return readBack;
  }

  private static KafkaMessageLog newLog(String bootstrap, SendIndex index, long sendTimeoutMs) throws Exception {
    KafkaMessageLog l = Await.result(KafkaMessageLog.create(vertx, bootstrap, topic, index, sendTimeoutMs), Duration.ofSeconds(30));
    extraLogs.add(l);
    return l;
  }

  @Test
  void aMessageTheIndexKnowsComesBackAsTheOriginalWithoutBeingProduced() throws Exception {
    long conv = newConv();
    String msgId = newMsgId();
    JsonArray media = new JsonArray().add(new JsonObject().put("url", "https://x/stored.png"));
    ChatMessage stored = new ChatMessage(conv, KafkaIds.serverId(2, 77), "alice", msgId, "as stored", media,
        1_700_000_000_000L);
    AtomicInteger asked = new AtomicInteger();
    KafkaMessageLog withIndex = newLog(BOOTSTRAP, (from, id) -> {
      asked.incrementAndGet();
      return Future.succeededFuture(from.equals("alice") && id.equals(msgId) ? Optional.of(stored) : Optional.empty());
    }, SEND_TIMEOUT_MS);

    NewMessage retry = new NewMessage("alice", msgId, conv, "as retried", null);
    NewMessage other = msg("bob", conv, "new one");
    List<Appended> out = Await.result(withIndex.append(List.of(retry, other)));

    assertThat(out.get(0).duplicate()).isTrue();
    assertThat(out.get(0).message()).isEqualTo(stored);
    assertThat(out.get(0).frame()).isEqualTo(stored.toFrame());
    assertThat(out.get(1).duplicate()).isFalse();
    assertThat(asked).hasValue(2);
    // only the new message reached the log
    assertThat(Await.result(readBack.after(conv, 0, 10)).messages())
        .extracting(m -> ChatMessage.fromFrame(m.frame()).msgId()).containsExactly(other.msgId());

    // now known to this writer: answered without asking the index again
    Appended again = Await.result(withIndex.append(List.of(retry))).get(0);
    assertThat(again.duplicate()).isTrue();
    assertThat(again.frame()).isEqualTo(stored.toFrame());
    assertThat(asked).hasValue(2);
  }

  @Test
  void onlyPossibleRetriesFromOtherConnectionsAndKeysThatFailedHereAreLookedUp() throws Exception {
    long conv = newConv();
    List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
    SendIndex counting = (from, id) -> {
      asked.add(id);
      return Future.succeededFuture(Optional.empty());
    };
    KafkaMessageLog log = newLog(BOOTSTRAP, counting, SEND_TIMEOUT_MS);
    NewMessage established = new NewMessage("alice", newMsgId(), conv, "from an old connection", null, "c1", false);
    NewMessage young = new NewMessage("alice", newMsgId(), conv, "from a new connection", null, "c2", true);
    List<Appended> out = Await.result(log.append(List.of(established, young)));
    assertThat(out).extracting(Appended::duplicate).containsExactly(false, false);
    assertThat(asked).containsExactly(young.msgId());

    // an append that failed here: its retry is looked up even from an established connection
    asked.clear();
    KafkaMessageLog dead = newLog("127.0.0.1:1", counting, 500);
    NewMessage failed = new NewMessage("bob", newMsgId(), conv, "failed once", null, "c3", false);
    assertThat(failureOf(dead.append(List.of(failed)), 4_000)).isNotNull();
    assertThat(asked).isEmpty();
    assertThat(failureOf(dead.append(List.of(failed)), 4_000)).isNotNull();
    assertThat(asked).containsExactly(failed.msgId());
  }

  @Test
  void aFailingIndexDoesNotHoldASendUp() throws Exception {
    KafkaMessageLog failing = newLog(BOOTSTRAP,
        (from, id) -> Future.failedFuture(new IllegalStateException("cassandra down")), SEND_TIMEOUT_MS);
    KafkaMessageLog throwing = newLog(BOOTSTRAP, (from, id) -> {
      throw new IllegalStateException("cassandra very down");
    }, SEND_TIMEOUT_MS);
    long conv = newConv();
    Appended a = Await.result(failing.append(List.of(msg("alice", conv, "1")))).get(0);
    Appended b = Await.result(throwing.append(List.of(msg("alice", conv, "2")))).get(0);
    assertThat(List.of(a, b)).extracting(Appended::duplicate).containsExactly(false, false);
    assertThat(b.message().serverId()).isGreaterThan(a.message().serverId());
  }

  @Test
  void anIndexThatNeverAnswersDoesNotHoldASendUp() throws Exception {
    List<Promise<Optional<ChatMessage>>> unanswered = new ArrayList<>();
    KafkaMessageLog silent = newLog(BOOTSTRAP, (from, id) -> {
      Promise<Optional<ChatMessage>> never = Promise.promise();
      unanswered.add(never);
      return never.future();
    }, SEND_TIMEOUT_MS);
    long conv = newConv();
    long t0 = System.nanoTime();
    List<Appended> out = Await.result(silent.append(List.of(msg("alice", conv, "1"), msg("bob", conv, "2"))));
    long ms = (System.nanoTime() - t0) / 1_000_000;

    assertThat(unanswered).hasSize(2).allSatisfy(p -> assertThat(p.future().isComplete()).isFalse());
    assertThat(out).extracting(Appended::duplicate).containsExactly(false, false);
    assertThat(ms).as("append time (ms) with an index that never answers")
        .isGreaterThanOrEqualTo(KafkaMessageLog.INDEX_TIMEOUT_MS - 50)
        .isLessThan(KafkaMessageLog.INDEX_TIMEOUT_MS + 2_000);
    assertThat(Await.result(readBack.after(conv, 0, 10)).messages()).hasSize(2);
  }

  @Test
  void anUnreachableBrokerFailsTheAppendWithinTheSendTimeout() throws Exception {
    long sendTimeoutMs = 1_500;
    long slackMs = 1_000;
    KafkaMessageLog dead = newLog("127.0.0.1:1", NOTHING_STORED, sendTimeoutMs);
    long conv = newConv();
    NewMessage m = msg("alice", conv, "lost");
    List<NewMessage> batch = List.of(m, msg("bob", conv, "lost too"));

    for (int attempt = 0; attempt < 2; attempt++) {
      long t0 = System.nanoTime();
      Future<List<Appended>> append = dead.append(batch);
      Throwable failure = failureOf(append, sendTimeoutMs + slackMs + 2_000);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(failure).as("attempt %d", attempt).isNotNull();
      assertThat(append.succeeded()).isFalse();
      assertThat(ms).as("attempt %d failed after (ms)", attempt).isLessThanOrEqualTo(sendTimeoutMs + slackMs);
    }
    // the retry (attempt 1) was not answered as a duplicate of a failed append: it failed as well
    Throwable retried = failureOf(dead.append(List.of(m)), sendTimeoutMs + slackMs + 2_000);
    assertThat(retried).isNotNull();
  }

  @Test
  void whileKafkaHoldsABacklogABatchFailsAtOnce() throws Exception {
    long sendTimeoutMs = 1_500;
    KafkaMessageLog dead = Await.result(KafkaMessageLog.create(vertx, "127.0.0.1:1", topic, NOTHING_STORED,
        sendTimeoutMs, 100, 1_000), Duration.ofSeconds(30));
    extraLogs.add(dead);
    long conv = newConv();
    String big = "x".repeat(600);
    // three records of ~700 characters each, over the 1,000 allowed: with no broker, each holds the
    // producer up to max.block.ms (the send timeout) in turn, so two are still pending after this fails
    assertThat(failureOf(dead.append(List.of(msg("alice", conv, big), msg("bob", conv, big), msg("dan", conv, big))),
        sendTimeoutMs + 3_000)).isNotNull();

    long t0 = System.nanoTime();
    Throwable refused = failureOf(dead.append(List.of(msg("carol", conv, "small"))), sendTimeoutMs + 3_000);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(refused).isInstanceOf(IllegalStateException.class).hasMessageContaining("backlog full");
    assertThat(ms).as("refused after (ms)").isLessThan(KafkaMessageLog.INDEX_TIMEOUT_MS + 400);
  }

  /** The failure of {@code future} once it completes (within {@code maxMs}), or null when it succeeded. */
  private static Throwable failureOf(Future<?> future, long maxMs) {
    try {
      Await.result("the append", future, Duration.ofMillis(maxMs));
      return null;
    } catch (CompletionException e) {
      return e.getCause();
    }
  }
}
