package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.parley.history.Tombstones;
import io.parley.protocol.ChatMessage;
import io.parley.storage.cassandra.MessageTables.Dedupe;
import io.parley.storage.cassandra.MessageTables.Segment;
import io.vertx.cassandra.CassandraClient;
import io.vertx.core.Future;
import java.util.List;
import java.util.Optional;

/**
 * Reads the original of a (sender, client msg id) under schema version 2: its slim dedupe row
 * (conversation, server id, ts), then its message row from the bucket its id maps to — three
 * small reads, for the rare retry. Used by {@link CassandraMessageArchive} for a retry that
 * reached the log twice; a send index answering retries at the gateway can use {@link #find}.
 */
final class OriginalReader {
  private final CassandraClient client;
  private final PreparedStatement selectDedupe;
  private final PreparedStatement selectSegment;
  private final PreparedStatement selectOne;

  private OriginalReader(CassandraClient client, List<PreparedStatement> p) {
    this.client = client;
    this.selectDedupe = p.get(0);
    this.selectSegment = p.get(1);
    this.selectOne = p.get(2);
  }

  /** Prepares the statements (the schema must exist). */
  static Future<OriginalReader> create(CassandraClient client, CassandraNames names) {
    MessageTables t = new MessageTables(names);
    return MessageTables.prepare(client, List.of(t.selectDedupe(), t.selectSegment(), t.selectOne()))
        .map(p -> new OriginalReader(client, p));
  }

  /**
   * The stored original of a (sender, msg id); empty when there is no dedupe row (never sent, or
   * its retention passed) or its message row is not readable yet (the archive writes the dedupe
   * row and the message row at once, so one may be seen before the other for a moment).
   */
  Future<Optional<ChatMessage>> find(String from, String msgId) {
    return client.executeWithFullFetch(selectDedupe.bind(from, msgId)).compose(rows -> {
      Optional<Dedupe> d = MessageTables.dedupe(rows);
      return d.isEmpty() ? Future.succeededFuture(Optional.empty()) : read(d.get());
    });
  }

  /** The message row a dedupe row points at, if it is readable. */
  Future<Optional<ChatMessage>> read(Dedupe d) {
    return client.executeWithFullFetch(selectSegment.bind(d.conv(), d.id())).compose(seg -> {
      List<Segment> s = MessageTables.segments(seg);
      if (s.isEmpty()) {
        return Future.succeededFuture(Optional.empty());
      }
      return client.executeWithFullFetch(selectOne.bind(d.conv(), s.get(0).bucket(), d.id()))
          .map(rows -> rows.isEmpty() ? Optional.<ChatMessage>empty()
              : Optional.of(Tombstones.message(rows.get(0).getString("frame"))));
    });
  }
}
