package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.parley.protocol.ChatMessage;
import io.parley.storage.cassandra.MessageTables.Segment;
import io.vertx.cassandra.CassandraClient;
import io.vertx.cassandra.ResultSet;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Schema version 2's copy (see {@link CassandraSchema}): version 1's {@code messages} into
 * {@code messages_by_bucket} with their bucket segments, and version 1's {@code message_dedupe}
 * rows into slim {@code message_originals} rows with the TTL. Conversations are copied one at a
 * time, each in id order with the archive's rule (a message goes to
 * {@code max(bucket(ts), the conversation's newest bucket)}, a new bucket's segment written before
 * its rows), so the same data always gives the same writes: running it again, or from two
 * starters at once, writes the same rows again. Reads page through the tables
 * ({@value #PAGE} rows a page), nothing is held beyond one page.
 */
final class MessageMigration {
  private static final Logger LOG = LoggerFactory.getLogger(MessageMigration.class);
  static final int PAGE = 500;

  private final CassandraClient client;
  private final CassandraNames names;
  private final MessageTables tables;
  private final long bucketMs;
  private final int dedupeTtlS;

  MessageMigration(CassandraClient client, CassandraNames names, long bucketMs, int dedupeTtlS) {
    this.client = client;
    this.names = names;
    this.tables = new MessageTables(names);
    this.bucketMs = bucketMs;
    this.dedupeTtlS = dedupeTtlS;
  }

  Future<Void> run() {
    return MessageTables.prepare(client, List.of(tables.insertMessage(), tables.insertSegment(), tables.insertDedupe()))
        .compose(p -> {
          long[] counts = new long[3];
          return copyMessages(p.get(0), p.get(1), counts)
              .compose(v -> copyDedupe(p.get(2), counts))
              .onSuccess(v -> LOG.info("keyspace {}: copied {} messages of {} conversations and {} dedupe rows",
                  names.keyspace(), counts[1], counts[0], counts[2]));
        });
  }

  private Future<Void> copyMessages(PreparedStatement insertMessage, PreparedStatement insertSegment, long[] counts) {
    SimpleStatement convs = SimpleStatement.newInstance("SELECT DISTINCT conversation_id FROM " + names.messages())
        .setPageSize(PAGE);
    return client.execute(convs).compose(rs -> pages(rs, rows -> {
      Future<Void> chain = Future.succeededFuture();
      for (Row r : rows) {
        long conv = r.getLong("conversation_id");
        counts[0]++;
        chain = chain.compose(v -> copyConversation(conv, insertMessage, insertSegment, counts));
      }
      return chain;
    }));
  }

  private Future<Void> copyConversation(long conv, PreparedStatement insertMessage, PreparedStatement insertSegment,
      long[] counts) {
    SimpleStatement select = SimpleStatement.newInstance("SELECT message_id, sender, client_msg_id, frame FROM "
        + names.messages() + " WHERE conversation_id = ? ORDER BY message_id ASC", conv).setPageSize(PAGE);
    Segment[] newest = new Segment[1];
    return client.execute(select).compose(rs -> pages(rs, rows -> {
      List<Segment> segments = new ArrayList<>();
      List<Object[]> writes = new ArrayList<>(rows.size());
      for (Row r : rows) {
        long id = r.getLong("message_id");
        String frame = r.getString("frame");
        long bucket = CassandraMessageArchive.bucketOf(ChatMessage.fromFrame(frame).ts(), bucketMs);
        if (newest[0] == null || bucket > newest[0].bucket()) {
          newest[0] = new Segment(id, bucket);
          segments.add(newest[0]);
        }
        writes.add(new Object[] {conv, newest[0].bucket(), id, r.getString("sender"), r.getString("client_msg_id"), frame});
      }
      counts[1] += writes.size();
      return CassandraMessageArchive.inChunks(segments.size(),
              i -> client.execute(insertSegment.bind(conv, segments.get(i).firstId(), segments.get(i).bucket())))
          .compose(v -> CassandraMessageArchive.inChunks(writes.size(), i -> client.execute(insertMessage.bind(writes.get(i)))))
          .mapEmpty();
    }));
  }

  private Future<Void> copyDedupe(PreparedStatement insertDedupe, long[] counts) {
    SimpleStatement select = SimpleStatement.newInstance("SELECT sender, client_msg_id, conversation_id, message_id, frame FROM "
        + names.messageDedupe()).setPageSize(PAGE);
    return client.execute(select).compose(rs -> pages(rs, rows -> {
      List<Row> copied = rows.stream().filter(r -> r.getString("frame") != null).toList();
      counts[2] += copied.size();
      return CassandraMessageArchive.inChunks(copied.size(), i -> {
        Row r = copied.get(i);
        return client.execute(insertDedupe.bind(r.getString("sender"), r.getString("client_msg_id"),
            r.getLong("conversation_id"), r.getLong("message_id"), ChatMessage.fromFrame(r.getString("frame")).ts(),
            dedupeTtlS));
      }).mapEmpty();
    }));
  }

  /** Hands each page of {@code rs} to {@code page}, one after the other. */
  private static Future<Void> pages(ResultSet rs, Function<List<Row>, Future<Void>> page) {
    List<Row> rows = new ArrayList<>(rs.remaining());
    for (Row r : rs.currentPage()) {
      rows.add(r);
    }
    return page.apply(rows).compose(v -> rs.hasMorePages() ? rs.fetchNextPage().compose(next -> pages(next, page))
        : Future.succeededFuture());
  }
}
