package io.parley.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.config.RoutingSettings;
import io.parley.limits.LoadMonitor;
import io.parley.presence.TypingThrottle;
import io.parley.protocol.Addresses;
import io.parley.protocol.ChatMessage;
import io.parley.protocol.ClientFrame;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.LocalCodec;
import io.parley.testing.Await;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Overload shedding in the shared send path ({@link SendSequencer}, here through the cluster's
 * intake over a log whose appends the test completes): while an event loop of the node is behind,
 * while the oldest send has waited too long for its append, or while the sends waiting (those in
 * appends awaiting their answer included) reach the backlog bound, new sends are refused
 * {@code unavailable} with their {@code msg_id} before anything is appended, and what was accepted
 * is still acked.
 */
class SendSheddingTest {
  private static final long CONV = 42;

  private final Vertx vertx = Vertx.vertx();
  private final List<Pending> appends = new CopyOnWriteArrayList<>();
  private final AtomicLong ids = new AtomicLong(1000);
  private final List<String> acks = new CopyOnWriteArrayList<>();
  private final List<String> failures = new CopyOnWriteArrayList<>();

  private record Pending(Context context, List<MessageLog.NewMessage> batch, Promise<List<MessageLog.Appended>> done) {}

  @BeforeEach
  void setUp() {
    vertx.eventBus().registerDefaultCodec(SendBatch.class, new LocalCodec<>(SendBatch.class));
  }

  @AfterEach
  void close() {
    Await.result(vertx.close());
  }

  @Test
  void whileALoopOfTheNodeIsBehindNewSendsAreShedAndAcceptedAgainOnceItCaughtUp() throws Exception {
    LoadMonitor load = new LoadMonitor(100);
    deploy(new RoutingSettings(20_000, 1024, 8, 10_000, 0, 100), load);
    // another loop of the node (a gateway's, say) is saturated by work; a Vert.x instance of its own, so
    // the held loop cannot be the intake's
    Vertx gateway = Vertx.vertx();
    Context gatewayLoop = gateway.getOrCreateContext();
    LoadMonitor.Loop watched = load.watch(gatewayLoop);
    CountDownLatch release = new CountDownLatch(1);
    saturate(gatewayLoop, release);
    try {
      Await.until("the node is seen overloaded", load::overloaded, Await.TIMEOUT);
      send("m-1", "m-2");
      Await.until("both answered", () -> failures.size() == 2, Await.TIMEOUT);
    } finally {
      release.countDown();
    }
    assertThat(failures).containsExactly("m-1 unavailable server overloaded", "m-2 unavailable server overloaded");
    Await.until("the loop caught up", () -> !load.overloaded(), Await.TIMEOUT);
    watched.stop(); // as its verticle would on undeploy
    Await.result(gateway.close());
    assertThat(appends).as("a shed send is never stored").isEmpty();

    send("m-3");
    Await.until("m-3 appended", () -> appends.size() == 1, Await.TIMEOUT);
    complete(0);
    Await.until("m-3 acked", () -> acks.size() == 1, Await.TIMEOUT);
    assertThat(acks.get(0)).contains("\"msg_id\":\"m-3\"");
    assertThat(failures).hasSize(2);
  }

  @Test
  void whileTheOldestSendWaitsLongerThanTheBoundForItsAppendNewSendsAreShed() throws Exception {
    // one append at a time, one send each: m-2 waits behind m-1's unanswered append
    deploy(new RoutingSettings(20_000, 1, 1, 10_000, 50, 0), LoadMonitor.off());
    send("m-1");
    Await.until("m-1 appended", () -> appends.size() == 1, Await.TIMEOUT);
    long queuedAt = System.nanoTime();
    send("m-2");
    Await.until("m-2 queued past the wait bound",
        () -> System.nanoTime() - queuedAt > TimeUnit.MILLISECONDS.toNanos(80), Await.TIMEOUT);
    send("m-3");
    Await.until("m-3 answered", () -> failures.size() == 1, Await.TIMEOUT);
    assertThat(failures).containsExactly("m-3 unavailable server overloaded");

    complete(0);
    Await.until("m-2 appended", () -> appends.size() == 2, Await.TIMEOUT);
    complete(1);
    Await.until("both accepted sends acked", () -> acks.size() == 2, Await.TIMEOUT);
    assertThat(acks.get(0)).contains("\"msg_id\":\"m-1\"");
    assertThat(acks.get(1)).contains("\"msg_id\":\"m-2\"");
    assertThat(appends).extracting(p -> p.batch().get(0).msgId()).containsExactly("m-1", "m-2");
  }

