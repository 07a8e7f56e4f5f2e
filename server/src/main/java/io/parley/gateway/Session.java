package io.parley.gateway;

import io.parley.presence.ConnectionRegistry;
import io.parley.presence.PresenceChange;
import io.parley.presence.PresenceSubscriptions;
import io.parley.metrics.NodeMetrics;
import io.parley.protocol.Addresses;
import io.parley.protocol.ClientFrame;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.Outbound;
import io.parley.protocol.ParleyException;
import io.parley.protocol.ServerFrames;
import io.parley.routing.SendReplies;
import io.parley.routing.SignalRequest;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * One authenticated WebSocket connection (one device of one user): its life in the connection
 * registry (register before reading, heartbeat, unregister) and the dispatch of its frames.
 * Confined to its gateway's event loop. Live deliveries reach it through its gateway's
 * {@link Sessions}; routing answers its sends through {@link SendReplies}. Every close path ends in
 * {@link #cleanup()}, once.
 *
 * <p>The rest is delegated, one concern each: {@link SendAdmission} (sends in order through the
 * rate limiter), {@link Sync} (backfill, with live messages held back meanwhile),
 * {@link PresenceSubscriptions} and the socket, a {@link WsChannel} on the connection's Netty
 * channel, which writes, flushes and judges whether the client reads.
 */
final class Session implements SendReplies, WsChannel.Listener, Sync.Client, SendAdmission.Client {
  private static final Logger LOG = LoggerFactory.getLogger(Session.class);
  static final short CLOSE_RESTART = 1012;
  static final short CLOSE_IDLE = 1001;
  static final short CLOSE_SLOW = 1013;
  static final short CLOSE_TOO_BIG = 1009;
  static final short CLOSE_POLICY = 1008;
  /** An operator closed the user's connections (the bridge's {@code parley.bridge.disconnect}). */
  static final short CLOSE_OPERATOR = 4003;

  /**
   * What the sessions of one gateway instance share (one instance per event loop).
   *
   * @param registerWaitMs longest wait for the registry before a new connection's frames are read
   *     anyway (a registry that is down fails at once; this bounds one that hangs). Under a
   *     reconnect storm on a loaded node registration took over 2 s, and a connection let in before
   *     it could miss live messages.
   * @param signalOptions options of the requests that hand receipts and typing to routing
   * @param closed told once when a session is cleaned up (the gateway forgets it)
   */
  record Settings(Context eventLoop, EventBus bus, ConnectionRegistry registry, String node, long registerWaitMs,
      ClientFrame.Limits limits, int frameMaxBytes, DeliveryOptions signalOptions, Consumer<Session> closed,
      NodeMetrics metrics) {
    /** Settings that count nothing (tests). */
    Settings(Context eventLoop, EventBus bus, ConnectionRegistry registry, String node, long registerWaitMs,
        ClientFrame.Limits limits, int frameMaxBytes, DeliveryOptions signalOptions, Consumer<Session> closed) {
      this(eventLoop, bus, registry, node, registerWaitMs, limits, frameMaxBytes, signalOptions, closed, NodeMetrics.none());
    }
  }

  final String id;
  final String user;
  private final Settings settings;
  private final WsChannel ws;
  private final Sync sync;
  private final SendAdmission sends;
  private final PresenceSubscriptions presence;
  long lastActivity;
  /** When the connection's token expires (epoch ms; {@link Long#MAX_VALUE}: never): it is closed then. */
  long expiresAt = Long.MAX_VALUE;
  /** The registry's answer to this connection's registration (the unregister waits for it). */
  private Future<Boolean> registration = Future.succeededFuture(false);
  private boolean closed;
  /** Sends handed to routing and not yet answered (ack or failure). */
  private int routedOpen;
  /** Draining: no new send is taken, and the connection closes (1012) once its sends are answered. */
  private boolean leaving;

  /**
   * A session on a channel whose WebSocket handshake has been answered; {@code socket} puts its
   * {@link WsChannel} on the channel, with this session as its listener. Reads nothing until
   * {@link #start()}.
   */
  Session(String id, String user, Settings settings, Sync.Settings sync, SendAdmission.Settings sends,
      Function<WsChannel.Listener, WsChannel> socket) {
    this.id = id;
    this.user = user;
    this.settings = settings;
    this.sync = new Sync(user, id, sync, this);
    this.sends = new SendAdmission(user, id, settings.eventLoop(), sends, this, this);
    this.presence = new PresenceSubscriptions(settings.bus(), settings.registry(), settings.limits().maxPresenceUsers(),
        this::write);
    this.ws = socket.apply(this);
    this.lastActivity = System.currentTimeMillis();
  }

  void start() {
    // No frame is read before the registry knows this connection: a sync served earlier could miss
    // a message that fan-out then sends to push only (it looked the user up before the register).
    // Registered first, every message is either persisted before the sync reads or fanned out
    // after the register. A registry that fails lets the connection in at once (while it is down,
    // fan-out sends to every node, which deliver to whoever they hold); one that stays silent,
    // after registerWaitMs (the heartbeat registers the connection again later).
    // (A WsChannel reads nothing until resumed.)
    Promise<Boolean> registered = Promise.promise();
    long wait = settings.registerWaitMs();
    long guard = settings.eventLoop().owner().setTimer(wait, t -> registered.tryFail("registry silent for " + wait + " ms"));
    registration = settings.registry().register(user, settings.node(), id);
    registration.onComplete(registered::tryComplete, registered::tryFail);
    registered.future().onComplete(ar -> onEventLoop(() -> {
      settings.eventLoop().owner().cancelTimer(guard);
      if (ar.failed()) {
        log(LOG.atDebug()).log("registering {} failed: {}", id, ar.cause().toString());
      } else if (ar.result()) {
        settings.bus().publish(Addresses.PRESENCE_CHANGED, PresenceChange.online(user));
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
    ConnectionRegistry registry = settings.registry();
    registry.refresh(user, settings.node(), id)
        .compose(known -> known || closed ? Future.succeededFuture(false) : registry.register(user, settings.node(), id))
        .onSuccess(first -> {
          if (first) {
            settings.bus().publish(Addresses.PRESENCE_CHANGED, PresenceChange.online(user));
          }
        })
        .onFailure(e -> log(LOG.atDebug()).log("heartbeat of {} failed: {}", id, e.toString()));
  }

  // --- inbound ---------------------------------------------------------------------------------

  /** The hard limit on a whole message (a frame and its continuations): close 1009. */
  @Override
  public void onTooBig() {
    close(CLOSE_TOO_BIG, "frame exceeds " + settings.frameMaxBytes() + " bytes");
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
      dispatch(ClientFrame.parse(json, settings.limits()));
    } catch (ParleyException e) {
      error(json == null ? null : ClientFrame.msgIdOf(json), null, e.code(), e.getMessage());
    } catch (RuntimeException e) {
      log(LOG.atError()).setCause(e).log("frame from {} failed", user);
      error(null, null, ErrorCode.INTERNAL, "internal error");
    }
  }

  private void dispatch(ClientFrame frame) {
    if (frame instanceof ClientFrame.Send s) {
      if (leaving) {
        // not lost: the client resends it, with the same msg_id, once reconnected
        error(s.msgId(), s.conv(), ErrorCode.UNAVAILABLE, "server is restarting: reconnect and resend");
        return;
      }
      sends.offer(s);
    } else if (frame instanceof ClientFrame.Ping) {
      write(ServerFrames.PONG);
    } else if (frame instanceof ClientFrame.Sync s) {
      settings.metrics().syncRequested();
      sync.request(s);
    } else if (frame instanceof ClientFrame.PresenceSub p) {
      if (!presence.add(p.users())) {
        error(null, null, ErrorCode.TOO_LARGE, "at most " + presence.max() + " presence subscriptions");
      }
    } else {
      signal(frame);
    }
  }

  /** Runs {@code action} now when on this session's event loop, else there. */
  private void onEventLoop(Runnable action) {
    if (Vertx.currentContext() == settings.eventLoop()) {
      action.run();
    } else {
      settings.eventLoop().runOnContext(v -> action.run());
    }
  }

  /** Called on this session's event loop: routing hops to {@link #replyContext()} first. */
  @Override
  public void ack(String ackFrame) {
    if (!closed) {
      settings.metrics().acked();
    }
    write(ackFrame);
    answered();
  }

  @Override
  public Context replyContext() {
    return settings.eventLoop();
  }

  @Override
  public void fail(String msgId, long conv, ErrorCode code, String message) {
    settings.eventLoop().runOnContext(v -> {
      error(msgId, conv, code, message);
      answered();
    });
  }

  @Override
  public void decided(boolean routed) {
    if (routed) {
      routedOpen++;
    } else if (leaving) {
      leaveIfSettled();
    }
  }

  private void answered() {
    routedOpen--;
    if (leaving) {
      leaveIfSettled();
    }
  }

  /**
   * The drain's turn for this connection: takes no new send, and closes it with 1012 once every
   * send it took is answered (their acks go out after they are durable); the drain's timeout bounds
   * the wait.
   */
  void leave() {
    if (closed || leaving) {
      return;
    }
    leaving = true;
    leaveIfSettled();
  }

  private void leaveIfSettled() {
    if (routedOpen <= 0 && sends.waiting() == 0) {
      close(CLOSE_RESTART, "server restart");
    }
  }

  private void signal(ClientFrame frame) {
    Long conv = frame instanceof ClientFrame.Delivered d ? Long.valueOf(d.conv())
        : frame instanceof ClientFrame.Read r ? Long.valueOf(r.conv())
        : frame instanceof ClientFrame.Typing t ? Long.valueOf(t.conv()) : null;
    settings.bus().request(Addresses.ROUTING_SIGNAL, new SignalRequest(user, frame), settings.signalOptions())
        .onFailure(t -> {
          ParleyException e = ParleyException.fromBusFailure(t);
          error(null, conv, e.code(), e.getMessage());
        });
  }

  // --- outbound --------------------------------------------------------------------------------

  void deliver(Outbound o) {
    // (the sending connection's own message is dropped by the sync: it got the ack)
    // the peer may have closed the socket before our close handler ran
    if (closed || !ws.open()) {
      return;
    }
    switch (sync.hold(o)) {
      case HELD, DROP -> {
        return;
      }
      case OVERFLOW -> {
        settings.metrics().slowReaderClosed();
        close(CLOSE_SLOW, "too far behind: reconnect and sync");
        return;
      }
      case PASS -> {
      }
    }
    if (ws.tooFarBehind(sync.running())) {
      // The client does not read: drop the connection rather than buffer without bound.
      // Nothing is lost: the device reconnects and syncs from its last server_id.
      settings.metrics().slowReaderClosed();
      close(CLOSE_SLOW, "too far behind: reconnect and sync");
      return;
    }
    ws.write(o.frame(), o.wire());
    if (o.isMessage()) {
      settings.metrics().delivered(o.ts());
    }
  }

  @Override
  public void writeLive(Outbound o) {
    if (!closed) {
      ws.write(o.frame(), o.wire());
      settings.metrics().delivered(o.ts());
    }
  }

  @Override
  public void replayed() {
    settings.metrics().replayed();
  }

  @Override
  public void shedWaiting() {
    settings.metrics().shedRateLimited();
  }

  @Override
  public void write(String frame) {
    if (!closed) {
      ws.write(frame, null);
    }
  }

  @Override
  public boolean writeQueueFull() {
    return ws.writeQueueFull();
  }

  @Override
  public Future<Void> drained() {
    Promise<Void> drained = Promise.promise();
    ws.flush();
    if (closed) {
      drained.complete();
    } else {
      ws.whenWritable(drained::tryComplete);
    }
    return drained.future();
  }

  @Override
  public void closeBehind(String reason) {
    settings.metrics().slowReaderClosed();
    close(CLOSE_SLOW, reason);
  }

  /** Writes an error frame; one that names a {@code msg_id} answers a send and is counted as its rejection. */
  @Override
  public void error(String msgId, Long conv, ErrorCode code, String message) {
    if (msgId != null && !closed) {
      settings.metrics().rejected(code);
    }
    write(ServerFrames.error(msgId, conv, code, message));
  }

  void close(short code, String reason) {
    if (!closed) {
      log(LOG.atDebug()).log("closing {}: {} {}", id, code, reason);
      ws.close(code, reason);
      cleanup();
    }
  }

  /** {@code event} with this connection's user, device and node ({@link ConnectionLog}). */
  private LoggingEventBuilder log(LoggingEventBuilder event) {
    return ConnectionLog.connection(event, settings.node(), user, id);
  }

  @Override
  public boolean closed() {
    return closed;
  }

  private void cleanup() {
    if (closed) {
      return;
    }
    closed = true;
    settings.closed().accept(this);
    presence.close();
    long now = System.currentTimeMillis();
    // after the registration, if it is still under way: an unregister overtaking it would leave
    // the connection registered until its TTL ran out, and the user's messages would go to a
    // node that no longer holds it instead of to push
    registration.onComplete(ignored -> settings.registry().unregister(user, settings.node(), id, now).onSuccess(last -> {
      if (last) {
        settings.bus().publish(Addresses.PRESENCE_CHANGED, PresenceChange.offline(user, now));
      }
    }));
  }
}
