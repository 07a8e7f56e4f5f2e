package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.history.StoredMessage;
import io.vertx.cassandra.CassandraClient;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The message tables as the message adapters ({@link CassandraMessageStore},
 * {@link CassandraMessageArchive}, {@link OriginalReader}) and the migration to schema version 2
 * use them: each statement's CQL, built only here, and the mapping of their rows. Each adapter
 * prepares the statements it runs.
 *
 * <p>Schema version 2 (see {@link CassandraSchema}):
 * <ul>
 *   <li>{@code messages_by_bucket ((conversation_id, bucket), message_id DESC)}: a conversation's
 *       messages in time buckets, newest first;
 *   <li>{@code message_buckets ((conversation_id), first_id DESC)} → bucket: the bucket
 *       <em>segments</em>. Every message with {@code first_id(k) <= id < first_id(k + 1)} lives in
 *       segment k's bucket, so the bucket of any id is the segment with the largest first id not
 *       above it, and only buckets holding messages have a segment (paging never visits an empty
 *       bucket). One row per bucket a conversation wrote in: tiny.
 *   <li>{@code message_originals ((sender, client_msg_id))}: the original's conversation, server
 *       id and ts, written with a TTL ({@code cassandra.dedupe_ttl_s}).
 * </ul>
 * Schema version 3 adds {@code message_ahead ((log_partition), sender, client_msg_id)} →
 * conversation, with the same TTL: the keys of retries stored ahead of their first attempt
 * ({@link AheadKeys}).
 */
final class MessageTables {
  private final CassandraNames names;

  /**
   * A (sender, client msg id)'s row of {@code message_originals}: the conversation, server id and ts
   * it is stored as. Slim rows hold no frame (the message itself is read from its bucket with
   * {@link #selectSegment()} and {@link #selectOne()}, as {@link OriginalReader} does).
   */
  record Dedupe(long conv, long id, long ts) {}

  /** A bucket segment: messages from {@code firstId} (up to the next segment's first id) live in {@code bucket}. */
  record Segment(long firstId, long bucket) {}

  MessageTables(CassandraNames names) {
    this.names = names;
  }

  /** Binds (conversation, bucket, id, sender, client msg id, frame); an upsert, so writing it again changes nothing. */
  String insertMessage() {
    return "INSERT INTO " + names.messagesByBucket()
        + " (conversation_id, bucket, message_id, sender, client_msg_id, frame) VALUES (?, ?, ?, ?, ?, ?)";
  }

  /** Binds (conversation, first id, bucket). */
  String insertSegment() {
    return "INSERT INTO " + names.messageBuckets() + " (conversation_id, first_id, bucket) VALUES (?, ?, ?)";
  }

  /** Binds (sender, client msg id, conversation, id, ts, ttl seconds). */
  String insertDedupe() {
    return "INSERT INTO " + names.messageOriginals() + " (sender, client_msg_id, conversation_id, message_id, ts)"
        + " VALUES (?, ?, ?, ?, ?) USING TTL ?";
  }

  /** Binds (sender, client msg id); rows map with {@link #dedupe(List)}. */
  String selectDedupe() {
    return "SELECT conversation_id, message_id, ts FROM " + names.messageOriginals()
        + " WHERE sender = ? AND client_msg_id = ?";
  }

  /** Binds (log partition, sender, client msg id, conversation, ttl seconds). */
  String insertAhead() {
    return "INSERT INTO " + names.messageAhead() + " (log_partition, sender, client_msg_id, conversation_id)"
        + " VALUES (?, ?, ?, ?) USING TTL ?";
  }

  /** Binds (log partition): the partition's keys, each with its seconds left to live. */
  String selectAhead() {
    return "SELECT sender, client_msg_id, TTL(conversation_id) AS ttl FROM " + names.messageAhead()
        + " WHERE log_partition = ?";
  }

  /** Binds (conversation, id): the segment holding that id (rows map with {@link #segments(List)}). */
  String selectSegment() {
    return "SELECT first_id, bucket FROM " + names.messageBuckets()
        + " WHERE conversation_id = ? AND first_id <= ? LIMIT 1";
  }

  /** Binds (conversation, id, limit): the newest segments starting below the id, newest first. */
  String selectSegmentsBelow() {
    return "SELECT first_id, bucket FROM " + names.messageBuckets()
        + " WHERE conversation_id = ? AND first_id < ? LIMIT ?";
  }

  /** Binds (conversation, bucket, id); rows map with {@link #stored(long, Row)}. */
  String selectOne() {
    return "SELECT message_id, sender, frame FROM " + names.messagesByBucket()
        + " WHERE conversation_id = ? AND bucket = ? AND message_id = ?";
  }

  /**
   * Binds (frame, conversation, bucket, id): a takedown's tombstone replaces the row's frame (the
   * row is read first: an update of a row that is not there would make one).
   */
  String updateFrame() {
    return "UPDATE " + names.messagesByBucket() + " SET frame = ? WHERE conversation_id = ? AND bucket = ? AND message_id = ?";
  }

  /** Binds (conversation, bucket, lowest id, id above, limit): that id range of one bucket, newest first. */
  String selectRange() {
    return "SELECT message_id, sender, frame FROM " + names.messagesByBucket()
        + " WHERE conversation_id = ? AND bucket = ? AND message_id >= ? AND message_id < ? LIMIT ?";
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

  /** The row of a {@link #selectDedupe()} answer, if there is one. */
  static Optional<Dedupe> dedupe(List<Row> rows) {
    if (rows.isEmpty()) {
      return Optional.empty();
    }
    Row r = rows.get(0);
    return Optional.of(new Dedupe(r.getLong("conversation_id"), r.getLong("message_id"), r.getLong("ts")));
  }

  /** The segments of a {@link #selectSegment()} or {@link #selectSegmentsBelow()} answer, newest first. */
  static List<Segment> segments(List<Row> rows) {
    List<Segment> out = new ArrayList<>(rows.size());
    for (Row r : rows) {
      out.add(new Segment(r.getLong("first_id"), r.getLong("bucket")));
    }
    return out;
  }

  /** A {@code messages_by_bucket} row of conversation {@code conv}. */
  static StoredMessage stored(long conv, Row r) {
    return new StoredMessage(conv, r.getLong("message_id"), r.getString("sender"), r.getString("frame"));
  }
}
