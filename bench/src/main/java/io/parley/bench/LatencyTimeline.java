package io.parley.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Send→deliver latency per second of the schedule (by each message's scheduled time), so a stall
 * shows as the second it began in, with a wall-clock stamp to line it up with the server's GC log
 * or RocksDB's LOG. Written with {@code --timeline FILE} as CSV.
 */
final class LatencyTimeline {
  /** Latencies above a minute all count as a minute: the timeline is for locating stalls. */
  private static final long MAX_MICROS = 60_000_000L;
  private final Histogram[] seconds;
  private volatile long t0Nanos;
  private volatile long t0EpochMillis;

  LatencyTimeline(int secondsMax) {
    seconds = new Histogram[Math.max(1, secondsMax)];
  }

  /** The schedule's origin: nanoTime and the wall clock at the same moment. */
  void start(long t0Nanos) {
    long nowNanos = System.nanoTime();
    this.t0EpochMillis = System.currentTimeMillis() + (t0Nanos - nowNanos) / 1_000_000;
    this.t0Nanos = t0Nanos;
  }

  void record(long scheduledNanos, long latencyMicros) {
    long s = Math.floorDiv(scheduledNanos - t0Nanos, 1_000_000_000L);
    if (s < 0 || s >= seconds.length) {
      return;
    }
    Histogram h = seconds[(int) s];
    if (h == null) {
      synchronized (this) {
        h = seconds[(int) s];
        if (h == null) {
          h = new ConcurrentHistogram(1, MAX_MICROS, 2);
          seconds[(int) s] = h;
        }
      }
    }
    h.recordValue(Math.max(1, Math.min(MAX_MICROS, latencyMicros)));
  }

  List<String> lines() {
    List<String> out = new ArrayList<>();
    out.add("second,epoch_ms,deliveries,p50_ms,p99_ms,max_ms");
    for (int s = 0; s < seconds.length; s++) {
      Histogram h = seconds[s];
      if (h == null || h.getTotalCount() == 0) {
        continue;
      }
      out.add(String.format(Locale.ROOT, "%d,%d,%d,%.2f,%.2f,%.2f", s, t0EpochMillis + s * 1000L, h.getTotalCount(),
          h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0));
    }
    return out;
  }

  void write(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.write(file, lines());
  }
}
