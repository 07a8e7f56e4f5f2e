package io.parley.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.DecodeException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One authenticated websocket connection of a bench user/device. Parses every incoming text frame
 * as JSON and hands it to a {@link Listener}; keeps the connection alive with an application
 * {@code {"op":"ping"}} every 30 s (the server drops connections idle for 90 s).
 */
final class WsConn {
  static final String PING_FRAME = "{\"op\":\"ping\"}";
  private static final long PING_INTERVAL_MS = 30_000;

  /** Receives the frames of a connection (called on the connection's event loop). */
  interface Listener {
    void onFrame(WsConn conn, String op, Frame frame);

    /** The connection closed without {@link #close()} having been called. */
    default void onUnexpectedClose(WsConn conn) {
    }

    default void onBadFrame(WsConn conn, String text) {
    }
  }

  final int index;
  final String user;
  final String device;
  final String token;
  /** Conversation this connection's user takes part in (DM/group scenarios), and its slot there. */
  String conv;
  int memberIndex;

  private final Listener listener;
  private volatile WebSocket ws;
  private volatile boolean closing;
  private volatile boolean open;
  private volatile long pingTimer = -1;
  volatile int pongs;

  WsConn(int index, String user, String device, String token, Listener listener) {
    this.index = index;
    this.user = user;
    this.device = device;
    this.token = token;
    this.listener = listener;
  }

  /**
   * Opens the websocket. Must be called on the event-loop context the connection should live on.
   */
  Future<WsConn> connect(Vertx vertx, WebSocketClient client, String host, int port) {
    closing = false;
    String uri = "/v1/ws?access_token=" + URLEncoder.encode(token, StandardCharsets.UTF_8)
        + "&device=" + URLEncoder.encode(device, StandardCharsets.UTF_8);
    WebSocketConnectOptions opts = new WebSocketConnectOptions()
        .setHost(host).setPort(port).setURI(uri).setConnectTimeout(30_000).setTimeout(30_000);
    return client.connect(opts).map(socket -> {
      ws = socket;
      open = true;
      socket.textMessageHandler(this::onText);
      socket.exceptionHandler(t -> { });
      socket.closeHandler(v -> {
        if (ws != socket) {
          return; // a previous socket of this connection closing late (reconnect scenario)
        }
        open = false;
        cancelPing(vertx);
        if (!closing) {
          listener.onUnexpectedClose(this);
        }
      });
      long firstPing = PING_INTERVAL_MS / 2 + ThreadLocalRandom.current().nextLong(PING_INTERVAL_MS / 2);
      pingTimer = vertx.setPeriodic(firstPing, PING_INTERVAL_MS, id -> send(PING_FRAME));
      return this;
    });
  }

  private void onText(String text) {
    Frame frame = new Frame(text);
    String op;
    try {
      op = frame.str("op");
      if (op == null) {
        op = "";
      }
      if ("pong".equals(op)) {
        pongs++;
      }
      listener.onFrame(this, op, frame);
    } catch (DecodeException e) {
      listener.onBadFrame(this, text);
    }
  }

  boolean isOpen() {
    return open;
  }

  /** Writes a text frame (from any thread); false if the connection is not open. */
  boolean send(String frame) {
    WebSocket socket = ws;
    if (socket == null || !open) {
      return false;
    }
    socket.writeTextMessage(frame);
    return true;
  }

  /** Closes the connection on purpose (no {@link Listener#onUnexpectedClose} callback). */
  Future<Void> close(Vertx vertx) {
    closing = true;
    cancelPing(vertx);
    WebSocket socket = ws;
    if (socket == null || !open) {
      return Future.succeededFuture();
    }
    open = false;
    return socket.close();
  }

  private void cancelPing(Vertx vertx) {
    long t = pingTimer;
    if (t >= 0) {
      vertx.cancelTimer(t);
      pingTimer = -1;
    }
  }
}
