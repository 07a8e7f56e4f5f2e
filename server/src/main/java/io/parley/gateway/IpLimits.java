package io.parley.gateway;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import io.netty.util.NetUtil;
import io.parley.config.IpLimitSettings;
import io.vertx.core.net.SocketAddress;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Per-remote-IP token buckets of one node ({@code limits.ip.*}): one for WebSocket handshakes, one
 * for REST requests. A node-local limit is what protects a node, so the buckets live in this
 * process (Bucket4j local buckets, safe for every gateway instance's event loop at once) and one
 * instance serves all of a node's gateway instances. An IPv6 client is counted by its /64, which
 * one host usually holds whole.
 *
 * <p>Bounded: a bucket that has refilled is the same as a new one, so a sweep (at most once per
 * refill period, on a request) forgets every full bucket; past {@code trackedMax} addresses it
 * also forgets arbitrary ones, which only ever errs towards allowing.
 */
public final class IpLimits {
  private final IpLimitSettings settings;
  private final Limit handshakes;
  private final Limit rest;

  /** @param nanoClock a monotonic clock in nanoseconds ({@link System#nanoTime} outside tests) */
  IpLimits(IpLimitSettings settings, LongSupplier nanoClock) {
    this.settings = settings;
    this.handshakes = settings.handshakesPerSecond() > 0
        ? new Limit(settings.handshakesPerSecond(), settings.handshakeBurst(), settings.trackedMax(), nanoClock) : null;
    this.rest = settings.restPerSecond() > 0
        ? new Limit(settings.restPerSecond(), settings.restBurst(), settings.trackedMax(), nanoClock) : null;
  }

  public IpLimits(IpLimitSettings settings) {
    this(settings, System::nanoTime);
  }

  /** Seconds a client at {@code remote} should wait before its next handshake; 0 when it may go on now. */
  long handshake(SocketAddress remote) {
    return take(handshakes, remote);
  }

  /** Seconds a client at {@code remote} should wait before its next REST request; 0 when it may go on now. */
  long rest(SocketAddress remote) {
    return take(rest, remote);
  }

  /** Addresses whose handshake and REST buckets are held (for tests of the bound and the eviction). */
  int tracked() {
    return (handshakes == null ? 0 : handshakes.buckets.size()) + (rest == null ? 0 : rest.buckets.size());
  }

  private long take(Limit limit, SocketAddress remote) {
    if (limit == null || remote == null) {
      return 0;
    }
    String host = remote.hostAddress();
    if (host == null) {
      return 0; // a Unix domain socket: a local client
    }
    byte[] ip = NetUtil.createByteArrayFromIpAddressString(host);
    if (ip != null && ip.length == 16 && isIpv4Mapped(ip)) {
      ip = new byte[] {ip[12], ip[13], ip[14], ip[15]};
    }
    if (ip != null && settings.exemptLoopback() && isLoopback(ip)) {
      return 0;
    }
    return limit.take(ip == null ? host : key(ip));
  }

  /** The bucket key of an address: the IPv4 address, or an IPv6 address's /64 prefix. */
  static String key(byte[] ip) {
    if (ip.length == 4) {
      return (ip[0] & 0xff) + "." + (ip[1] & 0xff) + "." + (ip[2] & 0xff) + "." + (ip[3] & 0xff);
    }
    StringBuilder sb = new StringBuilder(24);
    for (int i = 0; i < 8; i += 2) {
      sb.append(Integer.toHexString(((ip[i] & 0xff) << 8) | (ip[i + 1] & 0xff))).append(':');
    }
    return sb.append(":/64").toString();
  }

  private static boolean isIpv4Mapped(byte[] ip) {
    for (int i = 0; i < 10; i++) {
      if (ip[i] != 0) {
        return false;
      }
    }
    return (ip[10] & 0xff) == 0xff && (ip[11] & 0xff) == 0xff;
  }

  private static boolean isLoopback(byte[] ip) {
    if (ip.length == 4) {
      return (ip[0] & 0xff) == 127;
    }
    for (int i = 0; i < 15; i++) {
      if (ip[i] != 0) {
        return false;
      }
    }
    return ip[15] == 1;
  }

  /** One kind of bucket per address. */
  private static final class Limit {
    final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
    final int ratePerSecond;
    final int burst;
    final int trackedMax;
    final TimeMeter clock;
    /** How long an unused bucket takes to refill from empty: the sweep's period. */
    final long refillNanos;
    final AtomicLong nextSweep;
    final AtomicBoolean sweeping = new AtomicBoolean();

    Limit(int ratePerSecond, int burst, int trackedMax, LongSupplier nanoClock) {
      this.ratePerSecond = ratePerSecond;
      this.burst = burst;
      this.trackedMax = trackedMax;
      this.clock = new TimeMeter() {
        @Override
        public long currentTimeNanos() {
          return nanoClock.getAsLong();
        }

        @Override
        public boolean isWallClockBased() {
          return false;
        }
      };
      this.refillNanos = Math.max(TimeUnit.SECONDS.toNanos(1), (long) Math.ceil(burst * 1e9 / ratePerSecond));
      this.nextSweep = new AtomicLong(nanoClock.getAsLong() + refillNanos);
    }

    long take(String key) {
      ConsumptionProbe probe = buckets.computeIfAbsent(key, k -> Bucket.builder()
              .addLimit(l -> l.capacity(burst).refillGreedy(ratePerSecond, Duration.ofSeconds(1)))
              .withCustomTimePrecision(clock)
              .build())
          .tryConsumeAndReturnRemaining(1);
      long now = clock.currentTimeNanos();
      long due = nextSweep.get();
      if ((now - due >= 0 && nextSweep.compareAndSet(due, now + refillNanos)) || buckets.size() > trackedMax) {
        sweep();
      }
      return probe.isConsumed() ? 0 : Math.max(1, TimeUnit.NANOSECONDS.toSeconds(probe.getNanosToWaitForRefill() + 999_999_999L));
    }

    /** Forgets every refilled bucket, then arbitrary ones until at most 90 % of {@code trackedMax} remain. */
    private void sweep() {
      if (!sweeping.compareAndSet(false, true)) {
        return; // another event loop is at it
      }
      try {
        // conditional removal: a bucket a request takes from meanwhile may still go, which lets
        // that address have one more token at most
        buckets.entrySet().removeIf(e -> e.getValue().getAvailableTokens() >= burst);
        int target = trackedMax - Math.max(1, trackedMax / 10);
        Iterator<Map.Entry<String, Bucket>> it = buckets.entrySet().iterator();
        while (buckets.size() > target && it.hasNext()) {
          it.next();
          it.remove();
        }
      } finally {
        sweeping.set(false);
      }
    }
  }
}
