package io.parley.protocol;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Snowflake-style 63-bit ids: 41 bits of milliseconds since 2024-01-01, 10 bits of node id,
 * 12 bits of sequence. Ids from one generator strictly increase, also when the wall clock steps
 * back (the generator keeps counting from its last id) and across restarts (callers raise the
 * floor to the newest stored id with {@link #advancePast(long)}).
 */
public final class Ids {
  public static final long EPOCH_MS = 1704067200000L; // 2024-01-01T00:00:00Z
  private static final int NODE_BITS = 10;
  private static final int SEQ_BITS = 12;
  private static final long SEQ_MASK = (1L << SEQ_BITS) - 1;
  public static final int MAX_NODE = (1 << NODE_BITS) - 1;

  private final long nodeBits;
  private final AtomicLong last = new AtomicLong();

  public Ids(int nodeId) {
    if (nodeId < 0 || nodeId > MAX_NODE) {
      throw new IllegalArgumentException("node id must be 0.." + MAX_NODE + ": " + nodeId);
    }
    this.nodeBits = (long) nodeId << SEQ_BITS;
  }

  public long next() {
    while (true) {
      long prev = last.get();
      long candidate = ((System.currentTimeMillis() - EPOCH_MS) << (NODE_BITS + SEQ_BITS)) | nodeBits;
      long next;
      if (candidate > prev) {
        next = candidate;
      } else if ((prev & SEQ_MASK) < SEQ_MASK) {
        next = prev + 1;
      } else {
        // sequence exhausted in this millisecond: borrow the next millisecond
        next = (((prev >>> (NODE_BITS + SEQ_BITS)) + 1) << (NODE_BITS + SEQ_BITS)) | nodeBits;
      }
      if (last.compareAndSet(prev, next)) {
        return next;
      }
    }
  }

  /** Ensures every later id is greater than {@code id}. */
  public void advancePast(long id) {
    last.accumulateAndGet(id, Math::max);
  }

  /** Milliseconds since the Unix epoch encoded in an id. */
  public static long timestampOf(long id) {
    return (id >>> (NODE_BITS + SEQ_BITS)) + EPOCH_MS;
  }

  /** Parses a wire id (positive decimal 64-bit integer in a string); -1 when it is not one. */
  public static long parse(String s) {
    if (s == null || s.isEmpty() || s.length() > 19) {
      return -1;
    }
    long v = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
      if (v < 0) {
        return -1;
      }
    }
    return v;
  }
}