  @Test
  void sendsWaitingForTheirAppendsAnswerCountAgainstTheBacklog() throws Exception {
    // m-1 in an append awaiting its answer (the cluster: Kafka's ack and routing's verdict), m-2 queued
    deploy(new RoutingSettings(2, 1, 1, 10_000, 0, 0), LoadMonitor.off());
    send("m-1");
    Await.until("m-1 appended", () -> appends.size() == 1, Await.TIMEOUT);
    send("m-2", "m-3");
    Await.until("m-3 answered", () -> failures.size() == 1, Await.TIMEOUT);
    assertThat(failures).containsExactly("m-3 unavailable overloaded");

    complete(0);
    Await.until("m-2 appended", () -> appends.size() == 2, Await.TIMEOUT);
    complete(1);
    Await.until("acked", () -> acks.size() == 2, Await.TIMEOUT);
  }

  /**
   * Keeps {@code context}'s loop busy, task after task of 150 ms, until {@code release} opens; each
   * next task is a timer, so the monitor's timers run between them (see LoadMonitorTest#saturate).
   */
  private static void saturate(Context context, CountDownLatch release) {
    context.runOnContext(v -> busy(context, release));
  }

  private static void busy(Context context, CountDownLatch release) {
    try {
      if (!release.await(150, TimeUnit.MILLISECONDS)) {
        context.owner().setTimer(1, id -> busy(context, release));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void deploy(RoutingSettings settings, LoadMonitor load) {
    MessageLog log = batch -> {
      Promise<List<MessageLog.Appended>> done = Promise.promise();
      appends.add(new Pending(Vertx.currentContext(), batch, done));
      return done.future();
    };
    Await.result(vertx.deployVerticle(new LogIntakeVerticle(log, null, FixedMembers.of("alice", "bob"),
        new TypingThrottle(null, 0), settings, load)));
  }

  /** Sends from alice in one batch; a failure is recorded as "msg_id code" and the message's start. */
  private void send(String... msgIds) {
    SendReplies replies = new SendReplies() {
      @Override
      public void ack(String ackFrame) {
        acks.add(ackFrame);
      }

      @Override
      public void fail(String msgId, long conv, ErrorCode code, String message) {
        failures.add(msgId + (conv == CONV ? " " : " (another conv) ") + code.wire() + " " + message.replaceAll(" \\(.*|,.*", ""));
      }
    };
    List<SendRequest> sends = new ArrayList<>();
    for (String id : msgIds) {
      sends.add(new SendRequest("alice", "conn-1", new ClientFrame.Send(id, CONV, "hi", null), replies));
    }
    vertx.runOnContext(v -> vertx.eventBus().send(Addresses.ROUTING_SEND, new SendBatch(sends), Addresses.local()));
  }

  /** Completes the i-th append successfully on the intake's context. */
  private void complete(int i) {
    Pending p = appends.get(i);
    Promise<Void> done = Promise.promise();
    p.context().runOnContext(v -> {
      List<MessageLog.Appended> out = new ArrayList<>();
      for (MessageLog.NewMessage m : p.batch()) {
        ChatMessage msg = new ChatMessage(m.conv(), ids.incrementAndGet(), m.from(), m.msgId(), m.body(), m.media(), 1L);
        out.add(new MessageLog.Appended(msg, msg.toFrame(), false));
      }
      p.done().complete(out);
      done.complete();
    });
    Await.result(done.future());
  }
}
