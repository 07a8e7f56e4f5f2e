package io.parley.presence;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import java.nio.charset.StandardCharsets;

/**
 * {@link PresenceChange}s by reference within a node and in a compact binary form between nodes: a
 * version byte, online (one byte), last seen (a long), then the user id (length and UTF-8 bytes). A
 * node that reads a version it does not know fails loudly instead of misreading the rest.
 */
public final class PresenceChangeCodec implements MessageCodec<PresenceChange, PresenceChange> {
  static final byte VERSION = 1;

  @Override
  public void encodeToWire(Buffer buffer, PresenceChange c) {
    byte[] user = c.user().getBytes(StandardCharsets.UTF_8);
    buffer.appendByte(VERSION).appendByte((byte) (c.online() ? 1 : 0)).appendLong(c.lastSeen())
        .appendInt(user.length).appendBytes(user);
  }

  @Override
  public PresenceChange decodeFromWire(int pos, Buffer buffer) {
    byte version = buffer.getByte(pos);
    if (version != VERSION) {
      throw new IllegalStateException("presence change of wire version " + version + "; this node reads version "
          + VERSION + " (nodes of different versions in one cluster?)");
    }
    boolean online = buffer.getByte(pos + 1) != 0;
    long lastSeen = buffer.getLong(pos + 2);
    int length = buffer.getInt(pos + 10);
    String user = buffer.getString(pos + 14, pos + 14 + length, StandardCharsets.UTF_8.name());
    return new PresenceChange(user, online, lastSeen);
  }

  @Override
  public PresenceChange transform(PresenceChange c) {
    return c;
  }

  @Override
  public String name() {
    return "parley.presence-change";
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
