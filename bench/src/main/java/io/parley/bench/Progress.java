package io.parley.bench;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Prints a progress line to stderr every second from a daemon thread until closed. */
final class Progress implements AutoCloseable {
  private final ScheduledExecutorService timer;
  private final long startNanos = System.nanoTime();

  Progress(String prefix, Supplier<String> line) {
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "bench-progress");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleAtFixedRate(() -> {
      long s = Math.round((System.nanoTime() - startNanos) / 1e9);
      try {
        System.err.println(prefix + "t=" + s + "s " + line.get());
      } catch (RuntimeException e) {
        System.err.println(prefix + "t=" + s + "s (progress failed: " + e + ")");
      }
    }, 1, 1, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
