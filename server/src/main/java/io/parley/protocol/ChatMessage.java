package io.parley.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** One stored message: the {@code msg} frame's fields. */
public record ChatMessage(long conv, long serverId, String from, String msgId, String body, JsonArray media, long ts) {

  /** The {@code msg} frame, encoded once: the same text is stored, delivered and served by history. */
  public String toFrame() {
    return JsonText.object(g -> {
      g.writeStringField("op", "msg");
      g.writeStringField("conv", Long.toString(conv));
      g.writeStringField("server_id", Long.toString(serverId));
      g.writeStringField("from", from);
      g.writeStringField("msg_id", msgId);
      g.writeStringField("body", body);
      g.writeFieldName("media");
      if (media == null || media.isEmpty()) {
        g.writeStartArray();
        g.writeEndArray();
      } else {
        g.writeRawValue(media.encode());
      }
      g.writeNumberField("ts", ts);
    });
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
