package io.parley.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** One stored message: the {@code msg} frame's fields. */
public record ChatMessage(long conv, long serverId, String from, String msgId, String body, JsonArray media, long ts) {

  /** The {@code msg} frame, encoded once: the same text is stored, delivered and served by history. */
  public String toFrame() {
    return new JsonObject()
        .put("op", "msg")
        .put("conv", Long.toString(conv))
        .put("server_id", Long.toString(serverId))
        .put("from", from)
        .put("msg_id", msgId)
        .put("body", body)
        .put("media", media == null ? new JsonArray() : media)
        .put("ts", ts)
        .encode();
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
