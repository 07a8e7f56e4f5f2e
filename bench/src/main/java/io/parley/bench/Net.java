package io.parley.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.transport.Transport;
import java.util.concurrent.TimeUnit;

/**
 * Owns the Vert.x instance of the load generator, the pooled HTTP client used for REST set-up
 * calls and the websocket clients: one per local source address when {@code sources > 0}
 * (127.0.0.2 .. 127.0.0.(1+sources)), otherwise a single client with an OS-chosen source.
 */
final class Net implements AutoCloseable {
  final Vertx vertx;
  final HttpClientAgent http;
  private final WebSocketClient[] wsClients;

  Net(Common common, int sources) {
    this(common, sources, common.port);
  }

  /** As above, with REST calls and websockets going to {@code port} by default (a server the bench launched). */
  Net(Common common, int sources, int port) {
    // the server's transport (io_uring, else epoll): cheaper socket calls leave more of the
    // generator's core for generating
    vertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(common.eventLoops))
        .withTransport(transport(System.getProperty("parley.transport", "auto"))).build();
    http = vertx.createHttpClient(
        new HttpClientOptions()
            .setDefaultHost(common.host)
            .setDefaultPort(port)
            .setKeepAlive(true)
            .setConnectTimeout(10_000),
        new PoolOptions().setHttp1MaxSize(Math.min(64, common.concurrency)));
    int n = Math.max(1, sources);
    wsClients = new WebSocketClient[n];
    for (int i = 0; i < n; i++) {
      WebSocketClientOptions opts = new WebSocketClientOptions()
          .setDefaultHost(common.host)
          .setDefaultPort(port)
          .setConnectTimeout(30_000)
          // the default (50) would queue connections per endpoint; the bench wants them all open
          .setMaxConnections(1_000_000)
          .setMaxFrameSize(1 << 20)
          .setMaxMessageSize(4 << 20);
      if (sources > 0) {
        opts.setLocalAddress("127.0.0." + (2 + i));
      }
      wsClients[i] = vertx.createWebSocketClient(opts);
    }
  }

  /** Websocket client to use for the connection with global index {@code connIndex}. */
  WebSocketClient wsClientFor(long connIndex) {
    return wsClients[(int) (connIndex % wsClients.length)];
  }

  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      System.err.println("warning: vertx close: " + e);
    }
  }

  /**
   * {@code -Dparley.transport}: auto (io_uring where the kernel offers it, else epoll, else NIO),
   * io_uring, epoll or nio — the same names as the server's {@code transport} key.
   */
  static Transport transport(String choice) {
    return switch (choice) {
      case "auto" -> Transport.IO_URING.available() ? Transport.IO_URING
          : Transport.EPOLL.available() ? Transport.EPOLL : Transport.NIO;
      case "io_uring" -> Transport.IO_URING;
      case "epoll" -> Transport.EPOLL;
      case "nio" -> Transport.NIO;
      default -> throw new IllegalArgumentException("parley.transport must be auto, io_uring, epoll or nio, not '" + choice + "'");
    };
  }
}
