package io.parley.push;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class RetryAfterTest {
  private static final long NOW = Instant.parse("2026-12-02T10:00:00Z").toEpochMilli();

  @Test
  void secondsAndHttpDates() {
    assertThat(RetryAfter.millis("30", NOW)).isEqualTo(30_000);
    assertThat(RetryAfter.millis(" 0 ", NOW)).isZero();
    assertThat(RetryAfter.millis("Wed, 02 Dec 2026 10:00:45 GMT", NOW)).isEqualTo(45_000);
    assertThat(RetryAfter.millis("Wed, 02 Dec 2026 09:00:00 GMT", NOW)).as("a date in the past").isZero();
  }

  @Test
  void absentOrUnreadableIsMinusOne() {
    assertThat(RetryAfter.millis(null, NOW)).isEqualTo(-1);
    assertThat(RetryAfter.millis("", NOW)).isEqualTo(-1);
    assertThat(RetryAfter.millis("soon", NOW)).isEqualTo(-1);
    assertThat(RetryAfter.millis("-5", NOW)).isEqualTo(-1);
  }

  @Test
  void capsAtADay() {
    assertThat(RetryAfter.millis("9999999", NOW)).isEqualTo(86_400_000L);
  }
}
