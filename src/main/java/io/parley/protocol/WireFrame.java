package io.parley.protocol;

import java.nio.charset.StandardCharsets;

/**
 * A server-to-client WebSocket text frame in its wire form (RFC 6455 §5.2: FIN, opcode text,
 * unmasked, the shortest length encoding). A frame sent to many connections is encoded once and
 * the same bytes are written to each socket.
 */
public final class WireFrame {
  private WireFrame() {
  }

  public static byte[] text(String frame) {
    byte[] payload = frame.getBytes(StandardCharsets.UTF_8);
    int n = payload.length;
    int header = n < 126 ? 2 : n <= 0xFFFF ? 4 : 10;
    byte[] out = new byte[header + n];
    out[0] = (byte) 0x81;
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
