package io.parley.app;

import io.parley.config.ConfigException;
import io.parley.config.ConfigLoader;
import io.parley.config.ParleyConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Starts one node: {@code java -jar target/parley.jar}. A bad configuration exits 2 with a message
 * naming the key; a failed start exits 1. SIGTERM (and SIGINT) drain: not ready and no new
 * connection from then on, every client told to reconnect and its connection closed (1012) within
 * {@code drain.window_ms}, spread out, each once its sends are answered; then storage is flushed and
 * the process exits 0. A second signal skips the rest of the window. {@code POST /admin/drain} on the
 * admin listener (with {@code admin.token}) does what a first SIGTERM does.
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    ParleyConfig config;
    try {
      Map<String, String> props = new HashMap<>();
      System.getProperties().forEach((k, v) -> props.put(k.toString(), v.toString()));
      config = ConfigLoader.load(System.getenv(), props);
    } catch (ConfigException e) {
      LOG.error("configuration error: {}", e.getMessage());
      System.exit(2);
      return;
    }
    Node node = new Node(config);
    // the admin listener's POST /admin/drain takes the path of a first SIGTERM (below)
    CountDownLatch stopping = new CountDownLatch(1);
    node.onDrainRequest(() -> {
      LOG.info("drain requested on the admin listener");
      stopping.countDown();
    });
    CountDownLatch started = new CountDownLatch(1);
    Throwable[] failure = new Throwable[1];
    node.start().onComplete(ar -> {
      failure[0] = ar.cause();
      started.countDown();
    });
    started.await();
    if (failure[0] != null) {
      LOG.error("startup failed: {}", failure[0].getMessage(), failure[0] instanceof ConfigException ? null : failure[0]);
      node.stop();
      System.exit(failure[0] instanceof ConfigException ? 2 : 1);
    }
    // the first signal drains, then stops; a second one cuts the drain's window short
    AtomicInteger signals = new AtomicInteger();
    SignalHandler onSignal = s -> {
      if (signals.incrementAndGet() == 1) {
        stopping.countDown();
      } else {
        LOG.info("second {}: closing the connections left now", s.getName());
        node.drainNow();
      }
    };
    Signal.handle(new Signal("TERM"), onSignal);
    Signal.handle(new Signal("INT"), onSignal);
    stopping.await();
    LOG.info("shutting down: draining connections over {} ms, then flushing storage", config.gateway().drain().windowMs());
    CountDownLatch stopped = new CountDownLatch(1);
    boolean clean;
    try {
      node.drain().compose(v -> node.stop()).onComplete(ar -> {
        if (ar.failed()) {
          LOG.error("shutdown error", ar.cause());
        }
        stopped.countDown();
      });
      clean = stopped.await(config.gateway().drain().timeoutMs() + 30_000, TimeUnit.MILLISECONDS);
    } catch (RuntimeException | Error e) {
      // the process must end whatever the stop threw: Vert.x's worker threads would keep it alive
      LOG.error("shutdown failed", e);
      clean = false;
    }
    LOG.info(clean ? "stopped" : "stop timed out or failed");
    System.exit(clean ? 0 : 1);
  }
}
