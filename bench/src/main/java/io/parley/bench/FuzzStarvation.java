package io.parley.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Tells a blocked event loop from a starved one. Every 10 ms it reads, for each of the node's
 * event-loop threads, the time the kernel kept it runnable but off the CPU (the second field of
 * {@code /proc/<pid>/task/<tid>/schedstat}, run-queue wait in ns). A blocked-thread warning ("blocked
 * for D ms" at t) is the machine's doing when one of those threads waited in the run queue during
 * [t − D, t] for so long that, without that wait, the task would have stayed under the limit;
 * otherwise it is the node's, and a finding. Linux only; elsewhere nothing is explained.
 */
final class FuzzStarvation {
  private static final long SAMPLE_MS = 10;
  /** How far a sample may lie outside a warning's span and still bound it. */
  private static final long SLACK_MS = 30;
  private static final Pattern WARNING = Pattern.compile("^(\\d\\d:\\d\\d:\\d\\d\\.\\d{3}) .*has been blocked for (\\d+) ms");

  private final long pid;
  private final long limitMs;
  /** Per event-loop TID: samples of {epoch ms, run-queue wait ns}; guarded by itself. */
  private final Map<String, List<long[]>> samples = new HashMap<>();
  private final Thread thread;

  FuzzStarvation(long pid, long limitMs) {
    this.pid = pid;
    this.limitMs = limitMs;
    thread = new Thread(this::run, "fuzz-starvation");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    List<String> loops = List.of();
    long refreshed = 0;
    while (!Thread.currentThread().isInterrupted()) {
      long now = System.currentTimeMillis();
      if (now - refreshed >= 1000) {
        loops = eventLoops();
        refreshed = now;
      }
      for (String tid : loops) {
        long wait = runQueueWaitNs(tid);
        if (wait >= 0) {
          synchronized (samples) {
            samples.computeIfAbsent(tid, k -> new ArrayList<>()).add(new long[] {now, wait});
          }
        }
      }
      try {
        Thread.sleep(SAMPLE_MS); // the sampling period; nothing waits on it
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** The node's threads named vert.x-eventloop-thread-N (the kernel keeps 15 characters of a name). */
  private List<String> eventLoops() {
    try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      return tasks.filter(t -> {
        try {
          return Files.readString(t.resolve("comm")).startsWith("vert.x-eventloo");
        } catch (IOException e) {
          return false;
        }
      }).map(t -> t.getFileName().toString()).toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private long runQueueWaitNs(String tid) {
    try {
      String[] f = Files.readString(Path.of("/proc", Long.toString(pid), "task", tid, "schedstat")).trim().split(" ");
      return Long.parseLong(f[1]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * Whether a warning line of the node's log ("HH:mm:ss.SSS … has been blocked for N ms", this
   * machine's local time) is explained by run-queue wait: some event loop waited at least N − limit
   * ms during the blocked span.
   */
  boolean explains(String warningLine) {
    Matcher m = WARNING.matcher(warningLine);
    if (!m.find()) {
      return false;
    }
    LocalDateTime at = LocalDateTime.now().with(LocalTime.parse(m.group(1)));
    if (at.isAfter(LocalDateTime.now().plusMinutes(1))) {
      at = at.minusDays(1);
    }
    long end = at.atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
    long blocked = Long.parseLong(m.group(2));
    long start = end - blocked;
    synchronized (samples) {
      for (List<long[]> s : samples.values()) {
        long[] before = null;
        long[] after = null;
        for (long[] x : s) {
          if (x[0] <= start && x[0] >= start - SLACK_MS) {
            before = x;
          }
          if (x[0] >= end && x[0] <= end + SLACK_MS && after == null) {
            after = x;
          }
        }
        if (before != null && after != null && (after[1] - before[1]) / 1_000_000 >= blocked - limitMs) {
          return true;
        }
      }
    }
    return false;
  }

  /** The most run-queue wait (ms) one event loop accumulated while sampled, and how many loops were sampled. */
  String summary() {
    long max = 0;
    synchronized (samples) {
      for (List<long[]> s : samples.values()) {
        if (s.size() > 1) {
          max = Math.max(max, (s.get(s.size() - 1)[1] - s.get(0)[1]) / 1_000_000);
        }
      }
      return max + " ms (most of " + samples.size() + " event loops)";
    }
  }

  void stop() {
    thread.interrupt();
  }
}
