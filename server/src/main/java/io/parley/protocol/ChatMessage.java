package io.parley.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** One stored message: the {@code msg} frame's fields. */
public record ChatMessage(long conv, long serverId, String from, String msgId, String body, JsonArray media, long ts) {

  /** The {@code msg} frame, encoded once: the same text is stored, delivered and served by history. */
  public String toFrame() {
    return JsonText.object(w -> w
        .string("op", "msg")
        .idString("conv", conv)
        .idString("server_id", serverId)
        .string("from", from)
        .string("msg_id", msgId)
        .string("body", body)
        .raw("media", media == null || media.isEmpty() ? "[]" : media.encode())
        .number("ts", ts));
  }

  public static ChatMessage fromFrame(String frame) {
    JsonObject o = new JsonObject(frame);
    return new ChatMessage(
        Long.parseLong(o.getString("conv")),
        Long.parseLong(o.getString("server_id")),
        o.getString("from"),
        o.getString("msg_id"),
        o.getString("body"),
        o.getJsonArray("media"),
        o.getLong("ts"));
  }
}
