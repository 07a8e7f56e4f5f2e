package io.parley.bridge;

import io.parley.protocol.Addresses;
import io.parley.protocol.ErrorCode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One bridge client's connection, on the bridge verticle's event loop. Reads length-prefixed JSON
 * frames ({@link BridgeFrames}) with a {@link RecordParser}; checks the admin token of every frame
 * ({@code headers.token}, compared in constant time) before anything else; lets requests through
 * only to the inbound allow-list and subscriptions only to the outbound one. Whatever is wrong
 * with a frame gets an {@code err} frame and nothing else: a frame length out of range
 * (0, negative, over {@link BridgeFrames#FRAME_MAX_BYTES}) also closes the connection, since the
 * stream can no longer be framed. Writes are bounded: a socket holding more than the configured
 * bytes unsent is closed as a slow consumer ({@link #write}).
 */
final class BridgeConnection {
  private static final Logger LOG = LoggerFactory.getLogger(BridgeConnection.class);
  /** Requests from the bridge to its own handlers: this node only, answered within 30 s. */
  private static final DeliveryOptions REQUEST = new DeliveryOptions().setLocalOnly(true).setSendTimeout(30_000);

  private final NetSocket socket;
  private final BridgeVerticle bridge;
  private final byte[] token;
  private final EventBus bus;
  private final RecordParser parser;
  /** The streams this client follows. */
  final Set<String> streams = new HashSet<>(4);
  private boolean readingLength = true;
  private boolean closed;

  BridgeConnection(NetSocket socket, BridgeVerticle bridge, byte[] token, EventBus bus, int writeQueueMaxBytes) {
    this.socket = socket;
    this.bridge = bridge;
    this.token = token;
    this.bus = bus;
    socket.setWriteQueueMaxSize(writeQueueMaxBytes);
    parser = RecordParser.newFixed(4, this::record);
    socket.handler(parser);
    socket.closeHandler(v -> closed());
    socket.exceptionHandler(e -> {
      LOG.debug("bridge connection from {}: {}", socket.remoteAddress(), e.toString());
      socket.close();
    });
  }

  /** One record of the parser: a frame's length, then its JSON. */
  private void record(Buffer b) {
    if (closed) {
      return;
    }
    if (readingLength) {
      int length = b.getInt(0);
      if (length <= 0 || length > BridgeFrames.FRAME_MAX_BYTES) {
        LOG.warn("bridge connection from {} sent a frame length of {}: closed", socket.remoteAddress(), length);
        write(BridgeFrames.err("frame length " + length + " out of range 1-" + BridgeFrames.FRAME_MAX_BYTES + ": closing"));
        close();
        return;
      }
      readingLength = false;
      parser.fixedSizeMode(length);
    } else {
      readingLength = true;
      parser.fixedSizeMode(4);
      frame(b);
    }
  }

  private void frame(Buffer b) {
    JsonObject msg;
    try {
      Object v = io.vertx.core.json.Json.decodeValue(b.toString(StandardCharsets.UTF_8));
      if (!(v instanceof JsonObject o)) {
        write(BridgeFrames.err("malformed frame: not a JSON object"));
        return;
      }
      msg = o;
    } catch (DecodeException e) {
      write(BridgeFrames.err("malformed frame: not JSON"));
      return;
    }
    if (!authenticated(msg)) {
      write(BridgeFrames.err("unauthorized"));
      return;
    }
    Object type = msg.getValue("type");
    Object address = msg.getValue("address");
    if ("ping".equals(type)) {
      write(BridgeFrames.pong());
      return;
    }
    if (!(type instanceof String t)) {
      write(BridgeFrames.err("unknown_type"));
      return;
    }
    if (!(address instanceof String a)) {
      write(BridgeFrames.err("missing_address"));
      return;
    }
    switch (t) {
      case "send" -> send(a, msg);
      case "publish" -> write(BridgeFrames.err("access_denied")); // inbound addresses are requests only
      case "register" -> {
        if (BridgeVerticle.OUTBOUND.contains(a)) {
          streams.add(a);
          bridge.follow(this, a);
        } else {
          write(BridgeFrames.err("access_denied"));
        }
      }
      case "unregister" -> {
        if (!BridgeVerticle.OUTBOUND.contains(a)) {
          write(BridgeFrames.err("access_denied"));
        } else if (streams.remove(a)) {
          bridge.unfollow(this, a);
        } else {
          write(BridgeFrames.err("unknown_address"));
        }
      }
      default -> write(BridgeFrames.err("unknown_type"));
    }
  }

  /** A token in {@code headers.token}, equal to the admin token (constant time over its bytes). */
  private boolean authenticated(JsonObject msg) {
    Object headers = msg.getValue("headers");
    if (!(headers instanceof JsonObject h) || !(h.getValue("token") instanceof String given)) {
      return false;
    }
    return MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8));
  }

  private void send(String address, JsonObject msg) {
    if (!BridgeVerticle.INBOUND.contains(address)) {
      write(BridgeFrames.err("access_denied"));
      return;
    }
    Object replyAddress = msg.getValue("replyAddress");
    Object body = msg.getValue("body");
    if (!(body instanceof JsonObject request)) {
      ReplyException bad = new ReplyException(ReplyFailure.RECIPIENT_FAILURE, ErrorCode.BAD_REQUEST.failureCode(),
          "body must be a JSON object");
      write(replyAddress instanceof String r ? BridgeFrames.failure(address, r, bad) : BridgeFrames.err(bad.getMessage()));
      return;
    }
    if (!(replyAddress instanceof String reply)) {
      // no reply wanted: the outcome is only logged
      bus.request(address, request, REQUEST)
          .onFailure(e -> LOG.info("bridge {} without replyAddress failed: {}", address, e.getMessage()));
      return;
    }
    bus.<Object>request(address, request, REQUEST).onComplete(ar -> {
      if (ar.succeeded()) {
        write(BridgeFrames.reply(reply, ar.result().body()));
      } else {
        ReplyException e = ar.cause() instanceof ReplyException r ? r
            : new ReplyException(ReplyFailure.RECIPIENT_FAILURE, ErrorCode.INTERNAL.failureCode(), ar.cause().toString());
        write(BridgeFrames.failure(address, reply, e));
      }
    });
  }

  /** An event of a followed stream. */
  void event(String stream, Object body) {
    write(BridgeFrames.message(stream, body));
  }

  /**
   * Writes a frame, unless the socket already holds more than its bound unsent: then the client is
   * a slow consumer and is closed (it reconnects and follows again; the events in between are lost
   * to it, and history has the messages).
   */
  private void write(JsonObject frame) {
    if (closed) {
      return;
    }
    if (socket.writeQueueFull()) {
      LOG.warn("bridge connection from {} is a slow consumer (over its write bound unsent): closed",
          socket.remoteAddress());
      bridge.slowConsumerClosed();
      close();
      return;
    }
    socket.write(BridgeFrames.encode(frame));
  }

  private void close() {
    if (!closed) {
      socket.close();
      closed();
    }
  }

  private void closed() {
    if (!closed) {
      closed = true;
      bridge.gone(this);
    }
  }
}
