package io.parley.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the resident set size of a local process from /proc/PID/status (VmRSS), and its CPU time
 * from /proc/PID/stat.
 */
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

  /**
   * CPU time of a local process in microseconds as {user, system}, or null if unavailable. System
   * time is the kernel's work on the process's behalf: its system calls, and on loopback also the
   * TCP processing of what it sends, up to the receiving socket.
   */
  static long[] cpuSplitMicros(long pid) {
    if (pid <= 0) {
      return null;
    }
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      // fields after "(comm)": state is the first, utime the 12th, stime the 13th
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return new long[] {Long.parseLong(f[11]) * 10_000L, Long.parseLong(f[12]) * 10_000L};
    } catch (IOException | RuntimeException e) {
      System.err.println("warning: cannot read CPU time of pid " + pid + ": " + e);
      return null;
    }
  }

  static String mib(long bytes) {
    return bytes < 0 ? "n/a" : String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
  }
}
