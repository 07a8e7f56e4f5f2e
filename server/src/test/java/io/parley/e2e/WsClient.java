package io.parley.e2e;

import io.parley.testing.HandlerFailures;
import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One test WebSocket: every received frame goes to a queue the test thread reads with a timeout.
 * A frame that fails in the handler (not JSON) is recorded in the clients' {@link HandlerFailures}
 * and fails the next read, instead of leaving it to time out.
 */
final class WsClient {
  /** How often a read waiting for a frame looks for a handler's failure. */
  private static final long CHECK_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  final WebSocket ws;
  final LinkedBlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
  final CompletableFuture<Short> closed = new CompletableFuture<>();
  /** server_ids of msg frames that arrived while {@link #sendMsgSkippingDeliveries} waited for its ack. */
  final List<String> skipped = new ArrayList<>();
  /** When each frame arrived (System.nanoTime), by identity: for timelines in failure messages. */
  final Map<JsonObject, Long> receivedAt = Collections.synchronizedMap(new IdentityHashMap<>());

  private final HandlerFailures failures;

  WsClient(WebSocket ws, HandlerFailures failures) {
    this.ws = ws;
    this.failures = failures;
    ws.textMessageHandler(t -> {
      JsonObject f = new JsonObject(t);
      receivedAt.put(f, System.nanoTime());
      frames.add(f);
    });
    ws.closeHandler(v -> closed.complete(ws.closeStatusCode()));
  }

  void send(JsonObject frame) {
    ws.writeTextMessage(frame.encode());
  }

  void sendText(String text) {
    ws.writeTextMessage(text);
  }

  JsonObject sendMsg(String msgId, String conv, String body) {
    send(new JsonObject().put("op", "send").put("msg_id", msgId).put("conv", conv).put("body", body));
    return next("ack", "error");
  }

  /** Sends and returns the ack's server_id, keeping msg frames that arrive first in {@link #skipped}. */
  String sendMsgSkippingDeliveries(String msgId, String conv, String body) {
    send(new JsonObject().put("op", "send").put("msg_id", msgId).put("conv", conv).put("body", body));
    while (true) {
      JsonObject f = next("ack", "msg");
      if ("ack".equals(f.getString("op"))) {
        return f.getString("server_id");
      }
      skipped.add(f.getString("server_id"));
    }
  }

  /** The next frame, which must have one of {@code ops}. */
  JsonObject next(String... ops) {
    JsonObject f = poll(Clients.WAIT);
    if (f == null) {
      throw new AssertionError("no frame within " + Clients.WAIT + ", expected " + String.join("|", ops));
    }
    for (String op : ops) {
      if (op.equals(f.getString("op"))) {
        return f;
      }
    }
    throw new AssertionError("expected " + String.join("|", ops) + " but got " + f.encode());
  }

  /** Frames up to and including the first one matching {@code until}. */
  List<JsonObject> until(Predicate<JsonObject> until) {
    List<JsonObject> out = new ArrayList<>();
    while (true) {
      JsonObject f = poll(Clients.WAIT);
      if (f == null) {
        throw new AssertionError("condition not met within " + Clients.WAIT + "; got " + out);
      }
      out.add(f);
      if (until.test(f)) {
        return out;
      }
    }
  }

  /** A round trip: every frame the server queued for this socket before the ping arrives first. */
  List<JsonObject> drainWithPing() {
    send(new JsonObject().put("op", "ping"));
    List<JsonObject> got = until(f -> "pong".equals(f.getString("op")));
    return got.subList(0, got.size() - 1);
  }

  /** The next frame within {@code d}, or null; fails at once when a handler of these clients failed. */
  JsonObject poll(Duration d) {
    long deadline = System.nanoTime() + d.toNanos();
    try {
      while (true) {
        failures.check();
        long left = deadline - System.nanoTime();
        JsonObject f = frames.poll(Math.max(0, Math.min(left, CHECK_EVERY_NANOS)), TimeUnit.NANOSECONDS);
        if (f != null || deadline - System.nanoTime() <= 0) {
          failures.check();
          return f;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /**
   * Stops reading from the socket: once the few frames Vert.x queues are taken, unread bytes stay
   * in the kernel's buffers and the server's writes back up, as with a client that does not read.
   */
  void pause() {
    ws.pause();
  }

  /** Reads {@code n} more frames off a paused socket. */
  void fetch(long n) {
    ws.fetch(n);
  }

  void resume() {
    ws.resume();
  }

  short awaitClose() {
    try {
      Short s = closed.get(Clients.WAIT.toMillis(), TimeUnit.MILLISECONDS);
      return s == null ? -1 : s;
    } catch (Exception e) {
      throw new AssertionError("socket not closed within " + Clients.WAIT, e);
    }
  }

  void close() {
    ws.close();
  }
}
