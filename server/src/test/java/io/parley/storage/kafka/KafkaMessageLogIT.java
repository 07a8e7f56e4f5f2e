package io.parley.storage.kafka;

import static io.parley.storage.kafka.KafkaFixture.BOOTSTRAP;
import static org.assertj.core.api.Assertions.assertThat;

import io.parley.history.MessageStore;
import io.parley.protocol.ChatMessage;
import io.parley.routing.MessageLog;
import io.parley.routing.MessageLog.Appended;
import io.parley.routing.MessageLog.NewMessage;
import io.parley.routing.MessageLogContract;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link MessageLogContract} against {@link KafkaMessageLog} on a real broker (read back
 * through {@link KafkaReadBack}, verdicts from {@link VerdictStandIn}), plus the adapter's own
 * guarantees: one send written through two nodes at the same moment is acked with one id on both;
 * a verdict received for a key answers its later retry without a record; an append whose verdict
 * is late fails within the send timeout, and its retry joins the open wait instead of writing the
 * key again; against a broker that cannot be reached an append fails within the send timeout, a
 * retry of it is not taken for a success, and while the producer's backlog is over its bound a
 * batch fails at once.
 *
 * <p>Every run writes to a topic of its own, deleted afterwards.
 */
class KafkaMessageLogIT extends MessageLogContract {
  private static final long SEND_TIMEOUT_MS = 5_000;

  private static Vertx vertx;
  private static String topic;
  private static KafkaMessageLog log;
  private static KafkaReadBack readBack;
  private static VerdictStandIn routing;
  private static final List<KafkaMessageLog> extraLogs = new ArrayList<>();
  private static int nodes;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    topic = KafkaFixture.uniqueName("log");
    Await.result(KafkaTopics.ensure(vertx, BOOTSTRAP, topic, 4, (short) 1, KafkaFixture.ADMIN_TIMEOUT_MS), Duration.ofSeconds(60));
    routing = Await.result(VerdictStandIn.start(vertx, BOOTSTRAP, topic), Duration.ofSeconds(30));
    log = Await.result(KafkaMessageLog.create(vertx, BOOTSTRAP, topic, "node-" + ++nodes, SEND_TIMEOUT_MS), Duration.ofSeconds(30));
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
    if (routing != null) {
      Await.result(routing.close().otherwiseEmpty(), Duration.ofSeconds(30));
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

  /** Another node's intake on the same topic. */
  private static KafkaMessageLog newLog(String bootstrap, long sendTimeoutMs) throws Exception {
    KafkaMessageLog l = Await.result(KafkaMessageLog.create(vertx, bootstrap, topic, "node-" + ++nodes, sendTimeoutMs),
        Duration.ofSeconds(30));
    extraLogs.add(l);
    return l;
  }

  @Test
  void oneSendWrittenThroughTwoNodesAtOnceIsAckedWithOneIdOnBoth() throws Exception {
    KafkaMessageLog other = newLog(BOOTSTRAP, SEND_TIMEOUT_MS);
    long conv = newConv();
    List<NewMessage> sends = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      sends.add(new NewMessage("alice", newMsgId(), conv, "race " + i, null, "c" + i));
    }
    List<Future<List<Appended>>> here = new ArrayList<>();
    List<Future<List<Appended>>> there = new ArrayList<>();
    for (NewMessage m : sends) {
      here.add(log.append(List.of(m)));
      there.add(other.append(List.of(m)));
    }
    for (int i = 0; i < sends.size(); i++) {
      ChatMessage a = Await.result(here.get(i)).get(0).message();
      ChatMessage b = Await.result(there.get(i)).get(0).message();
      assertThat(b.serverId()).as("send %d: ids acked by the two nodes", i).isEqualTo(a.serverId());
      assertThat(b.ts()).as("send %d: ts acked by the two nodes", i).isEqualTo(a.ts());
    }
    // both nodes wrote every send: the log holds each twice, and the acks name the first copy
    List<ChatMessage> logged = Await.result(readBack.messagesOf(conv));
    assertThat(logged).hasSize(100);
    Map<String, Long> firstId = new HashMap<>();
    logged.forEach(m -> firstId.merge(m.msgId(), m.serverId(), Math::min));
    for (int i = 0; i < sends.size(); i++) {
      assertThat(Await.result(here.get(i)).get(0).message().serverId()).isEqualTo(firstId.get(sends.get(i).msgId()));
    }
  }

  @Test
  void aVerdictReceivedForAKeyAnswersItsLaterRetryWithoutARecord() throws Exception {
    KafkaMessageLog other = newLog(BOOTSTRAP, SEND_TIMEOUT_MS);
    long conv = newConv();
    NewMessage m = new NewMessage("alice", newMsgId(), conv, "sent through one node", null, "c1");
    ChatMessage original = Await.result(log.append(List.of(m))).get(0).message();
    // the retry reaches another node: it writes the key again, and gets the original back
    Appended retried = Await.result(other.append(List.of(m))).get(0);
    assertThat(retried.duplicate()).isTrue();
    assertThat(retried.message()).isEqualTo(original);
    // its next retry there is answered from what it learned: no third record
    Appended again = Await.result(other.append(List.of(m))).get(0);
    assertThat(again.message()).isEqualTo(original);
    assertThat(Await.result(readBack.messagesOf(conv))).hasSize(2);
  }

  @Test
  void anAppendWhoseVerdictIsLateFailsInTimeAndItsRetryJoinsTheOpenWait() throws Exception {
    long sendTimeoutMs = 1_000;
    KafkaMessageLog impatient = newLog(BOOTSTRAP, sendTimeoutMs);
    long conv = newConv();
    NewMessage m = new NewMessage("alice", newMsgId(), conv, "routing is behind", null, "c1");
    routing.hold();
    Future<List<Appended>> retry;
    try {
      long t0 = System.nanoTime();
      assertThat(failureOf(impatient.append(List.of(m)), sendTimeoutMs + 3_000)).isInstanceOf(TimeoutException.class);
      assertThat((System.nanoTime() - t0) / 1_000_000).as("failed after (ms)").isLessThan(sendTimeoutMs + 1_000);
      retry = impatient.append(List.of(m));
    } finally {
      routing.release();
    }
    Appended acked = Await.result(retry).get(0);
    List<ChatMessage> logged = Await.result(readBack.messagesOf(conv));
    assertThat(logged).as("the retry joined the wait: one record").hasSize(1);
    assertThat(acked.message().serverId()).isEqualTo(logged.get(0).serverId());
  }

  @Test
  void anUnreachableBrokerFailsTheAppendWithinTheSendTimeout() throws Exception {
    long sendTimeoutMs = 1_500;
    long slackMs = 1_000;
    KafkaMessageLog dead = newLog("127.0.0.1:1", sendTimeoutMs);
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
    KafkaMessageLog dead = Await.result(KafkaMessageLog.create(vertx, "127.0.0.1:1", topic, "node-" + ++nodes,
        sendTimeoutMs, 100, 1_000, KafkaMessageLog.VERDICT_HOLD_MS), Duration.ofSeconds(30));
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
    assertThat(ms).as("refused after (ms)").isLessThan(500);
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
