package io.parley.protocol;

import io.parley.protocol.DeliveryCodec.WireFormatException;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;

/**
 * The pieces Parley's event-bus wire codecs share ({@link DeliveryCodec}, the fan-out's batch
 * codec): strings as a length-prefixed UTF-8 run (-1 for null), and counts checked against the
 * bytes left before anything is allocated for them, so a malformed buffer fails with a
 * {@link WireFormatException} naming the codec instead of an allocation or an index error.
 */
public final class WireStrings {
  private WireStrings() {}

  /** Appends {@code s} (or null) to {@code b}. */
  public static void put(Buffer b, String s) {
    if (s == null) {
      b.appendInt(-1);
      return;
    }
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    b.appendInt(bytes.length).appendBytes(bytes);
  }

  /** Reads a string {@link #put} wrote at {@code at[0]}, moving {@code at[0]} past it. */
  public static String get(Buffer b, int[] at, String codec) {
    int len = b.getInt(at[0]);
    at[0] += 4;
    if (len == -1) {
      return null;
    }
    count(len, b, at[0], 1, "string bytes", codec);
    String s = b.getString(at[0], at[0] + len, "UTF-8");
    at[0] += len;
    return s;
  }

  /** {@code n}, when {@code n} items of at least {@code minBytes} each fit in the bytes after {@code at}. */
  public static int count(int n, Buffer buffer, int at, int minBytes, String what, String codec) {
    if (n < 0 || (long) n * minBytes > buffer.length() - at) {
      throw new WireFormatException(codec + ": " + n + " " + what + " cannot fit in the "
          + (buffer.length() - at) + " bytes left");
    }
    return n;
  }
}
