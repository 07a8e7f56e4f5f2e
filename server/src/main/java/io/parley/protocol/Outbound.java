package io.parley.protocol;

/**
 * A frame on its way to every connection of a user on this node. {@code serverId} is 0 for
 * signals (receipts, typing), the message id for {@code msg} frames; {@code skipConnection} is the
 * connection that sent the message (it gets an ack instead), or null; {@code prev} is the id of the
 * conversation's message routed just before this one (0: not known), which the gateway uses to
 * find live messages that never reached a connection. {@link #wire()} is the frame
 * as a WebSocket text frame, encoded once, on first use, for every connection it goes to (a node
 * that only forwards the delivery to other nodes never encodes it).
 */
public final class Outbound {
  private final long conv;
  private final long serverId;
  private final String frame;
  private final String skipConnection;
  private final long prev;
  /** Written once, racily: two threads may both encode it, and either result is the same. */
  private volatile byte[] wire;

  public Outbound(long conv, long serverId, String frame, String skipConnection) {
    this(conv, serverId, frame, skipConnection, 0);
  }

  public Outbound(long conv, long serverId, String frame, String skipConnection, long prev) {
    this.conv = conv;
    this.serverId = serverId;
    this.frame = frame;
    this.skipConnection = skipConnection;
    this.prev = prev;
  }

  public long conv() {
    return conv;
  }

  public long serverId() {
    return serverId;
  }

  public String frame() {
    return frame;
  }

  public String skipConnection() {
    return skipConnection;
  }

  /** The id of the conversation's previous message as routing saw it; 0 when not known. */
  public long prev() {
    return prev;
  }

  /**
   * The message's {@code ts} (epoch ms: when the server accepted it), read from the end of its
   * {@code msg} frame, where {@link ChatMessage#toFrame()} writes it last; 0 for a signal or a frame
   * of another shape. For {@code parley_send_deliver_seconds}: it travels inside the frame, so a
   * delivery from another node carries it without a field of its own.
   */
  public long ts() {
    if (serverId <= 0) {
      return 0;
    }
    int end = frame.length() - 1;
    if (end < 0 || frame.charAt(end) != '}') {
      return 0;
    }
    long ts = 0;
    long scale = 1;
    int i = end - 1;
    for (; i >= 0 && i > end - 20; i--) {
      char c = frame.charAt(i);
      if (c < '0' || c > '9') {
        break;
      }
      ts += (c - '0') * scale;
      scale *= 10;
    }
    return i >= 4 && i < end - 1 && frame.startsWith("\"ts\":", i - 4) ? ts : 0;
  }

  /** The encoded WebSocket frame; shared, never to be modified. */
  public byte[] wire() {
    byte[] w = wire;
    if (w == null) {
      w = WireFrame.text(frame);
      wire = w;
    }
    return w;
  }

  public boolean isMessage() {
    return serverId > 0;
  }

  @Override
  public String toString() {
    return "Outbound[conv=" + conv + ", serverId=" + serverId + ", frame=" + frame + ", skipConnection=" + skipConnection
        + ", prev=" + prev + "]";
  }
}
