package io.parley.gateway;

import java.util.Random;

/**
 * When each of a draining gateway's connections is let go: the window is cut into one slot per
 * connection and each connection closes at a random moment inside its own slot. Closes are jittered
 * (clients do not reconnect in lockstep) yet never bunch: any second of the window holds at most
 * {@code ceil(n * 1000 / windowMs) + 1} of them.
 */
final class DrainSchedule {
  private DrainSchedule() {}

  /** Offsets from the drain's start (ms), ascending, one per connection; all 0 for a window of 0. */
  static long[] offsets(int n, long windowMs, Random random) {
    long[] at = new long[n];
    if (windowMs <= 0 || n == 0) {
      return at;
    }
    double slot = (double) windowMs / n;
    for (int i = 0; i < n; i++) {
      at[i] = Math.min(windowMs - 1, (long) ((i + random.nextDouble()) * slot));
    }
    return at;
  }
}
