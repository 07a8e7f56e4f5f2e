package io.parley.limits;

import io.vertx.core.Context;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Whether this node keeps up with its work, told by the lag of its event loops: each watched loop
 * runs a timer every {@link #PERIOD_MS}, and how late it fires is how long work waits on that loop
 * before it runs (queued bus messages, fan-out deliveries, socket completions). A loop is
 * <em>behind</em> while that lag exceeds the bound: the last timer fired that late, or the next
 * one is already that overdue (a loop under seconds of queued work is seen at once, not when its
 * timer finally runs). The node is <em>overloaded</em> only while a loop stays behind, two timers
 * in a row (the last two, or the last and the overdue next one): one late timer is a pause (a
 * collection, the machine's scheduler, a cold path), not a backlog, and shedding for it would
 * refuse sends the node can serve. Cheap to ask from any thread: a few volatile reads and a clock
 * read per loop.
 *
 * <p>Used for two decisions (issue 18, item 7): routing sheds new sends while any watched loop is
 * behind ({@code unavailable}: clients retry later with the same {@code msg_id}), so what it
 * accepted is delivered at a bounded delay instead of queueing without bound; and a gateway does
 * not judge its sockets slow readers while its own loop is behind, because then the server, not
 * the client, is what does not keep up.
 */
public final class LoadMonitor {
  /** How often a watched loop's timer fires: the lag's resolution and the signal's cost (40 tasks/s per loop). */
  public static final long PERIOD_MS = 25;

  private final long lagMaxNanos;
  private final LongSupplier clock;
  private final List<Loop> loops = new CopyOnWriteArrayList<>();

  /**
   * @param lagMaxMs the lag past which a loop is behind; 0: never behind (monitoring off)
   * @param clock nanoseconds, {@link System#nanoTime} but in tests
   */
  public LoadMonitor(long lagMaxMs, LongSupplier clock) {
    if (lagMaxMs < 0) {
      throw new IllegalArgumentException("lagMaxMs must be >= 0: " + lagMaxMs);
    }
    this.lagMaxNanos = TimeUnit.MILLISECONDS.toNanos(lagMaxMs);
    this.clock = clock;
  }

  public LoadMonitor(long lagMaxMs) {
    this(lagMaxMs, System::nanoTime);
  }

  /** A monitor that never reports a loop behind. */
  public static LoadMonitor off() {
    return new LoadMonitor(0);
  }

  public boolean enabled() {
    return lagMaxNanos > 0;
  }

  /**
   * Starts timing the event loop of {@code context} (a verticle's, from its {@code start()}); the
   * timers stop with the verticle's undeployment, or at {@link Loop#stop()}. When the monitor is
   * off, returns a loop that is never behind and sets no timer.
   */
  public Loop watch(Context context) {
    Loop loop = new Loop();
    if (enabled()) {
      loops.add(loop);
      context.runOnContext(v -> loop.arm(context));
    }
    return loop;
  }

  /** Whether a watched loop stays behind (two timers in a row): the node does not keep up with what it was given. */
  public boolean overloaded() {
    if (!enabled()) {
      return false;
    }
    long now = clock.getAsLong();
    for (Loop loop : loops) {
      if (loop.sustainedLagNanos(now) > lagMaxNanos) {
        return true;
      }
    }
    return false;
  }

  /** The largest lag of the watched loops now, in nanoseconds (0 when off or none is watched). */
  public long lagNanos() {
    long now = clock.getAsLong();
    long max = 0;
    for (Loop loop : loops) {
      max = Math.max(max, loop.lagNanos(now));
    }
    return max;
  }

  /** One watched event loop. */
  public final class Loop {
    /** When the pending timer is due ({@link #clock}); {@link Long#MAX_VALUE} while none is. */
    private volatile long due = Long.MAX_VALUE;
    /** How late the last timer fired, and the one before it. */
    private volatile long lastLag;
    private volatile long previousLag;
    private volatile boolean stopped;

    private Loop() {}

    private void arm(Context context) {
      if (stopped) {
        return;
      }
      due = clock.getAsLong() + TimeUnit.MILLISECONDS.toNanos(PERIOD_MS);
      context.owner().setTimer(PERIOD_MS, id -> fired(context));
    }

    /** Runs on the loop; also what a test calls to play a timer firing. */
    void fired(Context context) {
      previousLag = lastLag;
      lastLag = Math.max(0, clock.getAsLong() - due);
      arm(context);
    }

    /**
     * Sets this loop's state as if its timer was due at {@code due} and the last two fired
     * {@code previousLag}, then {@code lastLag} late (tests).
     */
    void set(long due, long previousLag, long lastLag) {
      this.due = due;
      this.previousLag = previousLag;
      this.lastLag = lastLag;
    }

    private long lagNanos(long now) {
      return stopped ? 0 : Math.max(lastLag, overdue(now));
    }

    /** The lag two timers in a row had at least: the last two, or the last and the overdue next. */
    private long sustainedLagNanos(long now) {
      long last = lastLag;
      return stopped ? 0 : Math.max(Math.min(previousLag, last), Math.min(last, overdue(now)));
    }

    /** How long the pending timer is overdue (0 before the first is armed: the clock may be any long). */
    private long overdue(long now) {
      long d = due;
      return d == Long.MAX_VALUE ? 0 : now - d;
    }

    /** Whether this loop is behind now (never when the monitor is off). */
    public boolean behind() {
      return enabled() && !stopped && lagNanos(clock.getAsLong()) > lagMaxNanos;
    }

    /** Stops timing this loop: it is never behind again. */
    public void stop() {
      stopped = true;
      loops.remove(this);
    }
  }
}
