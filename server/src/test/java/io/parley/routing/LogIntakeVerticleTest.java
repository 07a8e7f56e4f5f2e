package io.parley.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.config.RoutingSettings;
import io.parley.fanout.FanoutBatch;
import io.parley.presence.TypingThrottle;
import io.parley.protocol.Addresses;
import io.parley.protocol.ChatMessage;
import io.parley.protocol.ClientFrame;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.LocalCodec;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The cluster's send intake over a log whose appends the test completes: several appends in
 * flight up to the bound, acks in call order whichever append completes first, no fan-out (the
 * routing nodes fan out from the log), and sends beyond the backlog bound refused with
 * {@code unavailable} at once.
 */
class LogIntakeVerticleTest {
  private static final long CONV = 42;

  private final Vertx vertx = Vertx.vertx();
  /** The appends the log was asked for, in call order, each with the promise that completes it. */
  private final List<Pending> appends = new CopyOnWriteArrayList<>();
  private final AtomicLong ids = new AtomicLong(1000);
  private final List<FanoutBatch> fanouts = new CopyOnWriteArrayList<>();
  private static final FanoutBatch MARKER = new FanoutBatch(List.of());
  private final CountDownLatch markerArrived = new CountDownLatch(1);
  private final List<String> acks = new CopyOnWriteArrayList<>();
  private final List<String> failures = new CopyOnWriteArrayList<>();

  /** Counts the log's append calls, so the test can wait for the n-th. */
  private final Semaphore appendCalls = new Semaphore(0);
  private int appendsSeen;

  /** An append the log was asked for, on the intake's context, and the promise that completes it. */
  private record Pending(Context context, List<MessageLog.NewMessage> batch, Promise<List<MessageLog.Appended>> done) {}

  @BeforeEach
  void setUp() {
    vertx.eventBus().registerDefaultCodec(SendBatch.class, new LocalCodec<>(SendBatch.class));
    vertx.eventBus().registerDefaultCodec(FanoutBatch.class, new LocalCodec<>(FanoutBatch.class));
    vertx.eventBus().<FanoutBatch>localConsumer(Addresses.FANOUT, m -> {
      fanouts.add(m.body());
      if (m.body() == MARKER) {
        markerArrived.countDown();
      }
    });
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void appendsUpToTheBoundAtOnceAndAcksInCallOrderWithoutFanningOut() throws Exception {
    // one send per append, at most three in flight
    deploy(new RoutingSettings(20_000, 1, 3, 10_000), "alice", "bob");
    CountDownLatch acked = new CountDownLatch(4);
    send(acked, "m-1", "m-2", "m-3", "m-4");

    awaitAppends(3);
    assertThat(appends).as("the fourth waits for a free slot").hasSize(3);
    // the last in flight completes first: nobody is acked before the earlier ones
    complete(2);
    complete(1);
    assertThat(acks).as("no ack before the first append's").isEmpty();
    complete(0);
    awaitAppends(4);
    complete(3);

    assertThat(acked.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(acks).hasSize(4);
    for (int i = 0; i < 4; i++) {
      assertThat(acks.get(i)).contains("\"msg_id\":\"m-" + (i + 1) + "\"");
    }
    assertThat(failures).isEmpty();
    // a marker sent from the intake's context after the last ack arrives after anything it fanned out
    appends.get(0).context().runOnContext(v -> vertx.eventBus().send(Addresses.FANOUT, MARKER, Addresses.local()));
    assertThat(markerArrived.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(fanouts).as("the intake never fans out").containsExactly(MARKER);
  }

  @Test
  void sendsBeyondTheBacklogAreRefusedAtOnceAsUnavailable() throws Exception {
    deploy(new RoutingSettings(2, 1024, 1, 10_000), "alice", "bob");
    CountDownLatch answered = new CountDownLatch(5);
    send(answered, "m-1", "m-2", "m-3", "m-4", "m-5");

    awaitAppends(1);
    complete(0);
    assertThat(answered.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(acks).hasSize(2);
    assertThat(failures).containsExactly("m-3 unavailable", "m-4 unavailable", "m-5 unavailable");
  }

  @Test
  void aSenderWhoIsNotAMemberIsRefusedAndTheOthersGoOn() throws Exception {
    deploy(new RoutingSettings(20_000, 1024, 8, 10_000), "bob", "carol");
    CountDownLatch answered = new CountDownLatch(2);
    send(answered, "m-1", "m-2");

    assertThat(answered.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(failures).containsExactly("m-1 not_member", "m-2 not_member");
    assertThat(appends).isEmpty();
  }

  private void deploy(RoutingSettings settings, String... members) throws Exception {
    MessageLog log = batch -> {
      Promise<List<MessageLog.Appended>> done = Promise.promise();
      appends.add(new Pending(Vertx.currentContext(), batch, done));
      appendCalls.release();
      return done.future();
    };
    vertx.deployVerticle(new LogIntakeVerticle(log, null, FixedMembers.of(members), new TypingThrottle(null, 0), settings))
        .await(10, TimeUnit.SECONDS);
  }

  /** Sends from alice, in one batch as a gateway turn hands them over; the latch counts acks and failures. */
  private void send(CountDownLatch answered, String... msgIds) {
    SendReplies replies = new SendReplies() {
      @Override
      public void ack(String ackFrame) {
        acks.add(ackFrame);
        answered.countDown();
      }

      @Override
      public void fail(String msgId, long conv, ErrorCode code, String message) {
        failures.add(msgId + " " + code.wire());
        answered.countDown();
      }
    };
    List<SendRequest> sends = new ArrayList<>();
    for (String id : msgIds) {
      sends.add(new SendRequest("alice", "conn-1", new ClientFrame.Send(id, CONV, "hi", null), replies));
    }
    vertx.runOnContext(v -> vertx.eventBus().send(Addresses.ROUTING_SEND, new SendBatch(sends), Addresses.local()));
  }

  /** Completes the i-th append successfully, on the intake's context, and waits until it has. */
  private void complete(int i) throws Exception {
    Pending p = appends.get(i);
    CompletableFuture<Void> done = new CompletableFuture<>();
    p.context().runOnContext(v -> {
      List<MessageLog.Appended> out = new ArrayList<>();
      for (MessageLog.NewMessage m : p.batch()) {
        ChatMessage msg = new ChatMessage(m.conv(), ids.incrementAndGet(), m.from(), m.msgId(), m.body(), m.media(), 1L);
        out.add(new MessageLog.Appended(msg, msg.toFrame(), false));
      }
      p.done().complete(out);
      done.complete(null);
    });
    done.get(10, TimeUnit.SECONDS);
  }

  /** Waits until the log was asked for n appends in all. */
  private void awaitAppends(int n) throws Exception {
    assertThat(appendCalls.tryAcquire(n - appendsSeen, 10, TimeUnit.SECONDS)).as("%d appends", n).isTrue();
    appendsSeen = n;
  }
}
