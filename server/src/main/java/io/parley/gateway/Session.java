package io.parley.gateway;

import io.parley.history.StoredMessage;
import io.parley.limits.LimitKey;
import io.parley.protocol.Addresses;
import io.parley.protocol.ClientFrame;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.Outbound;
import io.parley.protocol.ParleyException;
import io.parley.protocol.ServerFrames;
import io.parley.protocol.WireFrame;
import io.parley.routing.SendReplies;
import io.parley.routing.SendRequest;
import io.parley.routing.SignalRequest;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One authenticated WebSocket connection (one device of one user). Confined to its gateway's
 * event loop. Keeps the state a connection needs and no more: its presence subscriptions, the
 * sends waiting for the rate limiter, its last activity for the idle sweep, and, while a sync
 * runs, the live messages of the conversations being synced (held back so the device sees
 * backfill and live traffic in id order). Live deliveries reach it through its gateway's user
 * index; routing answers its sends through {@link SendReplies}. Every close path ends in
 * {@link #cleanup()}, once.
 *
 * <p>Sends are limited per user (all of the user's connections, on every node in the cluster
 * profile) by the {@link io.parley.limits.RateLimiter}. Its answer may be asynchronous (Redis),
 * so each send waits for the decision on the sends before it ({@code sendTail}): routing gets a
 * connection's sends in the order they arrived. Only the decision is chained, not the ack.
 *
 * <p>The socket is a {@link WsChannel} on the connection's Netty channel. Outbound frames go into
 * the channel already encoded ({@link Outbound#wire()}: a message for a group is encoded once, not
 * once per member) and are flushed once per event-loop turn by the gateway's flusher (a
 * {@link TurnBatch}), so frames that meet in one turn leave in one write. Every frame of a
 * session, the close frame included, goes through the same channel, so they stay in order.
 */
final class Session implements SendReplies, WsChannel.Listener {
  private static final Logger LOG = LoggerFactory.getLogger(Session.class);
  static final short CLOSE_RESTART = 1012;
  static final short CLOSE_IDLE = 1001;
  static final short CLOSE_SLOW = 1013;
  static final short CLOSE_TOO_BIG = 1009;
  private static final int HELD_BACK_MAX = 10_000;
  /**
   * Unsent bytes past which a client is too far behind and closed (1013), whatever else holds:
   * bounds what one connection keeps in memory. Set well above a burst of large frames handed to a
   * socket in one event-loop turn, which io_uring counts as unsent until the ring completes.
   */
  static final long UNSENT_MAX = 8L << 20;
  /**
   * A live connection whose socket stays over its high-water mark this long does not read (or
   * reads far too slowly): closed (1013). While a sync runs the socket is full by design (the
   * backfill waits for it to drain), so then only {@link #UNSENT_MAX} counts.
   */
  static final long BEHIND_MAX_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(2);
  /**
   * How long after a connection opens its sends may be retries of sends made on an earlier
   * connection (clients resend what was pending as soon as they are back, after their sync);
   * later sends skip the cluster log's cross-node dedupe look-up. A retry missed by this rule is
   * still stored once, only acked with an id that routing then drops (docs/protocol.md).
   */
  static final long RETRY_WINDOW_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
  /** Sends waiting for the rate limiter's answer beyond this are refused at once (rate_limited). */
  static final int SENDS_WAITING_MAX = 1_000;
  /**
   * Longest wait for the registry before a new connection's frames are read anyway (a registry
   * that is down fails at once; this bounds one that hangs). Under a reconnect storm on a loaded
   * node registration took over 2 s, and a connection let in before it could miss live messages.
   */
  static final long REGISTER_WAIT_MS = 10_000;

  final String id;
  final String user;
  private final WsChannel ws;
  /** Where this session writes its frames: its {@link WsChannel}'s place in the channel's pipeline. */
  private final ChannelHandlerContext channel;
  private final SessionContext ctx;
  private boolean flushPending;
  long lastActivity;
  private final long openedAt = System.nanoTime();
  /** The registry's answer to this connection's registration (the unregister waits for it). */
  private Future<Boolean> registration = Future.succeededFuture(false);
  private Map<String, MessageConsumer<String>> presenceSubs;
  private Map<Long, List<Outbound>> syncing;
  private Future<Void> syncTail = Future.succeededFuture();
  private Future<Void> sendTail = Future.succeededFuture();
  private int sendsWaiting;
  private boolean closed;

  /**
   * A session on a channel whose WebSocket handshake has been answered; its {@link WsChannel}
   * replaces the pipeline's handler {@code replaced}. Reads nothing until {@link #start()}.
   */
  Session(String id, String user, ChannelPipeline pipeline, String replaced, SessionContext ctx) {
    this.id = id;
    this.user = user;
    this.ctx = ctx;
    this.ws = WsChannel.attach(pipeline, replaced, this, ctx.wsDecoder(), ctx.config().frameMaxBytes());
    this.channel = ws.context();
    this.lastActivity = System.currentTimeMillis();
  }

  void start() {
    // No frame is read before the registry knows this connection: a sync served earlier could miss
    // a message that fan-out then sends to push only (it looked the user up before the register).
    // Registered first, every message is either persisted before the sync reads or fanned out
    // after the register. A registry that fails lets the connection in at once (while it is down,
    // fan-out sends to every node, which deliver to whoever they hold); one that stays silent,
    // after REGISTER_WAIT_MS (the heartbeat registers the connection again later).
    // (A WsChannel reads nothing until resumed.)
    Promise<Boolean> registered = Promise.promise();
    long guard = ctx.eventLoop().owner().setTimer(REGISTER_WAIT_MS,
        t -> registered.tryFail("registry silent for " + REGISTER_WAIT_MS + " ms"));
    registration = ctx.registry().register(user, ctx.node(), id);
    registration.onComplete(registered::tryComplete, registered::tryFail);
    registered.future().onComplete(ar -> onEventLoop(() -> {
      ctx.eventLoop().owner().cancelTimer(guard);
      if (ar.failed()) {
        LOG.debug("registering {} of {} failed: {}", id, user, ar.cause().toString());
      } else if (ar.result()) {
        ctx.bus().publish(Addresses.PRESENCE_CHANGED, ServerFrames.presence(user, true, 0));
      }
      if (!closed) {
        ws.resume();
      }
    }));
  }

  /**
   * Keeps this connection live in the registry; registers it again when the registry no longer
   * knows it (it lapsed while the registry was unreachable, or the registry restarted empty), which
   * is how the registry is rebuilt from live connections.
   */
  void heartbeat() {
    if (closed) {
      return;
    }
    ctx.registry().refresh(user, ctx.node(), id)
        .compose(known -> known || closed ? Future.succeededFuture(false) : ctx.registry().register(user, ctx.node(), id))
        .onSuccess(first -> {
          if (first) {
            ctx.bus().publish(Addresses.PRESENCE_CHANGED, ServerFrames.presence(user, true, 0));
          }
        })
        .onFailure(e -> LOG.debug("heartbeat of {} failed: {}", id, e.toString()));
  }

  // --- inbound ---------------------------------------------------------------------------------

  /** The hard limit on a whole message (a frame and its continuations): close 1009. */
  @Override
  public void onTooBig() {
    close(CLOSE_TOO_BIG, "frame exceeds " + ctx.config().frameMaxBytes() + " bytes");
  }

  @Override
  public void onBinary() {
    lastActivity = System.currentTimeMillis();
    error(null, null, ErrorCode.BAD_REQUEST, "binary frames are not supported; send JSON text frames");
  }

  @Override
  public void onPong() {
    lastActivity = System.currentTimeMillis();
  }

  @Override
  public void onPing() {
    lastActivity = System.currentTimeMillis();
  }

  @Override
  public void onClosed() {
    cleanup();
  }

  @Override
  public void onText(String text) {
    if (closed) {
      return;
    }
    lastActivity = System.currentTimeMillis();
    JsonObject json = null;
    try {
      json = ClientFrame.decode(text);
      dispatch(ClientFrame.parse(json, ctx.limits()));
    } catch (ParleyException e) {
      error(json == null ? null : ClientFrame.msgIdOf(json), null, e.code(), e.getMessage());
    } catch (RuntimeException e) {
      LOG.error("frame from {} failed", user, e);
      error(null, null, ErrorCode.INTERNAL, "internal error");
    }
  }

  private void dispatch(ClientFrame frame) {
    if (frame instanceof ClientFrame.Send s) {
      send(s);
    } else if (frame instanceof ClientFrame.Ping) {
      write(ServerFrames.PONG);
    } else if (frame instanceof ClientFrame.Sync s) {
      syncTail = syncTail.transform(v -> sync(s));
    } else if (frame instanceof ClientFrame.PresenceSub p) {
      presenceSub(p);
    } else {
      signal(frame);
    }
  }

  private void send(ClientFrame.Send s) {
    if (sendsWaiting >= SENDS_WAITING_MAX) {
      error(s.msgId(), s.conv(), ErrorCode.RATE_LIMITED, "too many sends waiting, retry later");
      return;
    }
    sendsWaiting++;
    sendTail = sendTail.transform(v -> admit(s));
  }

  /**
   * Asks the limiter for one of the user's send tokens, then hands the send to routing or refuses
   * it; completes (on this event loop) once decided. A limiter failure lets the send through: the
   * cluster profile's limiter already falls back to a local one, so this is a last resort.
   */
  private Future<Void> admit(ClientFrame.Send s) {
    Promise<Void> decided = Promise.promise();
    ctx.limiter().tryAcquire(LimitKey.send(user), ctx.config().sendRatePerSecond(), ctx.config().sendBurst())
        .onComplete(ar -> onEventLoop(() -> {
          sendsWaiting--;
          if (ar.failed()) {
            LOG.debug("rate limiter failed for {}, send let through: {}", user, ar.cause().toString());
          }
          if (closed) {
            // the client retries with the same msg_id after reconnecting
          } else if (ar.succeeded() && !ar.result()) {
            error(s.msgId(), s.conv(), ErrorCode.RATE_LIMITED, "send rate limit exceeded, retry later");
          } else {
            boolean maybeRetry = System.nanoTime() - openedAt < RETRY_WINDOW_NANOS;
            ctx.sends().add(new SendRequest(user, id, s, this, maybeRetry));
          }
          decided.complete();
        }));
    return decided.future();
  }

  /** Runs {@code action} now when on this session's event loop, else there. */
  private void onEventLoop(Runnable action) {
    if (Vertx.currentContext() == ctx.eventLoop()) {
      action.run();
    } else {
      ctx.eventLoop().runOnContext(v -> action.run());
    }
  }

  /** Called on this session's event loop: routing hops to {@link #replyContext()} first. */
  @Override
  public void ack(String ackFrame) {
    write(ackFrame);
  }

  @Override
  public Context replyContext() {
    return ctx.eventLoop();
  }

  @Override
  public void fail(String msgId, long conv, ErrorCode code, String message) {
    ctx.eventLoop().runOnContext(v -> error(msgId, conv, code, message));
  }

  private void signal(ClientFrame frame) {
    Long conv = frame instanceof ClientFrame.Delivered d ? Long.valueOf(d.conv())
        : frame instanceof ClientFrame.Read r ? Long.valueOf(r.conv())
        : frame instanceof ClientFrame.Typing t ? Long.valueOf(t.conv()) : null;
    ctx.bus().request(Addresses.ROUTING_SIGNAL, new SignalRequest(user, frame), ctx.requestOptions())
        .onFailure(t -> {
          ParleyException e = ParleyException.fromBusFailure(t);
          error(null, conv, e.code(), e.getMessage());
        });
  }

  // --- sync ------------------------------------------------------------------------------------

  private Future<Void> sync(ClientFrame.Sync s) {
    if (closed) {
      return Future.succeededFuture();
    }
    if (syncing == null) {
      syncing = new HashMap<>();
    }
    s.convs().keySet().forEach(conv -> syncing.putIfAbsent(conv, new ArrayList<>()));
    Future<Void> chain = Future.succeededFuture();
    for (Map.Entry<Long, Long> e : s.convs().entrySet()) {
      chain = chain.transform(v -> syncOne(e.getKey(), e.getValue()));
    }
    return chain.andThen(v -> syncing = null);
  }

  private Future<Void> syncOne(long conv, long after) {
    if (closed) {
      return Future.succeededFuture();
    }
    return ctx.conversations().backfill(user, conv, after, ctx.config().syncMaxMessages())
        .compose(page -> writeAll(page.messages(), 0).map(v -> {
          long newest = page.messages().isEmpty() ? after : page.messages().get(page.messages().size() - 1).serverId();
          List<Outbound> held = syncing.remove(conv);
          if (held != null) {
            for (Outbound o : held) {
              if (o.serverId() > newest) {
                write(o.frame());
              }
            }
          }
          write(ServerFrames.synced(conv, page.more()));
          return (Void) null;
        }))
        .recover(t -> {
          syncing.remove(conv);
          ParleyException e = t instanceof ParleyException pe ? pe : ParleyException.of(ErrorCode.UNAVAILABLE, "history unavailable");
          error(null, conv, e.code(), e.getMessage());
          return Future.succeededFuture();
        });
  }

  /** Writes backfill frames, waiting for the socket to drain when its queue is full. */
  private Future<Void> writeAll(List<StoredMessage> messages, int from) {
    for (int i = from; i < messages.size(); i++) {
      if (closed) {
        return Future.succeededFuture();
      }
      put(messages.get(i).frame(), null);
      if (writeQueueFull() && i + 1 < messages.size()) {
        int next = i + 1;
        return drained().compose(v -> writeAll(messages, next));
      }
    }
    return Future.succeededFuture();
  }

  // --- presence --------------------------------------------------------------------------------

  private void presenceSub(ClientFrame.PresenceSub p) {
    if (presenceSubs == null) {
      presenceSubs = new HashMap<>();
    }
    for (String u : p.users()) {
      if (presenceSubs.containsKey(u)) {
        continue;
      }
      if (presenceSubs.size() >= ctx.config().presenceUsersMax()) {
        error(null, null, ErrorCode.TOO_LARGE, "at most " + ctx.config().presenceUsersMax() + " presence subscriptions");
        return;
      }
      presenceSubs.put(u, ctx.bus().localConsumer(Addresses.presence(u), m -> write(m.body())));
      ctx.registry().presence(u).onSuccess(pr -> write(ServerFrames.presence(u, pr.online(), pr.lastSeen())));
    }
  }

  // --- outbound --------------------------------------------------------------------------------

  void deliver(Outbound o) {
    // the peer may have closed the socket before our close handler ran
    if (closed || !ws.open() || id.equals(o.skipConnection())) {
      return;
    }
    if (syncing != null && o.isMessage()) {
      List<Outbound> held = syncing.get(o.conv());
      if (held != null) {
        if (held.size() >= HELD_BACK_MAX) {
          close(CLOSE_SLOW, "too far behind: reconnect and sync");
        } else {
          held.add(o);
        }
        return;
      }
    }
    if (tooFarBehind()) {
      // The client does not read: drop the connection rather than buffer without bound.
      // Nothing is lost: the device reconnects and syncs from its last server_id.
      close(CLOSE_SLOW, "too far behind: reconnect and sync");
      return;
    }
    put(o.frame(), o.wire());
  }

  private void write(String frame) {
    if (!closed) {
      put(frame, null);
    }
  }

  /** Writes one frame ({@code wire}: its encoded form, or null to encode it here); flushed later this turn. */
  private void put(String frame, byte[] wire) {
    if (!channel.executor().inEventLoop()) {
      ctx.eventLoop().runOnContext(v -> put(frame, wire));
      return;
    }
    if (!ws.open()) {
      return; // closed meanwhile: nothing may follow the close frame
    }
    channel.write(Unpooled.wrappedBuffer(wire != null ? wire : WireFrame.text(frame)), channel.voidPromise());
    if (!flushPending) {
      flushPending = true;
      ctx.flusher().add(this);
    }
  }

  /** Called by the gateway's flusher ({@link TurnBatch}) at the end of the turn it was written in. */
  void flush() {
    flushPending = false;
    channel.flush();
  }

  /**
   * Whether the socket holds more unsent bytes than its high-water mark (the client reads too
   * slowly). Netty counts the frames written this turn and not yet flushed too: a few large ones
   * pass the mark on their own, however fast the client reads. So they are flushed first, and only
   * what the kernel would not take counts.
   */
  private boolean writeQueueFull() {
    if (!channel.channel().isWritable() && flushPending) {
      flush();
    }
    return !channel.channel().isWritable();
  }

  /**
   * Whether the client is too far behind to keep: more than {@link #UNSENT_MAX} unsent, or (outside a
   * sync) over the high-water mark for {@link #BEHIND_MAX_NANOS}.
   */
  private boolean tooFarBehind() {
    if (!writeQueueFull()) {
      return false;
    }
    return unsentBytes() > UNSENT_MAX || (syncing == null && ws.behindNanos() > BEHIND_MAX_NANOS);
  }

  /** Bytes written to the socket and not yet taken by the kernel (0 when not known). */
  private long unsentBytes() {
    ChannelOutboundBuffer buffer = channel.channel().unsafe().outboundBuffer();
    return buffer == null ? 0 : buffer.totalPendingWriteBytes();
  }

  /** Completes once the socket can take more (or the session closed). */
  private Future<Void> drained() {
    Promise<Void> drained = Promise.promise();
    flush();
    if (closed) {
      drained.complete();
    } else {
      ws.whenWritable(drained::tryComplete);
    }
    return drained.future();
  }

  private void error(String msgId, Long conv, ErrorCode code, String message) {
    write(ServerFrames.error(msgId, conv, code, message));
  }

  void close(short code, String reason) {
    if (!closed) {
      ws.close(code, reason);
      cleanup();
    }
  }

  boolean closed() {
    return closed;
  }

  private void cleanup() {
    if (closed) {
      return;
    }
    closed = true;
    ctx.remove(this);
    if (presenceSubs != null) {
      presenceSubs.values().forEach(MessageConsumer::unregister);
      presenceSubs = null;
    }
    long now = System.currentTimeMillis();
    // after the registration, if it is still under way: an unregister overtaking it would leave
    // the connection registered until its TTL ran out, and the user's messages would go to a
    // node that no longer holds it instead of to push
    registration.onComplete(ignored -> ctx.registry().unregister(user, ctx.node(), id, now).onSuccess(last -> {
      if (last) {
        ctx.bus().publish(Addresses.PRESENCE_CHANGED, ServerFrames.presence(user, false, now));
      }
    }));
  }

  static void sweepIdle(Collection<Session> sessions, long idleTimeoutMs) {
    long cutoff = System.currentTimeMillis() - idleTimeoutMs;
    List<Session> idle = sessions.stream().filter(s -> s.lastActivity < cutoff).toList();
    idle.forEach(s -> s.close(CLOSE_IDLE, "idle timeout"));
  }
}
