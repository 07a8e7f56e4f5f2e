package io.parley.protocol;

/**
 * A frame on its way to every connection of a user on this node. {@code serverId} is 0 for
 * signals (receipts, typing), the message id for {@code msg} frames; {@code skipConnection} is the
 * connection that sent the message (it gets an ack instead), or null. {@link #wire()} is the frame
 * as a WebSocket text frame, encoded once, on first use, for every connection it goes to (a node
 * that only forwards the delivery to other nodes never encodes it).
 */
public final class Outbound {
  private final long conv;
  private final long serverId;
  private final String frame;
  private final String skipConnection;
  /** Written once, racily: two threads may both encode it, and either result is the same. */
  private volatile byte[] wire;

  public Outbound(long conv, long serverId, String frame, String skipConnection) {
    this.conv = conv;
    this.serverId = serverId;
    this.frame = frame;
    this.skipConnection = skipConnection;
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
    return "Outbound[conv=" + conv + ", serverId=" + serverId + ", frame=" + frame + ", skipConnection=" + skipConnection + "]";
  }
}
