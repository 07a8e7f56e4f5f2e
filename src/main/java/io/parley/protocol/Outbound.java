package io.parley.protocol;

/**
 * A frame on its way to every connection of a user on this node. {@code serverId} is 0 for
 * signals (receipts, typing), the message id for {@code msg} frames; {@code skipConnection} is the
 * connection that sent the message (it gets an ack instead), or null. {@link #wire()} is the frame
 * as a WebSocket text frame, encoded once here for every connection it goes to.
 */
public final class Outbound {
  private final long conv;
  private final long serverId;
  private final String frame;
  private final String skipConnection;
  private final byte[] wire;

  public Outbound(long conv, long serverId, String frame, String skipConnection) {
    this.conv = conv;
    this.serverId = serverId;
    this.frame = frame;
    this.skipConnection = skipConnection;
    this.wire = WireFrame.text(frame);
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
    return wire;
  }

  public boolean isMessage() {
    return serverId > 0;
  }

  @Override
  public String toString() {
    return "Outbound[conv=" + conv + ", serverId=" + serverId + ", frame=" + frame + ", skipConnection=" + skipConnection + "]";
  }
}
