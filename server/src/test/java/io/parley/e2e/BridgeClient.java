package io.parley.e2e;

import io.parley.testing.Await;
import io.parley.testing.HandlerFailures;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test-side client of the event-bus bridge over real TCP, as an internal tool would write one:
 * frames of a 4-byte big-endian length and JSON, the token in {@code headers.token}. Received
 * frames queue in {@link #frames}; calls block the test thread only.
 */
final class BridgeClient {
  private static final AtomicInteger REPLIES = new AtomicInteger();

  final LinkedBlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
  final CompletableFuture<Void> closed = new CompletableFuture<>();
  private final NetSocket socket;
  private final HandlerFailures failures;
  private final String token;

  private BridgeClient(NetSocket socket, HandlerFailures failures, String token) {
    this.socket = socket;
    this.failures = failures;
    this.token = token;
    RecordParser parser = RecordParser.newFixed(4);
    boolean[] length = {true};
    parser.handler(b -> {
      if (length[0]) {
        parser.fixedSizeMode(b.getInt(0));
      } else {
        parser.fixedSizeMode(4);
        frames.add(new JsonObject(b.toString(StandardCharsets.UTF_8)));
      }
      length[0] = !length[0];
    });
    socket.handler(parser);
    socket.closeHandler(v -> closed.complete(null));
  }

  /**
   * Connects with {@code token} on every frame ({@code null}: frames carry none). The caller keeps
   * {@code client} referenced until done: Vert.x closes an unreferenced client's connections.
   */
  static BridgeClient connect(NetClient client, HandlerFailures failures, int port, String token) {
    NetSocket s = Await.result(client.connect(port, "127.0.0.1"));
    return new BridgeClient(s, failures, token);
  }

  /** Writes a frame, adding the client's token to its headers. */
  void send(JsonObject frame) {
    if (token != null) {
      JsonObject headers = frame.getJsonObject("headers", new JsonObject());
      frame.put("headers", headers.put("token", token));
    }
    writeRaw(frame.encode().getBytes(StandardCharsets.UTF_8));
  }

  /** A frame of exactly these bytes, with their length. */
  void writeRaw(byte[] json) {
    Await.result(socket.write(Buffer.buffer().appendInt(json.length).appendBytes(json)));
  }

  void writeBytes(Buffer b) {
    Await.result(socket.write(b));
  }

  /**
   * A request: the frame that answers it ({@code message} or {@code err} to its reply address), or
   * an {@code err} about the frame itself (no address: denied, unauthorized).
   */
  JsonObject request(String address, JsonObject body) {
    String reply = "reply-" + REPLIES.incrementAndGet();
    send(new JsonObject().put("type", "send").put("address", address).put("replyAddress", reply).put("body", body));
    while (true) {
      JsonObject f = next();
      if (reply.equals(f.getString("address")) || "err".equals(f.getString("type")) && f.getString("address") == null) {
        return f;
      }
    }
  }

  void register(String address) {
    send(new JsonObject().put("type", "register").put("address", address));
  }

  /** A round trip: returns once the bridge answered a ping, so everything written before was handled. */
  void ping() {
    send(new JsonObject().put("type", "ping"));
    JsonObject f = next();
    if (!"pong".equals(f.getString("type"))) {
      throw new AssertionError("expected pong, got " + f);
    }
  }

  JsonObject next() {
    JsonObject f = poll(Clients.WAIT);
    if (f == null) {
      throw new AssertionError("no bridge frame within " + Clients.WAIT);
    }
    return f;
  }

  JsonObject poll(Duration d) {
    try {
      failures.check();
      return frames.poll(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The next event of {@code stream} whose body satisfies the test, skipping others. */
  JsonObject event(String stream, java.util.function.Predicate<JsonObject> test) {
    while (true) {
      JsonObject f = next();
      if ("message".equals(f.getString("type")) && stream.equals(f.getString("address")) && test.test(f.getJsonObject("body"))) {
        return f.getJsonObject("body");
      }
    }
  }

  void pause() {
    socket.pause();
  }

  void resume() {
    socket.resume();
  }

  void awaitClosed() {
    try {
      closed.get(Clients.WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("bridge connection not closed within " + Clients.WAIT, e);
    }
  }

  void close() {
    socket.close();
  }
}
