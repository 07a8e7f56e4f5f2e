package io.parley.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.config.RoutingSettings;
import io.parley.fanout.Fanout;
import io.parley.fanout.FanoutBatch;
import io.parley.presence.TypingThrottle;
import io.parley.protocol.Addresses;
import io.parley.protocol.ChatMessage;
import io.parley.protocol.ClientFrame;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.LocalCodec;
import io.parley.testing.Await;
import io.parley.testing.HandlerFailures;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The embedded routing's group commit: sends accepted within the commit window share one append
 * (one WAL write and sync), and a full batch does not wait for the window. (Without a window, an
 * append starts as soon as the previous one is done: the cluster intake's path, covered by the
 * cluster ITs.)
 */
class RoutingCommitWindowTest {
  private static final long CONV = 42;

  private static final Duration WAIT = Duration.ofSeconds(10);

  private final Vertx vertx = Vertx.vertx();
  /** What routing's callbacks (and the replies below) threw on the event loop: reported instead of a timeout. */
  private final HandlerFailures failures = HandlerFailures.watch(vertx);
  /** Sizes of the appends the log was asked for, in call order. */
  private final List<Integer> appends = new CopyOnWriteArrayList<>();
  private final AtomicLong ids = new AtomicLong(1000);
  /** The fan-out batches routing handed over, in order. */
  private final List<List<Fanout>> fanouts = new CopyOnWriteArrayList<>();
  private final CountDownLatch fannedOut = new CountDownLatch(1);

  @BeforeEach
  void setUp() {
    vertx.eventBus().registerDefaultCodec(SendBatch.class, new LocalCodec<>(SendBatch.class));
    vertx.eventBus().registerDefaultCodec(FanoutBatch.class, new LocalCodec<>(FanoutBatch.class));
    vertx.eventBus().<FanoutBatch>localConsumer(Addresses.FANOUT, m -> {
      fanouts.add(m.body().fanouts());
      fannedOut.countDown();
    });
  }

  @AfterEach
  void close() throws Exception {
    Await.result(vertx.close());
  }

  @Test
  void sendsAcceptedWithinTheWindowShareOneAppend() throws Exception {
    deploy(200);
    CountDownLatch acked = send(5);

    failures.until("5 sends acked", () -> acked.getCount() == 0, WAIT);
    assertThat(appends).containsExactly(5);
  }

  @Test
  void aFullBatchDoesNotWaitForTheWindow() throws Exception {
    deploy(60_000);
    CountDownLatch acked = send(1024);

    // a window of a minute: only the full batch can have started the append
    failures.until("1,024 sends acked", () -> acked.getCount() == 0, WAIT);
    assertThat(appends).containsExactly(1024);
  }

  @Test
  void aBatchOfSendsIsAckedInOrderOnTheReplyContextAndFannedOutInOneBatchInIdOrder() throws Exception {
    deploy(200);
    Context gateway = vertx.getOrCreateContext();
    List<String> acks = new CopyOnWriteArrayList<>();
    List<Boolean> onContext = new CopyOnWriteArrayList<>();
    CountDownLatch acked = new CountDownLatch(5);
    SendReplies replies = new SendReplies() {
      @Override
      public Context replyContext() {
        return gateway;
      }

      @Override
      public void ack(String ackFrame) {
        onContext.add(Vertx.currentContext() == gateway);
        acks.add(ackFrame);
        acked.countDown();
      }

      @Override
      public void fail(String msgId, long conv, ErrorCode code, String message) {
        throw failures.record(new AssertionError("send " + msgId + " failed: " + code + " " + message));
      }
    };
    List<SendRequest> sends = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      sends.add(new SendRequest("alice", "conn-1", new ClientFrame.Send("m-" + i, CONV, "hi", null), replies));
    }
    // as a gateway hands them over: the sends of one event-loop turn in one bus message
    vertx.runOnContext(v -> vertx.eventBus().send(Addresses.ROUTING_SEND, new SendBatch(sends), Addresses.local()));

    failures.until("5 sends acked", () -> acked.getCount() == 0, WAIT);
    assertThat(appends).containsExactly(5);
    assertThat(onContext).containsOnly(true);
    assertThat(acks).hasSize(5).allSatisfy(a -> assertThat(a).contains("\"op\":\"ack\""));
    for (int i = 0; i < 5; i++) {
      assertThat(acks.get(i)).contains("\"msg_id\":\"m-" + i + "\"");
    }
    failures.until("the batch handed to fan-out", () -> fannedOut.getCount() == 0, WAIT);
    assertThat(fanouts).hasSize(1);
    List<Fanout> batch = fanouts.get(0);
    assertThat(batch).hasSize(5);
    for (int i = 1; i < batch.size(); i++) {
      assertThat(batch.get(i).serverId()).isGreaterThan(batch.get(i - 1).serverId());
    }
    assertThat(batch).allSatisfy(f -> assertThat(f.recipients()).containsExactlyInAnyOrder("alice", "bob"));
  }

  private void deploy(int commitWindowMs) throws Exception {
    MessageLog log = batch -> {
      appends.add(batch.size());
      List<MessageLog.Appended> out = new ArrayList<>();
      for (MessageLog.NewMessage m : batch) {
        ChatMessage msg = new ChatMessage(m.conv(), ids.incrementAndGet(), m.from(), m.msgId(), m.body(), m.media(), 1L);
        out.add(new MessageLog.Appended(msg, msg.toFrame(), false));
      }
      return Future.succeededFuture(out);
    };
    failures.result(vertx.deployVerticle(new RoutingVerticle(log, null, FixedMembers.of("alice", "bob"),
        new TypingThrottle(null, 0), new RoutingSettings(20_000, 1024, 8, 10_000), commitWindowMs)));
  }

  /** Sends n messages from alice at once; the latch counts their acks (a failure never counts). */
  private CountDownLatch send(int n) {
    CountDownLatch acked = new CountDownLatch(n);
    SendReplies replies = new SendReplies() {
      @Override
      public void ack(String ackFrame) {
        acked.countDown();
      }

      @Override
      public void fail(String msgId, long conv, ErrorCode code, String message) {
        throw failures.record(new AssertionError("send " + msgId + " failed: " + code + " " + message));
      }
    };
    vertx.runOnContext(v -> {
      for (int i = 0; i < n; i++) {
        ClientFrame.Send s = new ClientFrame.Send("m-" + ids.incrementAndGet(), CONV, "hi", null);
        vertx.eventBus().send(Addresses.ROUTING_SEND,
            new SendBatch(List.of(new SendRequest("alice", "conn-1", s, replies))), Addresses.local());
      }
    });
    return acked;
  }
}
