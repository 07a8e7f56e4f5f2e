package io.parley.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * Bookkeeping for the open-loop message scenarios (dm, group). Message {@code k} has msg_id
 * {@code "k"}. With tick arrivals (the default) it is scheduled at {@code t0 + k / rate} and is sent
 * by member {@code (k / convs) % groupSize} of conversation {@code k % convs}; so the scheduled
 * time, the conversation and the sender are all derived from the msg_id without a lookup map, and
 * every conversation sends on a regular beat. With Poisson arrivals ({@link #poisson}) the
 * aggregate arrivals are a Poisson process with the same rate profile and each goes to a sender
 * drawn uniformly from all members of all conversations, so each connection sends as an
 * independent Poisson process; the time and sender of each message are then kept in arrays.
 *
 * <p>Per message the tracker keeps a state byte and one delivery bit per conversation member
 * (atomically or-ed by the recipient connection's event loop), which gives exactly-once
 * checking per (recipient connection, conv, msg_id) in about one bit per expected delivery.
 * Latencies are measured from the scheduled time (coordinated-omission correct).
 */
final class MessageTracker implements WsConn.Listener {
  private static final byte NOT_SENT = 0;
  private static final byte SENT = 1;
  private static final byte ACKED = 2;
  private static final byte ERRORED = 3;
  private static final byte SEND_FAILED = 4;
  private static final VarHandle BYTES = MethodHandles.arrayElementVarHandle(byte[].class);
  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

  final int convs;
  final int groupSize;
  final long total;
  private final double nanosPerMessage;
  private final byte[] state;
  private final long[] deliveredBits;
  private final int words;
  private volatile long t0;
  private volatile long warmupEnd;
  private volatile long windowEnd;
  private volatile long warmupNanos;
  private volatile double rampFrom = 1;
  /** Messages due in the warm-up (not rounded). */
  private volatile double rampMessages;
  /**
   * Poisson arrivals only (else null): message k's position on the unit-rate schedule (its
   * expected message count, mapped to a time by {@link #scheduledNanos(double)}; dropped by
   * {@link #start}), its scheduled time (set by {@link #start}) and its sender connection
   * ({@code conv * groupSize + member}).
   */
  private double[] positions;
  private volatile long[] sched;
  private final int[] senders;

  final LongAdder sent = new LongAdder();
  final LongAdder sendFailed = new LongAdder();
  final LongAdder acked = new LongAdder();
  final LongAdder erroredMessages = new LongAdder();
  final LongAdder errorFrames = new LongAdder();
  final LongAdder duplicateAcks = new LongAdder();
  final LongAdder delivered = new LongAdder();
  final LongAdder duplicates = new LongAdder();
  final LongAdder selfEchoes = new LongAdder();
  final LongAdder foreign = new LongAdder();
  final LongAdder unexpectedCloses = new LongAdder();
  final LongAdder badFrames = new LongAdder();
  final LongAdder windowAcks = new LongAdder();
  final LongAdder windowDeliveries = new LongAdder();
  final Map<String, LongAdder> errorsByCode = new ConcurrentHashMap<>();
  final Histogram ackLatency = Population.newHistogram();
  final Histogram deliverLatency = Population.newHistogram();
  /** Send→deliver per second of the schedule ({@code --timeline}), or null. */
  volatile LatencyTimeline timeline;

  MessageTracker(int convs, int groupSize, double rate, long total) {
    this(convs, groupSize, rate, total, null, null);
  }

  private MessageTracker(int convs, int groupSize, double rate, long total, double[] positions, int[] senders) {
    if (total > Integer.MAX_VALUE - 16) {
      throw new Options.UsageException("too many messages (" + total + "); lower --rate or --duration");
    }
    this.convs = convs;
    this.groupSize = groupSize;
    this.total = total;
    this.nanosPerMessage = 1e9 / rate;
    this.words = (groupSize + 63) / 64;
    long bitsLen = total * words;
    if (bitsLen > Integer.MAX_VALUE - 16) {
      throw new Options.UsageException("too many message deliveries to track; lower --rate or --duration");
    }
    state = new byte[(int) total];
    deliveredBits = new long[(int) bitsLen];
    this.positions = positions;
    this.senders = senders;
  }

  /**
   * A tracker with Poisson arrivals: unit-rate arrival positions (sums of Exp(1) draws) up to the
   * run's expected message count, each mapped through the ramp's time function by {@link #start},
   * so the aggregate process is Poisson with the rate profile of tick arrivals (the ramp, then the
   * rate). Each arrival goes to a sender drawn uniformly among all {@code convs * groupSize}
   * members; by splitting, every member's sends are an independent Poisson process of rate
   * R / senders. The number of messages is random (about that of {@link #totalMessages}); the same
   * seed gives the same schedule. {@link #start} must get the same warm-up, duration and ramp.
   */
  static MessageTracker poisson(int convs, int groupSize, double rate, double warmupSeconds, double durationSeconds,
      double rampFrom, long seed) {
    double end = rate * (warmupSeconds * (1 + rampFrom) / 2 + durationSeconds);
    long users = (long) convs * groupSize;
    if (end > Integer.MAX_VALUE / 2 || users > Integer.MAX_VALUE) {
      throw new Options.UsageException("too many messages (" + (long) end + "); lower --rate or --duration");
    }
    SplittableRandom random = new SplittableRandom(seed);
    int capacity = (int) (end + 6 * Math.sqrt(end)) + 16;
    double[] positions = new double[capacity];
    int[] senders = new int[capacity];
    int n = 0;
    for (double u = -Math.log(1 - random.nextDouble()); u < end; u += -Math.log(1 - random.nextDouble())) {
      if (n == positions.length) {
        positions = Arrays.copyOf(positions, n * 2);
        senders = Arrays.copyOf(senders, n * 2);
      }
      positions[n] = u;
      senders[n] = random.nextInt((int) users);
      n++;
    }
    return new MessageTracker(convs, groupSize, rate, n, Arrays.copyOf(positions, n), Arrays.copyOf(senders, n));
  }

  /** Whether arrivals are Poisson ({@link #poisson}) rather than ticks. */
  boolean poisson() {
    return senders != null;
  }

  /**
   * Messages in a run: the warm-up's, at a rate rising linearly from {@code rampFrom} x rate to the
   * rate, then the measured window's at the rate.
   */
  static long totalMessages(double rate, double warmupSeconds, double durationSeconds, double rampFrom) {
    return (long) Math.ceil(rate * (warmupSeconds * (1 + rampFrom) / 2 + durationSeconds));
  }

  /**
   * Fixes the time origin of the schedule and the measured window [t0+warmup, t0+warmup+duration);
   * during the warm-up the rate rises linearly from {@code rampFrom} x rate to the rate.
   */
  void start(long t0Nanos, long warmupNanos, long durationNanos, double rampFrom) {
    warmupEnd = t0Nanos + warmupNanos;
    windowEnd = warmupEnd + durationNanos;
    this.warmupNanos = warmupNanos;
    this.rampFrom = rampFrom;
    rampMessages = warmupNanos * (1 + rampFrom) / 2 / nanosPerMessage;
    t0 = t0Nanos;
    if (positions != null) {
      long[] times = new long[positions.length];
      for (int k = 0; k < times.length; k++) {
        times[k] = scheduledNanos(positions[k]);
      }
      positions = null;
      sched = times;
    }
  }

  /** When message k is due: for ticks at position k of the schedule, for Poisson arrivals as drawn. */
  long scheduledNanos(long k) {
    long[] times = sched;
    return times != null ? times[(int) k] : scheduledNanos((double) k);
  }

  /**
   * When the schedule has reached position k (k messages due at the rate profile). In the warm-up,
   * k messages are due by time t when k = (a t + (1 - a) t^2 / 2W) / p (rate 1/p, ramp from a over
   * W); solved for t.
   */
  long scheduledNanos(double k) {
    if (k >= rampMessages) {
      return warmupEnd + (long) ((k - rampMessages) * nanosPerMessage);
    }
    double a = rampFrom;
    double w = warmupNanos;
    double t = a == 1 ? k * nanosPerMessage
        : (-a + Math.sqrt(a * a + 2 * (1 - a) * k * nanosPerMessage / w)) * w / (1 - a);
    return t0 + (long) t;
  }

  /** Whether message k is due in the measured window (not the warm-up). */
  boolean measured(long k) {
    return scheduledNanos(k) >= warmupEnd;
  }

  long windowNanos() {
    return windowEnd - warmupEnd;
  }

  int convOf(long k) {
    return senders != null ? senders[(int) k] / groupSize : (int) (k % convs);
  }

  /** Message k's sender: its member index in its conversation. */
  int senderOf(long k) {
    return senders != null ? senders[(int) k] % groupSize : (int) ((k / convs) % groupSize);
  }

  /** Called by the scheduler before writing message k. */
  void markSent(long k) {
    BYTES.setVolatile(state, (int) k, SENT);
    sent.increment();
  }

  /** Called by the scheduler when message k could not be written (connection closed). */
  void markSendFailed(long k) {
    BYTES.setVolatile(state, (int) k, SEND_FAILED);
    sendFailed.increment();
  }

  @Override
  public void onFrame(WsConn conn, String op, Frame frame) {
    switch (op) {
      case "msg":
        onMsg(conn, frame);
        break;
      case "ack":
        onAck(frame);
        break;
      case "error":
        onError(frame);
        break;
      default:
        break;
    }
  }

  @Override
  public void onUnexpectedClose(WsConn conn) {
    unexpectedCloses.increment();
    System.err.println("warning: connection " + conn.user + "/" + conn.device + " closed by the server");
  }

  @Override
  public void onBadFrame(WsConn conn, String text) {
    badFrames.increment();
  }

  private void onAck(Frame frame) {
    long now = System.nanoTime();
    long k = seqOf(frame);
    if (k < 0) {
      foreign.increment();
      return;
    }
    byte prev = (byte) BYTES.compareAndExchange(state, (int) k, SENT, ACKED);
    if (prev == SENT) {
      acked.increment();
      long sched = scheduledNanos(k);
      if (sched >= warmupEnd) {
        Population.record(ackLatency, (now - sched) / 1000);
      }
      if (now >= warmupEnd && now < windowEnd) {
        windowAcks.increment();
      }
    } else if (prev == ACKED) {
      duplicateAcks.increment();
    } else {
      foreign.increment();
    }
  }

  private void onError(Frame frame) {
    errorFrames.increment();
    String code = frame.errorCode();
    errorsByCode.computeIfAbsent(code, c -> new LongAdder()).increment();
    long k = seqOf(frame);
    if (k >= 0 && (byte) BYTES.compareAndExchange(state, (int) k, SENT, ERRORED) == SENT) {
      erroredMessages.increment();
    }
  }

  private void onMsg(WsConn conn, Frame frame) {
    long now = System.nanoTime();
    if (conn.user.equals(frame.str("from"))) {
      selfEchoes.increment();
      return;
    }
    long k = seqOf(frame);
    if (k < 0 || !conn.conv.equals(frame.str("conv"))) {
      foreign.increment();
      return;
    }
    int bit = conn.memberIndex;
    long mask = 1L << (bit & 63);
    int word = (int) (k * words + (bit >>> 6));
    long old = (long) LONGS.getAndBitwiseOr(deliveredBits, word, mask);
    if ((old & mask) != 0) {
      duplicates.increment();
      return;
    }
    delivered.increment();
    long sched = scheduledNanos(k);
    if (sched >= warmupEnd) {
      Population.record(deliverLatency, (now - sched) / 1000);
    }
    LatencyTimeline tl = timeline;
    if (tl != null) {
      tl.record(sched, (now - sched) / 1000);
    }
    if (now >= warmupEnd && now < windowEnd) {
      windowDeliveries.increment();
    }
  }

  /** msg_id as a message number of this run, or -1 if it is not one. */
  private long seqOf(Frame frame) {
    String s = frame.str("msg_id");
    if (s == null) {
      return -1;
    }
    int n = s.length();
    if (n == 0 || n > 12) {
      return -1;
    }
    long v = 0;
    for (int i = 0; i < n; i++) {
      char ch = s.charAt(i);
      if (ch < '0' || ch > '9') {
        return -1;
      }
      v = v * 10 + (ch - '0');
    }
    return v < total ? v : -1;
  }

  /** Deliveries expected so far: every member but the sender, for every message not rejected. */
  long expectedDeliveries() {
    return (sent.sum() - sendFailed.sum() - erroredMessages.sum()) * (groupSize - 1);
  }

  /** True once every sent message was acked or rejected and every expected delivery arrived. */
  boolean drained() {
    long settled = acked.sum() + erroredMessages.sum() + sendFailed.sum();
    return settled >= sent.sum() && delivered.sum() >= expectedDeliveries();
  }

  long errorCount() {
    return errorFrames.sum();
  }

  Map<String, Long> errorsByCode() {
    Map<String, Long> m = new TreeMap<>();
    errorsByCode.forEach((k, v) -> m.put(k, v.sum()));
    return m;
  }

  /** Final loss accounting over messages 0..sentUpTo-1 (call after the drain). */
  Loss loss(long sentUpTo) {
    Loss l = new Loss();
    for (long k = 0; k < sentUpTo; k++) {
      byte st = (byte) BYTES.getVolatile(state, (int) k);
      int base = (int) (k * words);
      if (st == NOT_SENT) {
        continue;
      }
      if (st == ERRORED || st == SEND_FAILED) {
        for (int w = 0; w < words; w++) {
          if ((long) LONGS.getVolatile(deliveredBits, base + w) != 0) {
            l.deliveredDespiteError++;
            break;
          }
        }
        continue;
      }
      if (st == SENT) {
        l.unacked++;
      }
      int sender = senderOf(k);
      int missing = 0;
      for (int m = 0; m < groupSize; m++) {
        if (m == sender) {
          continue;
        }
        long bits = (long) LONGS.getVolatile(deliveredBits, base + (m >>> 6));
        if ((bits & (1L << (m & 63))) == 0) {
          missing++;
        }
      }
      if (missing > 0) {
        l.lostMessages++;
        l.lostDeliveries += missing;
        if (st == ACKED) {
          l.lostAckedDeliveries += missing;
        }
        if (missing == groupSize - 1) {
          l.lostEntirely++;
        }
      }
    }
    return l;
  }

  /** Result of {@link #loss}. */
  static final class Loss {
    long lostDeliveries;
    /** Missing deliveries of messages the server acknowledged (the unambiguous kind of loss). */
    long lostAckedDeliveries;
    long lostMessages;
    long lostEntirely;
    long unacked;
    long deliveredDespiteError;
  }
}
