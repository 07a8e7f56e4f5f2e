package io.parley.app;

import io.parley.config.ConfigException;
import io.parley.config.ConfigLoader;
import io.parley.config.ParleyConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Starts one node: {@code java -jar target/parley.jar}. A bad configuration exits 2 with a message
 * naming the key; a failed start exits 1. SIGTERM (and SIGINT) drain: stop accepting, close every
 * socket with 1012, flush storage, exit 0.
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
    CountDownLatch stopping = new CountDownLatch(1);
    Signal.handle(new Signal("TERM"), s -> stopping.countDown());
    Signal.handle(new Signal("INT"), s -> stopping.countDown());
    stopping.await();
    LOG.info("shutting down: draining connections and flushing storage");
    CountDownLatch stopped = new CountDownLatch(1);
    node.stop().onComplete(ar -> {
      if (ar.failed()) {
        LOG.error("shutdown error", ar.cause());
      }
      stopped.countDown();
    });
    boolean clean = stopped.await(30, TimeUnit.SECONDS);
    LOG.info(clean ? "stopped" : "stop timed out");
    System.exit(clean ? 0 : 1);
  }
}
