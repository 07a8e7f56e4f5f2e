package io.parley.protocol;

import java.nio.charset.StandardCharsets;

/**
 * A server-to-client WebSocket frame in its wire form (RFC 6455 §5.2: FIN, unmasked, the shortest
 * length encoding). A text frame sent to many connections is encoded once and the same bytes are
 * written to each socket; control frames (close, pong) are built the same way.
 */
public final class WireFrame {
  static final int OP_TEXT = 0x1;
  static final int OP_CLOSE = 0x8;
  static final int OP_PONG = 0xA;
  /** A control frame's payload is at most 125 bytes (§5.5); a close reason, after its 2-byte code, 123. */
  private static final int CLOSE_REASON_MAX = 123;

  private WireFrame() {
  }

  public static byte[] text(String frame) {
    return frame(OP_TEXT, frame.getBytes(StandardCharsets.UTF_8));
  }

  /** A close frame with {@code code} and {@code reason}, the reason cut to fit (on a character boundary). */
  public static byte[] close(int code, String reason) {
    byte[] text = reason == null ? new byte[0] : reason.getBytes(StandardCharsets.UTF_8);
    int n = text.length;
    if (n > CLOSE_REASON_MAX) {
      n = CLOSE_REASON_MAX;
      while (n > 0 && (text[n] & 0xC0) == 0x80) {
        n--; // do not split a multi-byte character
      }
    }
    byte[] payload = new byte[2 + n];
    payload[0] = (byte) (code >>> 8);
    payload[1] = (byte) code;
    System.arraycopy(text, 0, payload, 2, n);
    return frame(OP_CLOSE, payload);
  }

  /** A close frame without a status code (the answer to a client's close that carried none). */
  public static byte[] closeWithoutCode() {
    return frame(OP_CLOSE, new byte[0]);
  }

  /** A pong answering a ping with {@code payload} (at most 125 bytes, as the ping's was). */
  public static byte[] pong(byte[] payload) {
    return frame(OP_PONG, payload);
  }

  private static byte[] frame(int opcode, byte[] payload) {
    int n = payload.length;
    int header = n < 126 ? 2 : n <= 0xFFFF ? 4 : 10;
    byte[] out = new byte[header + n];
    out[0] = (byte) (0x80 | opcode);
    if (n < 126) {
      out[1] = (byte) n;
    } else if (n <= 0xFFFF) {
      out[1] = 126;
      out[2] = (byte) (n >>> 8);
      out[3] = (byte) n;
    } else {
      out[1] = 127;
      for (int i = 0; i < 8; i++) {
        out[2 + i] = (byte) ((long) n >>> (56 - 8 * i));
      }
    }
    System.arraycopy(payload, 0, out, header, n);
    return out;
  }
}
