package io.parley.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.transport.Transport;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The start-up line names the transport Vert.x really runs on, without Vert.x internals. */
class TransportsTest {

  private static String nameOf(String choice) throws Exception {
    Vertx vertx = Transports.builder(new VertxOptions(), choice).build();
    try {
      return Transports.name(choice, vertx);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void nioIsNamedNio() throws Exception {
    assertThat(nameOf("nio")).isEqualTo("nio");
  }

  @Test
  void autoIsNamedAfterTheTransportItPickedWhenThatLoaded() throws Exception {
    Transport picked = Transports.pick("auto");
    String expected = picked.available() ? picked.name() : "nio";
    assertThat(nameOf("auto")).isIn("io_uring", "epoll", "nio").isEqualTo(expected);
  }

  @Test
  void aNativeTransportThatCannotLoadIsNamedNio() throws Exception {
    for (String choice : new String[] {"io_uring", "epoll"}) {
      Transport t = Transports.pick(choice);
      assertThat(nameOf(choice)).isEqualTo(t.available() ? choice : "nio");
    }
  }
}
