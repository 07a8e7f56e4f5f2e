package io.parley.app;

import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.transport.Transport;

/**
 * The socket transport: io_uring where the kernel offers it, else epoll, else Java NIO. The
 * {@code transport} key (io_uring, epoll or nio) forces one; a transport that cannot load falls back
 * to NIO, with Vert.x's warning. The bench reads the same name from {@code -Dparley.transport}.
 */
public final class Transports {
  public static final String PROPERTY = "parley.transport";

  private Transports() {
  }

  public static Transport pick(String choice) {
    return switch (choice) {
      case "auto" -> Transport.IO_URING.available() ? Transport.IO_URING
          : Transport.EPOLL.available() ? Transport.EPOLL : Transport.NIO;
      case "io_uring" -> Transport.IO_URING;
      case "epoll" -> Transport.EPOLL;
      case "nio" -> Transport.NIO;
      default -> throw new IllegalArgumentException("transport must be auto, io_uring, epoll or nio, not '" + choice + "'");
    };
  }

  public static VertxBuilder builder(VertxOptions options, String choice) {
    return Vertx.builder().with(options).withTransport(pick(choice));
  }

  /**
   * The transport {@code vertx} runs on, for the start-up line: io_uring, epoll or nio. It was built
   * by {@link #builder} with {@code choice}; a native transport that could not load left it on NIO.
   */
  public static String name(String choice, Vertx vertx) {
    return vertx.isNativeTransportEnabled() ? pick(choice).name() : Transport.NIO.name();
  }
}
