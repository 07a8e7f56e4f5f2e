package io.parley.routing;

import io.parley.protocol.ChatMessage;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import java.util.List;

/**
 * The durable log every accepted send is written to before it is acked. An adapter assigns
 * strictly increasing server ids in batch order and deduplicates on (sender, client msg id):
 * a retry gets the original message back with {@code duplicate} set. A batch is one durable
 * write (group commit); its future completes only once the write is durable.
 */
public interface MessageLog {

  Future<List<Appended>> append(List<NewMessage> batch);

  record NewMessage(String from, String msgId, long conv, String body, JsonArray media) {}

  /** The message with its encoded {@code msg} frame (encoded once, reused for fan-out). */
  record Appended(ChatMessage message, String frame, boolean duplicate) {}
}
