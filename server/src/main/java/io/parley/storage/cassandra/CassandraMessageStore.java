package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.history.MessagePage;
import io.parley.history.MessageStore;
import io.parley.history.StoredMessage;
import io.parley.storage.cassandra.MessageTables.Segment;
import io.vertx.cassandra.CassandraClient;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * The cluster profile's {@link MessageStore}: history reads of {@code messages_by_bucket}, a
 * conversation's messages in time buckets (see {@link CassandraMessageArchive} for how they are
 * bucketed), found through the conversation's bucket segments ({@code message_buckets}, see
 * {@link MessageTables}).
 *
 * <p>Cursors are plain server ids (which, on the cluster profile, encode a log position and no
 * time): the bucket of an id is the segment with the largest first id not above it, one read of a
 * tiny partition. A page walks the segments newest first from the cursor's, reading each bucket
 * only over its segment's id range, until it has {@code limit + 1} messages or passed the other
 * end; empty buckets have no segment and are never read. A page that spans k buckets costs
 * 1 + k reads (a segment page holds up to {@value #SEGMENT_PAGE} segments). Sync ({@code after})
 * and the first history page of a conversation usually read one segment page and one bucket.
 */
public final class CassandraMessageStore implements MessageStore {
  /** Segments read at a time while walking back. */
  static final int SEGMENT_PAGE = 8;

  private final CassandraClient client;
  private final PreparedStatement selectSegment;
  private final PreparedStatement selectSegmentsBelow;
  private final PreparedStatement selectOne;
  private final PreparedStatement selectRange;

  private CassandraMessageStore(CassandraClient client, List<PreparedStatement> p) {
    this.client = client;
    this.selectSegment = p.get(0);
    this.selectSegmentsBelow = p.get(1);
    this.selectOne = p.get(2);
    this.selectRange = p.get(3);
  }

  /** Prepares the statements (the schema must exist) and returns the ready store. */
  public static Future<CassandraMessageStore> create(CassandraClient client, CassandraNames names) {
    MessageTables t = new MessageTables(names);
    return MessageTables.prepare(client, List.of(t.selectSegment(), t.selectSegmentsBelow(), t.selectOne(), t.selectRange()))
        .map(p -> new CassandraMessageStore(client, p));
  }

  @Override
  public Future<Optional<StoredMessage>> get(long conv, long serverId) {
    return client.executeWithFullFetch(selectSegment.bind(conv, serverId)).compose(rows -> {
      List<Segment> seg = MessageTables.segments(rows);
      if (seg.isEmpty()) {
        return Future.succeededFuture(Optional.empty());
      }
      return client.executeWithFullFetch(selectOne.bind(conv, seg.get(0).bucket(), serverId))
          .map(r -> r.isEmpty() ? Optional.<StoredMessage>empty() : Optional.of(MessageTables.stored(conv, r.get(0))));
    });
  }

  @Override
  public Future<MessagePage> before(long conv, long beforeId, int limit) {
    if (limit <= 0 || beforeId <= 1) {
      return Future.succeededFuture(new MessagePage(List.of(), false));
    }
    return walk(conv, beforeId, Long.MIN_VALUE, limit + 1).map(rows -> page(rows, limit, false));
  }

  @Override
  public Future<MessagePage> after(long conv, long afterId, int limit) {
    if (limit <= 0 || afterId == Long.MAX_VALUE) {
      return Future.succeededFuture(new MessagePage(List.of(), false));
    }
    // newest first: the first limit + 1 messages above the cursor are the newest
    return walk(conv, Long.MAX_VALUE, afterId + 1, limit + 1).map(rows -> page(rows, limit, true));
  }

  /** Up to {@code want} messages with {@code lowest <= id < above}, newest first, across buckets. */
  private Future<List<StoredMessage>> walk(long conv, long above, long lowest, int want) {
    List<StoredMessage> out = new ArrayList<>(Math.min(want, 64));
    return walkSegments(conv, above, above, lowest, want, out).map(out);
  }

  /**
   * Reads the next page of segments starting below {@code segmentsBelow} and walks them; {@code above}
   * is the exclusive upper id of the next range to read (the cursor, then each segment's first id).
   */
  private Future<Void> walkSegments(long conv, long segmentsBelow, long above, long lowest, int want,
      List<StoredMessage> out) {
    return client.executeWithFullFetch(selectSegmentsBelow.bind(conv, segmentsBelow, SEGMENT_PAGE)).compose(rows -> {
      List<Segment> segments = MessageTables.segments(rows);
      return walkBuckets(conv, segments, 0, above, lowest, want, out).compose(next -> {
        boolean done = out.size() >= want || segments.size() < SEGMENT_PAGE
            || segments.get(segments.size() - 1).firstId() <= lowest;
        return done ? Future.<Void>succeededFuture()
            : walkSegments(conv, segments.get(segments.size() - 1).firstId(), next, lowest, want, out);
      });
    });
  }

  /** Reads segment {@code i}'s range and the following ones; completes with the next range's upper id. */
  private Future<Long> walkBuckets(long conv, List<Segment> segments, int i, long above, long lowest, int want,
      List<StoredMessage> out) {
    if (i >= segments.size() || out.size() >= want) {
      return Future.succeededFuture(above);
    }
    Segment s = segments.get(i);
    long from = Math.max(s.firstId(), lowest);
    if (from >= above) {
      return s.firstId() <= lowest ? Future.succeededFuture(s.firstId())
          : walkBuckets(conv, segments, i + 1, s.firstId(), lowest, want, out);
    }
    return client.executeWithFullFetch(selectRange.bind(conv, s.bucket(), from, above, want - out.size()))
        .compose(rows -> {
          for (Row r : rows) {
            out.add(MessageTables.stored(conv, r));
          }
          if (s.firstId() <= lowest) {
            // this segment reaches the lower end: nothing older is wanted
            return Future.succeededFuture(s.firstId());
          }
          return walkBuckets(conv, segments, i + 1, s.firstId(), lowest, want, out);
        });
  }

  private static MessagePage page(List<StoredMessage> rows, int limit, boolean oldestFirst) {
    List<StoredMessage> out = new ArrayList<>(rows.subList(0, Math.min(limit, rows.size())));
    if (oldestFirst) {
      Collections.reverse(out);
    }
    return new MessagePage(out, rows.size() > limit);
  }
}
