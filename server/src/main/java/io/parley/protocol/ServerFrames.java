package io.parley.protocol;

import io.vertx.core.json.JsonObject;

/** Builds the frames the server sends. Each is encoded once and shared by every recipient. */
public final class ServerFrames {
  private ServerFrames() {}

  public static final String PONG = "{\"op\":\"pong\"}";

  public static String ack(String msgId, long conv, long serverId, long ts) {
    return JsonText.object(w -> w
        .string("op", "ack")
        .string("msg_id", msgId)
        .idString("conv", conv)
        .idString("server_id", serverId)
        .number("ts", ts));
  }

  public static String error(String msgId, Long conv, ErrorCode code, String message) {
    JsonObject o = new JsonObject().put("op", "error");
    if (msgId != null) {
      o.put("msg_id", msgId);
    }
    if (conv != null) {
      o.put("conv", Long.toString(conv));
    }
    return o.put("code", code.wire()).put("message", message).encode();
  }

  public static String receipt(long conv, long serverId, String user, String state) {
    return new JsonObject()
        .put("op", "receipt")
        .put("conv", Long.toString(conv))
        .put("server_id", Long.toString(serverId))
        .put("user", user)
        .put("state", state)
        .encode();
  }

  public static String typing(long conv, String user) {
    return new JsonObject().put("op", "typing").put("conv", Long.toString(conv)).put("user", user).encode();
  }

  public static String synced(long conv, boolean more) {
    return new JsonObject().put("op", "synced").put("conv", Long.toString(conv)).put("more", more).encode();
  }

  public static String presence(String user, boolean online, long lastSeen) {
    JsonObject o = new JsonObject().put("op", "presence").put("user", user).put("state", online ? "online" : "offline");
    o.put("last_seen", lastSeen > 0 ? lastSeen : null);
    return o.encode();
  }

  /**
   * Tells a client its node is going away: reconnect (to another node, or to this one once it is
   * back) within {@code withinMs}; the node closes the connection with 1012 within that window.
   */
  public static String reconnect(String reason, long withinMs) {
    return new JsonObject().put("op", "reconnect").put("reason", reason).put("within_ms", withinMs).encode();
  }
}
