package io.parley.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.config.IpLimitSettings;
import io.vertx.core.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * {@link IpLimits}: per-address buckets of handshakes and REST requests, on a fake clock: the burst
 * passes and the next is refused with the seconds to wait, other addresses are unaffected, loopback
 * is exempt only when configured, an IPv6 /64 is one client, idle buckets are forgotten and the
 * number of addresses held is bounded.
 */
class IpLimitsTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  private IpLimits limits(IpLimitSettings s) {
    return new IpLimits(s, now::get);
  }

  private static SocketAddress at(String host) {
    return SocketAddress.inetSocketAddress(40000, host);
  }

  private void advanceMillis(long ms) {
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
  }

  @Test
  void theBurstPassesThenTheAddressWaitsWhileAnotherGoesOn() {
    IpLimits l = limits(new IpLimitSettings(2, 3, 0, 1, false, 1000));
    for (int i = 0; i < 3; i++) {
      assertThat(l.handshake(at("203.0.113.7"))).as("handshake %d of the burst", i).isZero();
    }
    assertThat(l.handshake(at("203.0.113.7"))).as("over the burst: 1 token at 2/s is 0.5 s, rounded up").isEqualTo(1);
    assertThat(l.handshake(at("203.0.113.8"))).as("another address has its own bucket").isZero();
    assertThat(l.rest(at("203.0.113.7"))).as("rest_per_s 0: REST unlimited").isZero();
    advanceMillis(500);
    assertThat(l.handshake(at("203.0.113.7"))).as("refilled one token after 0.5 s").isZero();
    assertThat(l.handshake(at("203.0.113.7"))).isEqualTo(1);
  }

  @Test
  void retryAfterIsTheTimeUntilTheNextToken() {
    IpLimits l = limits(new IpLimitSettings(0, 1, 1, 1, false, 1000));
    assertThat(l.rest(at("198.51.100.1"))).isZero();
    assertThat(l.rest(at("198.51.100.1"))).isEqualTo(1);
    IpLimits slow = limits(new IpLimitSettings(1, 1, 0, 1, false, 1000));
    assertThat(slow.handshake(at("198.51.100.1"))).isZero();
    advanceMillis(100);
    assertThat(slow.handshake(at("198.51.100.1"))).as("0.9 s to wait, rounded up").isEqualTo(1);
  }

  @Test
  void loopbackIsExemptOnlyWhenConfigured() {
    IpLimits exempt = limits(new IpLimitSettings(1, 1, 1, 1, true, 1000));
    for (String host : new String[] {"127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"}) {
      for (int i = 0; i < 5; i++) {
        assertThat(exempt.handshake(at(host))).as(host).isZero();
        assertThat(exempt.rest(at(host))).as(host).isZero();
      }
    }
    assertThat(exempt.tracked()).isZero();
    assertThat(exempt.rest(at("192.0.2.1"))).isZero();
    assertThat(exempt.rest(at("192.0.2.1"))).as("not loopback: limited").isEqualTo(1);

    IpLimits strict = limits(new IpLimitSettings(1, 1, 1, 1, false, 1000));
    assertThat(strict.handshake(at("127.0.0.1"))).isZero();
    assertThat(strict.handshake(at("127.0.0.1"))).isEqualTo(1);
    assertThat(strict.handshake(at("127.0.0.2"))).as("each loopback address is its own client").isZero();
  }

  @Test
  void anIpv6Slash64IsOneClientAndAMappedIpv4IsTheIpv4() {
    IpLimits l = limits(new IpLimitSettings(1, 1, 0, 1, false, 1000));
    assertThat(l.handshake(at("2001:db8:1:2::1"))).isZero();
    assertThat(l.handshake(at("2001:db8:1:2:ffff::9"))).as("same /64").isEqualTo(1);
    assertThat(l.handshake(at("2001:db8:1:3::1"))).as("another /64").isZero();
    assertThat(l.handshake(at("192.0.2.10"))).isZero();
    assertThat(l.handshake(at("::ffff:192.0.2.10"))).as("IPv4-mapped form of the same address").isEqualTo(1);
    assertThat(IpLimits.key(new byte[] {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 1, 0, 2, 9, 9, 9, 9, 9, 9, 9, 9}))
        .isEqualTo("2001:db8:1:2::/64");
  }

  @Test
  void idleAddressesAreForgottenOnceTheirBucketRefilled() {
    IpLimits l = limits(new IpLimitSettings(10, 20, 10, 20, false, 1000));
    for (int i = 1; i <= 50; i++) {
      assertThat(l.handshake(at("10.0.0." + i))).isZero();
      assertThat(l.rest(at("10.0.0." + i))).isZero();
    }
    assertThat(l.tracked()).isEqualTo(100);
    advanceMillis(1_000);
    l.handshake(at("10.0.1.1"));
    assertThat(l.tracked()).as("a second in, nothing has refilled: no sweep yet").isEqualTo(101);
    // burst 20 at 10/s refills in 2 s: the sweep runs then and forgets every full bucket
    advanceMillis(1_500);
    l.handshake(at("10.0.1.2"));
    l.rest(at("10.0.1.2"));
    assertThat(l.tracked()).as("only the buckets used within the refill period stay")
        .isBetween(2, 3);
  }

  @Test
  void aFloodOfAddressesIsBounded() {
    IpLimits l = limits(new IpLimitSettings(1, 5, 0, 1, false, 100));
    for (int i = 0; i < 10_000; i++) {
      l.handshake(at("10." + (i >> 16 & 0xff) + "." + (i >> 8 & 0xff) + "." + (i & 0xff)));
      assertThat(l.tracked()).isLessThanOrEqualTo(100);
    }
  }

  @Test
  void zeroRatesTurnBothOff() {
    IpLimits l = limits(IpLimitSettings.OFF);
    for (int i = 0; i < 1000; i++) {
      assertThat(l.handshake(at("192.0.2.1"))).isZero();
      assertThat(l.rest(at("192.0.2.1"))).isZero();
    }
    assertThat(l.tracked()).isZero();
  }
}
