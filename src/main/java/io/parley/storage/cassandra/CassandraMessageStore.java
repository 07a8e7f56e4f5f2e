package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.history.MessagePage;
import io.parley.history.MessageStore;
import io.parley.history.StoredMessage;
import io.parley.protocol.ChatMessage;
import io.parley.protocol.Ids;
import io.parley.routing.MessageLog;
import io.vertx.cassandra.CassandraClient;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Messages in Cassandra: the cluster profile's message store, and a {@link MessageLog} writing
 * straight to it (routing may put Kafka in front; then this is what the consumer persists with).
 *
 * <p>An append, per message, in batch order: a server id from {@link Ids}; an LWT
 * {@code INSERT INTO message_dedupe ... IF NOT EXISTS} keyed on (sender, client msg id) that also
 * carries the encoded frame; when it applies, the {@code messages} row; when it does not, the
 * original frame comes back in the LWT's answer and the call returns it with {@code duplicate}
 * set (and re-writes the original's {@code messages} row, which is idempotent and repairs a writer
 * that died between the two writes). Duplicates inside one batch resolve to the batch's first
 * occurrence. Then one LWT per conversation raises {@code conversations.last_message_id}
 * ({@code IF last_message_id < ?}: it never goes back, and no row is made for an unknown
 * conversation). The future completes once all of it is written at LOCAL_QUORUM.
 *
 * <p>A batch is not one atomic write here (Cassandra batches spanning partitions are not
 * isolated); each message is individually idempotent, so a failed batch is safely retried whole.
 */
public final class CassandraMessageStore implements MessageLog, MessageStore {
  private final CassandraClient client;
  private final Ids ids;
  private final PreparedStatement insertDedupe;
  private final PreparedStatement insertMessage;
  private final PreparedStatement raiseLast;
  private final PreparedStatement selectOne;
  private final PreparedStatement selectBefore;
  private final PreparedStatement selectAfter;

  private CassandraMessageStore(CassandraClient client, Ids ids, List<PreparedStatement> p) {
    this.client = client;
    this.ids = ids;
    this.insertDedupe = p.get(0);
    this.insertMessage = p.get(1);
    this.raiseLast = p.get(2);
    this.selectOne = p.get(3);
    this.selectBefore = p.get(4);
    this.selectAfter = p.get(5);
  }

  /** Prepares the statements (the schema must exist) and returns the ready store. */
  public static Future<CassandraMessageStore> create(CassandraClient client, CassandraNames n, Ids ids) {
    List<String> cql = List.of(
        "INSERT INTO " + n.messageDedupe() + " (sender, client_msg_id, conversation_id, message_id, frame)"
            + " VALUES (?, ?, ?, ?, ?) IF NOT EXISTS",
        "INSERT INTO " + n.messages() + " (conversation_id, message_id, sender, client_msg_id, frame) VALUES (?, ?, ?, ?, ?)",
        "UPDATE " + n.conversations() + " SET last_message_id = ? WHERE conversation_id = ? IF last_message_id < ?",
        "SELECT message_id, sender, frame FROM " + n.messages() + " WHERE conversation_id = ? AND message_id = ?",
        "SELECT message_id, sender, frame FROM " + n.messages() + " WHERE conversation_id = ? AND message_id < ? LIMIT ?",
        "SELECT message_id, sender, frame FROM " + n.messages() + " WHERE conversation_id = ? AND message_id > ? LIMIT ?");
    List<Future<PreparedStatement>> prepared = cql.stream().map(client::prepare).toList();
    return Future.all(prepared)
        .map(all -> new CassandraMessageStore(client, ids, prepared.stream().map(Future::result).toList()));
  }

