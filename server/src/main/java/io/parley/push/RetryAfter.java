package io.parley.push;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** HTTP {@code Retry-After} (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. */
public final class RetryAfter {
  private RetryAfter() {}

  /**
   * Milliseconds to wait from {@code nowMs}; -1 when the header is absent or unreadable, 0 for a
   * date in the past.
   */
  public static long millis(String header, long nowMs) {
    if (header == null || header.isBlank()) {
      return -1;
    }
    String h = header.trim();
    try {
      long seconds = Long.parseLong(h);
      return seconds < 0 ? -1 : Math.min(seconds, 86_400) * 1000;
    } catch (NumberFormatException notSeconds) {
      try {
        long at = ZonedDateTime.parse(h, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
        return Math.max(0, Math.min(at - nowMs, 86_400_000L));
      } catch (DateTimeParseException notDate) {
        return -1;
      }
    }
  }
}
