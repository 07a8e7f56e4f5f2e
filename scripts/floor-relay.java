import io.vertx.core.*;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.*;
import io.vertx.core.json.*;
import io.vertx.core.transport.Transport;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The cheapest chat relay on this machine (scripts/floor relay): what any Vert.x WebSocket server
 * spends, per delivered 1:1 message, on the path Parley's dm bench drives, with none of Parley's
 * logic. It answers the bench's calls (dev token, DM creation, /health/ready, the websocket) and, per
 * {@code send} frame, parses it, writes the {@code ack} to the sender and the {@code msg} to the
 * other member's connections. With {@code --durable DIR} each send is first appended to a file that a
 * writer thread group-commits (write, then fdatasync, every {@code --commit-window-ms}), and the ack
 * and msg go out only after the sync: the floor of "acked means durable". Vert.x's own
 * ServerWebSocket, io_uring where the kernel offers it, default event loops. Run with the jar's Vert.x
 * on the class path: java -cp target/parley.jar scripts/floor-relay.java PORT [--durable DIR [--commit-window-ms N]].
 */
class FloorRelay {
  /** A send waiting for the group commit: its bytes, and the replies to run on its context after the sync. */
  record Logged(byte[] bytes, Context ctx, Runnable then) { }

  static final Map<String, List<ServerWebSocket>> sockets = new ConcurrentHashMap<>();
  static final Map<String, List<String>> members = new ConcurrentHashMap<>();
  static final AtomicLong ids = new AtomicLong(1);
  static BlockingQueue<Logged> log;

  public static void main(String[] a) throws Exception {
    int port = Integer.parseInt(a[0]);
    Path dir = null;
    long windowMs = 1;
    for (int i = 1; i < a.length; i++) {
      switch (a[i]) {
        case "--durable" -> dir = Path.of(a[++i]);
        case "--commit-window-ms" -> windowMs = Long.parseLong(a[++i]);
        default -> throw new IllegalArgumentException("unknown option " + a[i]);
      }
    }
    if (dir != null) {
      Files.createDirectories(dir);
      FileChannel ch = FileChannel.open(dir.resolve("relay.log"), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.APPEND);
      log = new LinkedBlockingQueue<>();
      long window = windowMs;
      Thread w = new Thread(() -> writer(ch, window), "relay-log-writer");
      w.setDaemon(true);
      w.start();
    }
    Transport t = Transport.IO_URING.available() ? Transport.IO_URING : Transport.EPOLL.available() ? Transport.EPOLL : Transport.NIO;
    Vertx vertx = Vertx.builder().withTransport(t).build();
    vertx.createHttpServer(new HttpServerOptions().setPort(port).setHost("127.0.0.1"))
        .requestHandler(FloorRelay::handle)
        .listen()
        .onSuccess(s -> System.out.println("relay listening on " + s.actualPort() + " (" + t.name() + (log != null ? ", durable" : "") + ")"))
        .onFailure(e -> { e.printStackTrace(); System.exit(1); });
  }

  static void handle(HttpServerRequest req) {
    String path = req.path();
    if (path.equals("/v1/ws")) {
      String user = req.getParam("access_token");
      req.toWebSocket().onSuccess(ws -> {
        sockets.computeIfAbsent(user, u -> new CopyOnWriteArrayList<>()).add(ws);
        ws.closeHandler(v -> sockets.getOrDefault(user, List.of()).remove(ws));
        ws.textMessageHandler(text -> onFrame(user, ws, text));
      });
    } else if (path.equals("/health/ready")) {
      req.response().end("{\"status\":\"ready\"}");
    } else if (path.equals("/v1/dev/token")) {
      req.body().onSuccess(b -> req.response().putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("token", b.toJsonObject().getString("user")).encode()));
    } else if (path.equals("/v1/conversations") && req.method() == HttpMethod.POST) {
      String user = req.getHeader("Authorization").substring("Bearer ".length());
      req.body().onSuccess(b -> {
        List<String> m = new ArrayList<>();
        m.add(user);
        b.toJsonObject().getJsonArray("members").forEach(o -> m.add((String) o));
        String id = Long.toString(ids.getAndIncrement());
        members.put(id, m);
        req.response().putHeader("Content-Type", "application/json").end(new JsonObject().put("id", id).encode());
      });
    } else {
      req.response().setStatusCode(404).end("{\"code\":\"not_found\"}");
    }
  }

  static void onFrame(String user, ServerWebSocket ws, String text) {
    JsonObject f = new JsonObject(text);
    String op = f.getString("op");
    if ("ping".equals(op)) {
      ws.writeTextMessage("{\"op\":\"pong\"}");
      return;
    }
    if (!"send".equals(op)) {
      return;
    }
    String conv = f.getString("conv");
    String msgId = f.getString("msg_id");
    long id = ids.getAndIncrement();
    long ts = System.currentTimeMillis();
    String msg = new JsonObject().put("op", "msg").put("conv", conv).put("id", Long.toString(id)).put("from", user)
        .put("ts", ts).put("msg_id", msgId).put("body", f.getString("body")).encode();
    String ack = new JsonObject().put("op", "ack").put("msg_id", msgId).put("conv", conv).put("id", Long.toString(id))
        .put("ts", ts).encode();
    Runnable reply = () -> {
      ws.writeTextMessage(ack);
      for (String m : members.getOrDefault(conv, List.of())) {
        for (ServerWebSocket s : sockets.getOrDefault(m, List.of())) {
          if (s != ws) {
            s.writeTextMessage(msg);
          }
        }
      }
    };
    if (log == null) {
      reply.run();
    } else {
      log.add(new Logged(msg.getBytes(StandardCharsets.UTF_8), Vertx.currentContext(), reply));
    }
  }

  /** Group commit: everything queued within a window is written, synced once, then answered on its context. */
  static void writer(FileChannel ch, long windowMs) {
    List<Logged> batch = new ArrayList<>();
    try {
      while (true) {
        batch.add(log.take());
        if (windowMs > 0) {
          Thread.sleep(windowMs);
        }
        log.drainTo(batch);
        for (Logged e : batch) {
          ch.write(ByteBuffer.wrap(e.bytes()));
        }
        ch.force(false);
        for (Logged e : batch) {
          e.ctx().runOnContext(v -> e.then().run());
        }
        batch.clear();
      }
    } catch (Exception e) {
      e.printStackTrace();
      System.exit(1);
    }
  }
}
