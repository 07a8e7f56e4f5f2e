package io.parley.push;

import io.vertx.core.json.JsonObject;

/**
 * One notification owed to one device about one message, as push's durable queue keeps it
 * ({@link PushQueue}). It carries the registration it was decided for, so the queue needs no
 * look-up to send it; a registration replaced meanwhile only makes the provider answer "gone" for
 * the old address, which is then removed only if nobody holds it ({@link PushRegistrations#removeAddress}).
 *
 * @param at epoch millis when fan-out handed the message to push: the age spill-over measures
 */
public record PushJob(PushRegistration device, long conv, long serverId, String from, String preview, long at) {

  /** The coalescing key: one notification stream per (user, device, conversation). */
  public String slot() {
    return device.user() + '\u0000' + device.device() + '\u0000' + conv;
  }

  public String user() {
    return device.user();
  }

  /** The job as the queue stores it (JSON; version field {@code v} for readers of older records). */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("v", 1)
        .put("user", device.user()).put("device", device.device())
        .put("reg", device.toStored())
        .put("conv", conv).put("server_id", serverId).put("from", from).put("at", at);
    if (preview != null) {
      json.put("preview", preview);
    }
    return json;
  }

  /** @throws IllegalArgumentException when {@code json} is not a job this version can read */
  public static PushJob fromJson(JsonObject json) {
    try {
      if (json.getInteger("v", 0) != 1) {
        throw new IllegalArgumentException("push job version " + json.getValue("v") + ", this node reads 1");
      }
      PushRegistration reg = PushRegistration.fromStored(json.getString("user"), json.getString("device"),
          json.getJsonObject("reg"));
      if (reg.user() == null || reg.device() == null || reg.provider() == null || reg.address() == null) {
        throw new IllegalArgumentException("push job without user, device, provider or address");
      }
      return new PushJob(reg, json.getLong("conv"), json.getLong("server_id"), json.getString("from"),
          json.getString("preview"), json.getLong("at"));
    } catch (ClassCastException | NullPointerException e) {
      throw new IllegalArgumentException("not a push job: " + e.getMessage(), e);
    }
  }
}
