package io.parley.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads the resident set size of a local process from /proc/PID/status (VmRSS). */
final class ServerRss {
  private ServerRss() {
  }

  /** RSS in bytes, or -1 if unavailable (no pid, process gone, not Linux). */
  static long read(long pid) {
    if (pid <= 0) {
      return -1;
    }
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          String[] parts = line.substring(6).trim().split("\\s+");
          return Long.parseLong(parts[0]) * 1024L;
        }
      }
    } catch (IOException | RuntimeException e) {
      System.err.println("warning: cannot read RSS of pid " + pid + ": " + e);
    }
    return -1;
  }

  static String mib(long bytes) {
    return bytes < 0 ? "n/a" : String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
  }
}
