package io.parley.gateway;

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
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits one connection's sends to routing, in the order they arrived. Sends are limited per user
 * (all of the user's connections, on every node in the cluster profile) by the {@link RateLimiter}.
 * Its answer may be asynchronous (Redis), so each send waits for the decision on the sends before
 * it ({@code tail}): routing gets a connection's sends in the order they arrived. Only the decision
 * is chained, not the ack. Confined to the connection's event loop.
 */
final class SendAdmission {
  private static final Logger LOG = LoggerFactory.getLogger(SendAdmission.class);
  /** The decision a send waits for when none is pending. */
  private static final Future<Void> IDLE = Future.succeededFuture();

  /**
   * What the admissions of every connection of a gateway instance share.
   *
   * @param ratePerSecond the user's send tokens per second ({@code limits.send_rate_per_s})
   * @param burst the user's bucket size ({@code limits.send_burst})
   * @param waitingMax sends waiting for the limiter's answer beyond this are refused at once
   *     ({@code rate_limited})
   * @param routing where admitted sends go (the gateway's per-turn {@code SendBatch})
   */
  record Settings(RateLimiter limiter, int ratePerSecond, int burst, int waitingMax,
      Consumer<SendRequest> routing) {}

  /** The connection, as its admission sees it (its {@link Session}). */
  interface Client {
    boolean closed();

    void error(String msgId, Long conv, ErrorCode code, String message);

    /** Told once a send is decided: handed to routing ({@code routed}, it is answered later) or not. */
    default void decided(boolean routed) {}

    /** A send refused at once because too many of this connection's wait ({@code parley_shed_total{code="rate_limited"}}). */
    default void shedWaiting() {}
  }

  private final String user;
  private final String connectionId;
  private final Context eventLoop;
  private final Settings settings;
  private final Client client;
  private final SendReplies replies;
  private Future<Void> tail = IDLE;
  private int waiting;

  SendAdmission(String user, String connectionId, Context eventLoop, Settings settings, Client client,
      SendReplies replies) {
    this.user = user;
    this.connectionId = connectionId;
    this.eventLoop = eventLoop;
    this.settings = settings;
    this.client = client;
    this.replies = replies;
  }

  /** Queues {@code s} behind the sends before it, or refuses it when too many wait. */
  void offer(ClientFrame.Send s) {
    if (waiting >= settings.waitingMax()) {
      client.shedWaiting();
      client.error(s.msgId(), s.conv(), ErrorCode.RATE_LIMITED, "too many sends waiting, retry later");
      return;
    }
    waiting++;
    tail = tail.transform(v -> admit(s));
  }

  /** Sends asked about and not yet decided. */
  int waiting() {
    return waiting;
  }

  /** Whether the admission holds no send: none waits, and the last decided one was let go. */
  boolean idle() {
    return tail == IDLE;
  }

  /**
   * Asks the limiter for one of the user's send tokens, then hands the send to routing or refuses
   * it; completes (on this event loop) once decided. A limiter failure lets the send through: the
   * cluster profile's limiter already falls back to a local one, so this is a last resort.
   */
  private Future<Void> admit(ClientFrame.Send s) {
    Promise<Void> decided = Promise.promise();
    settings.limiter().tryAcquire(LimitKey.send(user), settings.ratePerSecond(), settings.burst())
        .onComplete(ar -> onEventLoop(() -> {
          waiting--;
          if (ar.failed()) {
            LOG.debug("rate limiter failed for {}, send let through: {}", user, ar.cause().toString());
          }
          boolean routed = false;
          if (client.closed()) {
            // the client retries with the same msg_id after reconnecting
          } else if (ar.succeeded() && !ar.result()) {
            client.error(s.msgId(), s.conv(), ErrorCode.RATE_LIMITED, "send rate limit exceeded, retry later");
          } else {
            settings.routing().accept(new SendRequest(user, connectionId, s, replies));
            routed = true;
          }
          client.decided(routed);
          decided.complete();
          if (waiting == 0) {
            // nothing queued behind it: let the finished chain go. Kept, it would hold the last send
            // (its body and ids) and its futures until the next one, a few hundred bytes for every
            // connection that sent lately, which every young collection copies
            tail = IDLE;
          }
        }));
    return decided.future();
  }

  /** Runs {@code action} now when on the connection's event loop, else there. */
  private void onEventLoop(Runnable action) {
    if (Vertx.currentContext() == eventLoop) {
      action.run();
    } else {
      eventLoop.runOnContext(v -> action.run());
    }
  }
}
