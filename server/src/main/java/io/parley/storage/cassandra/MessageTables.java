package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.history.StoredMessage;
import io.vertx.cassandra.CassandraClient;
import io.vertx.core.Future;
import java.util.List;
import java.util.Optional;

/**
 * The {@code messages} and {@code message_dedupe} tables as the message adapters
 * ({@link CassandraMessageStore}, {@link CassandraMessageArchive}) use
 * them: each statement's CQL, built only here, and the mapping of their rows. Each adapter
 * prepares the statements it runs.
 */
final class MessageTables {
  private final CassandraNames names;

  /** A (sender, client msg id)'s dedupe row: the conversation, server id and frame it is stored as. */
  record Dedupe(long conv, long id, String frame) {}

  MessageTables(CassandraNames names) {
    this.names = names;
  }

  /** Binds (conversation, id, sender, client msg id, frame); an upsert, so writing it again changes nothing. */
  String insertMessage() {
    return "INSERT INTO " + names.messages() + " (conversation_id, message_id, sender, client_msg_id, frame)"
        + " VALUES (?, ?, ?, ?, ?)";
  }

  /** Binds (sender, client msg id, conversation, id, frame). */
  String insertDedupe() {
    return "INSERT INTO " + names.messageDedupe() + " (sender, client_msg_id, conversation_id, message_id, frame)"
        + " VALUES (?, ?, ?, ?, ?)";
  }

  /** Binds (sender, client msg id); rows map with {@link #dedupe(List)}. */
  String selectDedupe() {
    return "SELECT conversation_id, message_id, frame FROM " + names.messageDedupe()
        + " WHERE sender = ? AND client_msg_id = ?";
  }

  /** Binds (conversation, id); rows map with {@link #stored(long, Row)}. */
  String selectOne() {
    return "SELECT message_id, sender, frame FROM " + names.messages() + " WHERE conversation_id = ? AND message_id = ?";
  }

  /** Binds (conversation, id, limit): newest first below the id. */
  String selectBefore() {
    return "SELECT message_id, sender, frame FROM " + names.messages()
        + " WHERE conversation_id = ? AND message_id < ? LIMIT ?";
  }

  /** Binds (conversation, id, limit): newest first above the id (the partition's order). */
  String selectAfter() {
    return "SELECT message_id, sender, frame FROM " + names.messages()
        + " WHERE conversation_id = ? AND message_id > ? LIMIT ?";
  }

  /** Binds (last message id, conversation). */
  String setLastMessageId() {
    return "UPDATE " + names.conversations() + " SET last_message_id = ? WHERE conversation_id = ?";
  }

  /** Prepares the statements; completes with them in the given order. */
  static Future<List<PreparedStatement>> prepare(CassandraClient client, List<String> cql) {
    List<Future<PreparedStatement>> prepared = cql.stream().map(client::prepare).toList();
    return Future.all(prepared).map(all -> prepared.stream().map(Future::result).toList());
  }

  /** The dedupe row of a {@link #selectDedupe()} answer, if there is one. */
  static Optional<Dedupe> dedupe(List<Row> rows) {
    if (rows.isEmpty()) {
      return Optional.empty();
    }
    Row r = rows.get(0);
    return Optional.of(new Dedupe(r.getLong("conversation_id"), r.getLong("message_id"), r.getString("frame")));
  }

  /** A {@code messages} row of conversation {@code conv}. */
  static StoredMessage stored(long conv, Row r) {
    return new StoredMessage(conv, r.getLong("message_id"), r.getString("sender"), r.getString("frame"));
  }
}
