package io.parley.protocol;

/**
 * A frame on its way to every connection of a user on this node. {@code serverId} is 0 for
 * signals (receipts, typing), the message id for {@code msg} frames; {@code skipConnection} is the
 * connection that sent the message (it gets an ack instead), or null.
 */
public record Outbound(long conv, long serverId, String frame, String skipConnection) {

  public boolean isMessage() {
    return serverId > 0;
  }
}
