package io.parley.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.limits.LimitKey;
import io.parley.limits.RateLimiter;
import io.parley.protocol.ClientFrame;
import io.parley.protocol.ErrorCode;
import io.parley.routing.SendReplies;
import io.parley.routing.SendRequest;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One connection's send admission against a rate limiter answered by hand: sends reach routing in
 * arrival order whatever the order of the limiter's answers would be (it is asked about a send only
 * once the one before is decided), refused ones get {@code rate_limited}, a failing limiter lets
 * sends through, and the number of sends waiting is bounded.
 */
class SendAdmissionTest {
  private final Vertx vertx = Vertx.vertx();
  private final Context eventLoop = vertx.getOrCreateContext();
  /** The limiter's open questions, in the order it was asked. */
  private final BlockingQueue<Promise<Boolean>> asks = new LinkedBlockingQueue<>();
  private final BlockingQueue<SendRequest> routed = new LinkedBlockingQueue<>();
  private final BlockingQueue<String> errors = new LinkedBlockingQueue<>();
  /** Questions about another key, or asked off the connection's event loop: none expected. */
  private final BlockingQueue<String> strayAsks = new LinkedBlockingQueue<>();
  private volatile boolean closed;

  private final RateLimiter limiter = (LimitKey key, double rate, int burst) -> {
    if (!key.equals(LimitKey.send("alice")) || Vertx.currentContext() != eventLoop) {
      strayAsks.add(key + " on " + Vertx.currentContext());
    }
    Promise<Boolean> answer = Promise.promise();
    asks.add(answer);
    return answer.future();
  };

  private final SendAdmission.Client client = new SendAdmission.Client() {
    @Override
    public boolean closed() {
      return closed;
    }

    @Override
    public void error(String msgId, Long conv, ErrorCode code, String message) {
      errors.add(msgId + " " + code.wire());
    }
  };

  private final SendReplies replies = new SendReplies() {
    @Override
    public void ack(String ackFrame) {
    }

    @Override
    public void fail(String msgId, long conv, ErrorCode code, String message) {
    }
  };

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
    assertThat(strayAsks).as("the limiter is asked about the user's send bucket, on the connection's event loop").isEmpty();
  }

  private SendAdmission admission(int waitingMax) {
    return new SendAdmission("alice", "c1", eventLoop,
        new SendAdmission.Settings(limiter, 10, 20, waitingMax, routed::add), client, replies);
  }

  private static ClientFrame.Send send(String msgId) {
    return new ClientFrame.Send(msgId, 7, "hi", null);
  }

  /** Runs {@code action} on the connection's event loop and waits until it and everything queued before it ran. */
  private void onLoop(Runnable action) throws Exception {
    Promise<Void> done = Promise.promise();
    eventLoop.runOnContext(v -> {
      try {
        action.run();
        done.complete();
      } catch (Throwable t) {
        done.fail(t);
      }
    });
    done.future().await(5, TimeUnit.SECONDS);
  }

  private Promise<Boolean> nextAsk() throws InterruptedException {
    Promise<Boolean> ask = asks.poll(5, TimeUnit.SECONDS);
    assertThat(ask).as("the limiter is asked").isNotNull();
    return ask;
  }

  @Test
  void sendsReachRoutingInArrivalOrderEachDecidedAfterTheOneBefore() throws Exception {
    SendAdmission admission = admission(100);
    onLoop(() -> {
      admission.offer(send("a"));
      admission.offer(send("b"));
      admission.offer(send("c"));
      assertThat(admission.waiting()).isEqualTo(3);
    });
    Promise<Boolean> a = nextAsk();
    onLoop(() -> { });
    assertThat(asks).as("b waits for a's decision").isEmpty();

    a.complete(true);
    nextAsk().complete(false); // b: over the limit
    nextAsk().fail(new IllegalStateException("limiter down")); // c: let through

    SendRequest first = routed.poll(5, TimeUnit.SECONDS);
    SendRequest second = routed.poll(5, TimeUnit.SECONDS);
    assertThat(first.send().msgId()).isEqualTo("a");
    assertThat(second.send().msgId()).isEqualTo("c");
    assertThat(errors.poll(5, TimeUnit.SECONDS)).isEqualTo("b rate_limited");
    assertThat(first.user()).isEqualTo("alice");
    assertThat(first.connectionId()).isEqualTo("c1");
    assertThat(first.replies()).isSameAs(replies);
    onLoop(() -> assertThat(admission.waiting()).isZero());
    assertThat(routed).isEmpty();
    assertThat(errors).isEmpty();
  }

  @Test
  void onceEverySendIsDecidedNoneIsHeld() throws Exception {
    SendAdmission admission = admission(100);
    onLoop(() -> assertThat(admission.idle()).isTrue());
    onLoop(() -> {
      admission.offer(send("a"));
      admission.offer(send("b"));
    });
    nextAsk().complete(true);
    onLoop(() -> assertThat(admission.idle()).as("b still waits").isFalse());
    nextAsk().complete(true);
    assertThat(routed.poll(5, TimeUnit.SECONDS).send().msgId()).isEqualTo("a");
    assertThat(routed.poll(5, TimeUnit.SECONDS).send().msgId()).isEqualTo("b");
    onLoop(() -> assertThat(admission.idle()).as("the decided chain is let go").isTrue());

    onLoop(() -> admission.offer(send("c")));
    onLoop(() -> assertThat(admission.idle()).isFalse());
    nextAsk().complete(false);
    assertThat(errors.poll(5, TimeUnit.SECONDS)).isEqualTo("c rate_limited");
    onLoop(() -> assertThat(admission.idle()).isTrue());
    onLoop(() -> admission.offer(send("d")));
    nextAsk().complete(true);
    assertThat(routed.poll(5, TimeUnit.SECONDS).send().msgId()).as("a send after an idle spell goes as before").isEqualTo("d");
  }

  @Test
  void beyondTheWaitingBoundASendIsRefusedAtOnce() throws Exception {
    SendAdmission admission = admission(2);
    onLoop(() -> {
      admission.offer(send("a"));
      admission.offer(send("b"));
      admission.offer(send("c"));
    });
    assertThat(errors.poll(5, TimeUnit.SECONDS)).isEqualTo("c rate_limited");
    nextAsk().complete(true);
    nextAsk().complete(true);
    assertThat(routed.poll(5, TimeUnit.SECONDS).send().msgId()).isEqualTo("a");
    assertThat(routed.poll(5, TimeUnit.SECONDS).send().msgId()).isEqualTo("b");

    onLoop(() -> admission.offer(send("d")));
    nextAsk().complete(true);
    assertThat(routed.poll(5, TimeUnit.SECONDS).send().msgId()).as("room again once decided").isEqualTo("d");
    assertThat(errors).isEmpty();
  }

  @Test
  void aSendDecidedAfterTheConnectionClosedIsDropped() throws Exception {
    SendAdmission admission = admission(100);
    onLoop(() -> {
      admission.offer(send("a"));
      admission.offer(send("b"));
    });
    Promise<Boolean> a = nextAsk();
    closed = true;
    a.complete(false);
    nextAsk().complete(true);
    onLoop(() -> assertThat(admission.waiting()).isZero());
    assertThat(routed).as("the client retries after reconnecting").isEmpty();
    assertThat(errors).isEmpty();
  }
}
