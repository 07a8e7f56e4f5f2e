package io.parley.e2e;

import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.function.Consumer;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A TCP proxy on loopback that delays every chunk, in each direction, by a delay the test sets at
 * any moment (with jitter), keeping each direction's byte order: storage latency injected between
 * real nodes and a real server, the way a slow disk or a congested network would add it.
 */
final class DelayProxy implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final NetServer server;
  /** Bytes received and forwarded, both directions together (for a failing test to describe). */
  final java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
  final java.util.concurrent.atomic.AtomicLong forwarded = new java.util.concurrent.atomic.AtomicLong();
  private volatile long delayMs;
  private volatile long jitterMs;

  /** A proxy to {@code host:port}, listening on a free loopback port ({@link #port()}). */
  DelayProxy(String host, int port) {
    server = vertx.createNetServer().connectHandler(in -> {
      // handlers at once: bytes the client sends before the upstream connection is up are queued
      Future<NetSocket> upstream = vertx.createNetClient().connect(port, host)
          .onSuccess(out -> pipe(out, Future.succeededFuture(in)))
          .onFailure(e -> in.close());
      pipe(in, upstream);
    });
    Await.result("the delay proxy to listen", server.listen(0, "127.0.0.1"), Duration.ofSeconds(10));
  }

  /** A proxy to {@code hostPort} ({@code host:port}). */
  static DelayProxy to(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    return new DelayProxy(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
  }

  int port() {
    return server.actualPort();
  }

  /** From now on every chunk waits {@code delayMs} plus up to {@code jitterMs} more. */
  void delay(long delayMs, long jitterMs) {
    this.jitterMs = jitterMs;
    this.delayMs = delayMs;
  }

  /**
   * Forwards {@code from} to {@code to} (once connected), each chunk once its delay has passed, in
   * arrival order: a FIFO per direction drained by one timer at a time (timers of their own could
   * fire out of order).
   */
  private void pipe(NetSocket from, Future<NetSocket> to) {
    ArrayDeque<Object[]> queue = new ArrayDeque<>(); // {due nanos, Buffer or null for close}
    boolean[] timerSet = {false};
    Runnable[] drain = new Runnable[1];
    drain[0] = () -> {
      timerSet[0] = false;
      long now = System.nanoTime();
      while (to.succeeded() && !queue.isEmpty() && (long) queue.peek()[0] <= now) {
        Object[] head = queue.poll();
        if (head[1] == null) {
          to.result().close();
        } else {
          forwarded.addAndGet(((Buffer) head[1]).length());
          to.result().write((Buffer) head[1]);
        }
      }
      if (to.failed()) {
        queue.clear();
      } else if (!queue.isEmpty()) {
        timerSet[0] = true;
        long waitMs = to.succeeded() ? Math.max(1, ((long) queue.peek()[0] - now + 999_999) / 1_000_000) : 1;
        vertx.setTimer(waitMs, id -> drain[0].run());
      }
    };
    Consumer<Buffer> enqueue = chunk -> {
      long jitter = jitterMs > 0 ? ThreadLocalRandom.current().nextLong(jitterMs + 1) : 0;
      queue.add(new Object[] {System.nanoTime() + (delayMs + jitter) * 1_000_000, chunk});
      if (!timerSet[0]) {
        drain[0].run();
      }
    };
    from.handler(chunk -> {
      received.addAndGet(chunk.length());
      enqueue.accept(chunk.copy());
    });
    from.closeHandler(v -> enqueue.accept(null));
  }

  @Override
  public void close() {
    Await.result("the delay proxy to close", vertx.close(), Duration.ofSeconds(10));
  }
}
