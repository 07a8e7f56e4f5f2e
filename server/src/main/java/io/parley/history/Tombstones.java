package io.parley.history;

import io.parley.protocol.ChatMessage;
import io.vertx.core.json.JsonObject;

/**
 * What a taken-down message leaves behind (see {@link MessageStore#takedown}): its stored frame
 * is replaced, in every adapter, by a {@code deleted} frame with the message's ids, sender and time
 * and no body or media. It is also what connected members get live, so a client removes the message
 * it already shows. History and sync never return it; a retry of the original send (same sender and
 * {@code msg_id}) is still recognised as a duplicate.
 */
public final class Tombstones {
  private static final String PREFIX = "{\"op\":\"deleted\"";

  private Tombstones() {}

  /** The tombstone frame of a message taken down at {@code at} (epoch ms). */
  public static String frame(ChatMessage m, long at) {
    return new JsonObject().put("op", "deleted").put("conv", Long.toString(m.conv()))
        .put("server_id", Long.toString(m.serverId())).put("from", m.from()).put("msg_id", m.msgId())
        .put("ts", m.ts()).put("deleted_at", at).encode();
  }

  /** Whether a stored frame is a tombstone. */
  public static boolean is(String frame) {
    return frame.startsWith(PREFIX);
  }

  /**
   * The message a stored frame stands for: the message itself, or for a tombstone its ids, sender
   * and time with an empty body (what a duplicate send of it is acked with).
   */
  public static ChatMessage message(String frame) {
    if (!is(frame)) {
      return ChatMessage.fromFrame(frame);
    }
    JsonObject o = new JsonObject(frame);
    return new ChatMessage(Long.parseLong(o.getString("conv")), Long.parseLong(o.getString("server_id")),
        o.getString("from"), o.getString("msg_id"), "", null, o.getLong("ts"));
  }
}
