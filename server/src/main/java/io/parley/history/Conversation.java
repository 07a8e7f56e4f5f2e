package io.parley.history;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * A conversation's row. {@code members} is the full member list as the store knows it; the REST
 * body shows it only up to the small-group size.
 */
public record Conversation(
    long id, String type, String name, String owner, long createdAt, int membersCount, long lastMessageId,
    List<String> members) {

  public static final String DM = "dm";
  public static final String GROUP = "group";

  public boolean isDm() {
    return DM.equals(type);
  }

  /** Activity order key: the newest message id, or the conversation's own id when it has none. */
  public long activity() {
    return Math.max(id, lastMessageId);
  }

  public JsonObject toJson(int inlineMembersMax) {
    JsonObject o = new JsonObject()
        .put("id", Long.toString(id))
        .put("type", type)
        .put("name", name)
        .put("owner", owner);
    if (members != null && members.size() <= inlineMembersMax) {
      o.put("members", new JsonArray(List.copyOf(members)));
    }
    return o.put("members_count", membersCount)
        .put("created_at", createdAt)
        .put("last_message_id", lastMessageId > 0 ? Long.toString(lastMessageId) : null);
  }

  public Conversation withLastMessageId(long id) {
    return new Conversation(this.id, type, name, owner, createdAt, membersCount, id, members);
  }
}
