package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.testing.Await;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The test proxy forwards both directions intact and in order, with the delay it was given. */
class DelayProxyTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    Await.result(vertx.close(), Duration.ofSeconds(10));
  }

  @Test
  void forwardsEveryChunkBothWaysInOrderAfterTheDelay() throws Exception {
    NetServer echo = vertx.createNetServer().connectHandler(s -> s.handler(s::write));
    Await.result(echo.listen(0, "127.0.0.1"), Duration.ofSeconds(10));
    try (DelayProxy proxy = new DelayProxy("127.0.0.1", echo.actualPort());
        Socket client = new Socket("127.0.0.1", proxy.port())) {
      proxy.delay(20, 30);
      client.setSoTimeout(10_000);
      StringBuilder sent = new StringBuilder();
      OutputStream out = client.getOutputStream();
      long t0 = System.nanoTime();
      for (int i = 0; i < 200; i++) {
        String chunk = "chunk-" + i + ";";
        sent.append(chunk);
        out.write(chunk.getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
      byte[] want = sent.toString().getBytes(StandardCharsets.US_ASCII);
      byte[] got = new byte[want.length];
      InputStream in = client.getInputStream();
      for (int n = 0; n < got.length; ) {
        int r = in.read(got, n, got.length - n);
        assertThat(r).as("bytes read after %d of %d (proxy received %s, forwarded %s)", n, got.length,
            proxy.received, proxy.forwarded).isPositive();
        n += r;
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo(sent.toString());
      assertThat(ms).as("round trip through two delayed directions (ms)").isGreaterThanOrEqualTo(40);
    }
  }
}
