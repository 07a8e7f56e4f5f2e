package io.parley.storage.kafka;

import io.parley.protocol.ChatMessage;
import io.parley.routing.LogSource;
import io.parley.routing.MessageLog;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The record format of the message log, written and read only here.
 *
 * <ul>
 *   <li>key: the conversation id in decimal, so the default partitioner keeps every conversation
 *       in one partition (its order, and its ids, come from that partition);
 *   <li>value: the message without its server id, which the record's position gives it
 *       ({@link KafkaIds}): {@code {"conv":"<id>","from":..,"msg_id":..,"body":..,"media":[..],"ts":<ms>,"conn":<sending connection, when known>,"via":<the writing node, when known>,"first":<the send's first-attempt flag, when the client gave one>}}
 *       ({@code conv} as a string, as in every frame, since JSON numbers lose precision past 2<sup>53</sup>).
 * </ul>
 *
 * The writer's ack ({@link #message}) and the reader's view ({@link #decode}) build the same
 * {@link ChatMessage} for a record, so both encode the same {@code msg} frame.
 */
public final class KafkaRecords {

  private KafkaRecords() {}

  /** The record key of a conversation. */
  public static String key(long conv) {
    return Long.toString(conv);
  }

  /** The record value of a new message accepted at {@code ts} (epoch millis), written by an unnamed writer. */
  public static String encode(MessageLog.NewMessage m, long ts) {
    return encode(m, ts, null);
  }

  /**
   * The record value of a new message accepted at {@code ts} (epoch millis) by the intake of node
   * {@code via} (null: none), to which routing sends its verdict on the record.
   */
  public static String encode(MessageLog.NewMessage m, long ts, String via) {
    JsonObject o = new JsonObject()
        .put("conv", Long.toString(m.conv()))
        .put("from", m.from())
        .put("msg_id", m.msgId())
        .put("body", m.body())
        .put("media", m.media() == null ? new JsonArray() : m.media())
        .put("ts", ts);
    if (m.connectionId() != null) {
      o.put("conn", m.connectionId());
    }
    if (via != null) {
      o.put("via", via);
    }
    if (m.first() != null) {
      o.put("first", m.first());
    }
    return o.encode();
  }

  /**
   * The message a new message became once logged at {@code offset} of {@code partition}: what
   * {@link #decode} reads back from that record (media copied, absent media as an empty list).
   */
  public static ChatMessage message(MessageLog.NewMessage m, long ts, int partition, long offset) {
    return new ChatMessage(m.conv(), KafkaIds.serverId(partition, offset), m.from(), m.msgId(), m.body(),
        m.media() == null ? new JsonArray() : m.media().copy(), ts);
  }

  /**
   * The logged message of the record at {@code offset} of {@code partition}.
   *
   * @throws IllegalArgumentException when {@code value} is not a message record (not JSON, a
   *     field missing or of the wrong type) or the position gives no valid id
   */
  public static LogSource.Logged decode(int partition, long offset, String value) {
    if (value == null) {
      throw new IllegalArgumentException("record has no value");
    }
    try {
      JsonObject o = new JsonObject(value);
      long conv = Long.parseLong(required(o, "conv"));
      Long ts = o.getLong("ts");
      if (ts == null) {
        throw new IllegalArgumentException("record has no ts");
      }
      JsonArray media = o.getJsonArray("media");
      ChatMessage message = new ChatMessage(conv, KafkaIds.serverId(partition, offset), required(o, "from"),
          required(o, "msg_id"), required(o, "body"), media == null ? new JsonArray() : media, ts);
      return new LogSource.Logged(partition, offset, message, o.getValue("conn") instanceof String c ? c : null,
          o.getValue("via") instanceof String v ? v : null, o.getValue("first") instanceof Boolean f ? f : null);
    } catch (DecodeException | ClassCastException e) {
      // NumberFormatException is an IllegalArgumentException already
      throw new IllegalArgumentException("not a message record: " + e.getMessage(), e);
    }
  }

  /**
   * The record value {@code l} was read from, written again: {@link #decode} of it at any position
   * gives the same message (with that position's id), connection, writer and first-attempt flag.
   */
  public static String encode(LogSource.Logged l) {
    ChatMessage m = l.message();
    return encode(new MessageLog.NewMessage(m.from(), m.msgId(), m.conv(), m.body(), m.media(), l.connectionId(),
        l.first()), m.ts(), l.via());
  }

  /**
   * A record value without its first-attempt flag (routing then looks its msg_id up, as for any
   * possible retry): a parked record replayed, perhaps more than once, is not a first attempt.
   * A value that is not a JSON object is returned as it is (routing parks it again).
   */
  public static String withoutFirst(String value) {
    try {
      JsonObject o = new JsonObject(value);
      return o.remove("first") == null ? value : o.encode();
    } catch (DecodeException | NullPointerException e) {
      return value;
    }
  }

  /**
   * A record parked in the dead-letter topic ({@code <topic>.dead}). Key: the record's own key;
   * value: {@code {"topic":..,"partition":..,"offset":..,"key":..,"record":<the record's value, a
   * string>,"error":..,"attempts":..,"parked_at":<epoch ms>}}.
   */
  public record DeadLetter(String topic, int partition, long offset, String key, String record, String error,
      int attempts, long parkedAt) {

    public String encode() {
      return new JsonObject().put("topic", topic).put("partition", partition).put("offset", offset).put("key", key)
          .put("record", record).put("error", error).put("attempts", attempts).put("parked_at", parkedAt).encode();
    }

    /** The message the parked record holds, as routing read it. */
    public LogSource.Logged logged() {
      return KafkaRecords.decode(partition, offset, record);
    }

    /**
     * @throws IllegalArgumentException when {@code value} is not a dead-letter record
     */
    public static DeadLetter decode(String value) {
      try {
        JsonObject o = new JsonObject(value);
        Integer partition = o.getInteger("partition");
        Long offset = o.getLong("offset");
        if (partition == null || offset == null) {
          throw new IllegalArgumentException("dead letter has no partition or offset");
        }
        return new DeadLetter(required(o, "topic"), partition, offset, required(o, "key"), required(o, "record"),
            o.getValue("error") instanceof String e ? e : "", o.getInteger("attempts", 0), o.getLong("parked_at", 0L));
      } catch (DecodeException | ClassCastException | NullPointerException e) {
        throw new IllegalArgumentException("not a dead-letter record: " + e.getMessage(), e);
      }
    }
  }

  /** A string field; present and a JSON string (not coerced from another type). */
  private static String required(JsonObject o, String field) {
    if (!(o.getValue(field) instanceof String v)) {
      throw new IllegalArgumentException("record has no string " + field);
    }
    return v;
  }
}
