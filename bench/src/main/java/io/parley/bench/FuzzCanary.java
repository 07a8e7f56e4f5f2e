package io.parley.bench;

import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tells a blocked event loop from a starved machine. A thread of the fuzzer's, idle but for a 5 ms
 * sleep, notes every time it woke 50 ms or more late: then no thread got the CPU it asked for, the
 * node's included. A blocked-thread warning whose blocked span overlaps such a stall (±50 ms) is the
 * machine's doing, and reported as such; one with no stall around it is the node's, and a finding.
 * The canary runs at the node's priority (started before the fuzzer renices its own threads, and
 * left out of that).
 */
final class FuzzCanary {
  static final String THREAD_NAME = "fuzz-canary";
  private static final long SLEEP_MS = 5;
  private static final long STALL_MS = 50;
  private static final Pattern WARNING = Pattern.compile("^(\\d\\d:\\d\\d:\\d\\d\\.\\d{3}) .*has been blocked for (\\d+) ms");

  /** Stalls as [from, to] epoch milliseconds; guarded by itself. */
  private final List<long[]> stalls = new ArrayList<>();
  private final Thread thread;

  FuzzCanary() {
    thread = new Thread(this::run, THREAD_NAME);
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    long last = System.currentTimeMillis();
    while (!Thread.currentThread().isInterrupted()) {
      try {
        Thread.sleep(SLEEP_MS); // the measurement itself: how late the wake-up comes
      } catch (InterruptedException e) {
        return;
      }
      long now = System.currentTimeMillis();
      if (now - last - SLEEP_MS >= STALL_MS) {
        synchronized (stalls) {
          stalls.add(new long[] {last, now});
        }
      }
      last = now;
    }
  }

  int stallCount() {
    synchronized (stalls) {
      return stalls.size();
    }
  }

  /**
   * Whether a warning line of the node's log ("HH:mm:ss.SSS … has been blocked for N ms", the local
   * time of this machine, today or just before midnight) falls on a stall of the canary.
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
    long start = end - Long.parseLong(m.group(2));
    synchronized (stalls) {
      for (long[] s : stalls) {
        if (s[0] <= end + STALL_MS && s[1] >= start - STALL_MS) {
          return true;
        }
      }
    }
    return false;
  }

  void stop() {
    thread.interrupt();
  }
}