  @Override
  public Future<List<Appended>> append(List<NewMessage> batch) {
    if (batch.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    // first occurrence of each (sender, msg id) in the batch, with its future
    Map<String, Future<Appended>> firsts = new HashMap<>();
    List<Future<Appended>> slots = new ArrayList<>(batch.size());
    List<Boolean> repeated = new ArrayList<>(batch.size());
    for (NewMessage m : batch) {
      String key = m.from() + '\0' + m.msgId();
      Future<Appended> first = firsts.get(key);
      if (first != null) {
        slots.add(first);
        repeated.add(true);
        continue;
      }
      ChatMessage msg = new ChatMessage(m.conv(), ids.next(), m.from(), m.msgId(), m.body(), m.media(),
          System.currentTimeMillis());
      Future<Appended> written = store(msg);
      firsts.put(key, written);
      slots.add(written);
      repeated.add(false);
    }
    return Future.all(slots).compose(all -> {
      List<Appended> out = new ArrayList<>(batch.size());
      Map<Long, Long> newest = new LinkedHashMap<>();
      for (int i = 0; i < slots.size(); i++) {
        Appended a = slots.get(i).result();
        if (repeated.get(i) && !a.duplicate()) {
          a = new Appended(a.message(), a.frame(), true);
        }
        if (!a.duplicate()) {
          newest.merge(a.message().conv(), a.message().serverId(), Math::max);
        }
        out.add(a);
      }
      List<Future<?>> marks = new ArrayList<>(newest.size());
      newest.forEach((conv, id) -> marks.add(client.execute(raiseLast.bind(id, conv, id))));
      return Future.all(marks).map(out);
    });
  }

  private Future<Appended> store(ChatMessage msg) {
    String frame = msg.toFrame();
    return client.execute(insertDedupe.bind(msg.from(), msg.msgId(), msg.conv(), msg.serverId(), frame)).compose(rs -> {
      if (rs.wasApplied()) {
        return writeRow(msg.conv(), msg.serverId(), msg.from(), msg.msgId(), frame).map(new Appended(msg, frame, false));
      }
      Row original = rs.one();
      String stored = original.getString("frame");
      return writeRow(original.getLong("conversation_id"), original.getLong("message_id"), msg.from(), msg.msgId(), stored)
          .map(new Appended(ChatMessage.fromFrame(stored), stored, true));
    });
  }

  private Future<Void> writeRow(long conv, long id, String from, String msgId, String frame) {
    return client.execute(insertMessage.bind(conv, id, from, msgId, frame)).mapEmpty();
  }

  @Override
  public Future<Optional<StoredMessage>> get(long conv, long serverId) {
    return client.executeWithFullFetch(selectOne.bind(conv, serverId))
        .map(rows -> rows.isEmpty() ? Optional.empty() : Optional.of(toStored(conv, rows.get(0))));
  }

  @Override
  public Future<MessagePage> before(long conv, long beforeId, int limit) {
    if (limit <= 0 || beforeId <= 1) {
      return Future.succeededFuture(new MessagePage(List.of(), false));
    }
    return client.executeWithFullFetch(selectBefore.bind(conv, beforeId, limit + 1)).map(rows -> page(conv, rows, limit, false));
  }

  @Override
  public Future<MessagePage> after(long conv, long afterId, int limit) {
    if (limit <= 0 || afterId == Long.MAX_VALUE) {
      return Future.succeededFuture(new MessagePage(List.of(), false));
    }
    // the partition is newest first: the first limit + 1 rows above the cursor are the newest
    return client.executeWithFullFetch(selectAfter.bind(conv, afterId, limit + 1)).map(rows -> page(conv, rows, limit, true));
  }

  private static MessagePage page(long conv, List<Row> rows, int limit, boolean oldestFirst) {
    List<StoredMessage> out = new ArrayList<>(Math.min(limit, rows.size()));
    for (int i = 0; i < rows.size() && i < limit; i++) {
      out.add(toStored(conv, rows.get(i)));
    }
    if (oldestFirst) {
      Collections.reverse(out);
    }
    return new MessagePage(out, rows.size() > limit);
  }

  private static StoredMessage toStored(long conv, Row r) {
    return new StoredMessage(conv, r.getLong("message_id"), r.getString("sender"), r.getString("frame"));
  }
}
