package io.parley.routing;

import io.parley.protocol.ChatMessage;
import io.parley.protocol.ParleyException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import java.util.List;

/**
 * The durable log every accepted send is written to before it is acked. An adapter assigns
 * server ids that strictly increase within a conversation in batch order, and deduplicates on
 * (sender, client msg id): a retry gets the original message back with {@code duplicate} set.
 * The future of a batch completes only once all of it is durable (embedded: one group commit).
 * A failed batch may still have been written in part (Kafka: records acked before the failure);
 * its senders were not acked and retry, and the retry is recognised as a duplicate — by the
 * writer when it saw the ack, else by routing's archive, which then keeps the first copy.
 */
public interface MessageLog {

  Future<List<Appended>> append(List<NewMessage> batch);

  /**
   * @param connectionId the sending connection (it gets the ack, not the {@code msg}); null when
   *     unknown. Logs that hand messages on to routing (Kafka) carry it along.
   * @param first the send frame's {@code first} (true: the client's first attempt at this msg_id;
   *     false: a retry; null: not said). The Kafka log carries it to routing, whose archive skips
   *     the dedupe read of a first attempt; other logs ignore it.
   */
  record NewMessage(String from, String msgId, long conv, String body, JsonArray media, String connectionId,
      Boolean first) {
    public NewMessage(String from, String msgId, long conv, String body, JsonArray media) {
      this(from, msgId, conv, body, media, null);
    }

    public NewMessage(String from, String msgId, long conv, String body, JsonArray media, String connectionId) {
      this(from, msgId, conv, body, media, connectionId, null);
    }
  }

  /**
   * The message with its encoded {@code msg} frame (encoded once, reused for fan-out), or, when
   * {@code rejection} is not null, a send that storage refused (cluster profile: routing parked
   * its record in the dead-letter topic): not stored, not delivered, answered with the rejection's
   * code; {@code message} is then the send as logged and {@code frame} null.
   */
  record Appended(ChatMessage message, String frame, boolean duplicate, ParleyException rejection) {
    public Appended(ChatMessage message, String frame, boolean duplicate) {
      this(message, frame, duplicate, null);
    }
  }
}
