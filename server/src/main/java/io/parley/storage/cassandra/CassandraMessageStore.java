package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.history.MessagePage;
import io.parley.history.MessageStore;
import io.parley.history.StoredMessage;
import io.parley.history.Tombstones;
import io.parley.protocol.ChatMessage;
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
 * end; empty buckets have no segment and are never read. Within a page of segments (up to
 * {@value #SEGMENT_PAGE}), the first range is read alone and, when the page needs more, the others
 * at once. Sync ({@code after}) and a busy conversation's history page read one segment page and
 * one bucket (two round trips: 1.2–1.5 ms at best on this shared 2-core machine); a page of 50
 * messages sent one a day spans 50 buckets and takes 4 segment pages and 4 rounds of parallel
 * bucket reads (11 ms at best; 23 ms reading one bucket at a time).
 */
public final class CassandraMessageStore implements MessageStore {
  /** Segments read at a time while walking back. */
  static final int SEGMENT_PAGE = 16;

  private final CassandraClient client;
  private final PreparedStatement selectSegment;
  private final PreparedStatement selectSegmentsBelow;
  private final PreparedStatement selectOne;
  private final PreparedStatement selectRange;
  private final PreparedStatement updateFrame;

  private CassandraMessageStore(CassandraClient client, List<PreparedStatement> p) {
    this.client = client;
    this.selectSegment = p.get(0);
    this.selectSegmentsBelow = p.get(1);
    this.selectOne = p.get(2);
    this.selectRange = p.get(3);
    this.updateFrame = p.get(4);
  }

  /** Prepares the statements (the schema must exist) and returns the ready store. */
  public static Future<CassandraMessageStore> create(CassandraClient client, CassandraNames names) {
    MessageTables t = new MessageTables(names);
    return MessageTables.prepare(client, List.of(t.selectSegment(), t.selectSegmentsBelow(), t.selectOne(), t.selectRange(),
            t.updateFrame()))
        .map(p -> new CassandraMessageStore(client, p));
  }

  @Override
  public Future<Optional<StoredMessage>> get(long conv, long serverId) {
    return stored(conv, serverId).map(m -> m.filter(s -> !Tombstones.is(s.frame())));
  }

  /**
   * Replaces the row's frame by the tombstone (a read, then one write; taking down the same message
   * twice at once writes two tombstones, differing only in {@code deleted_at}). The archive writes a
   * message row again only when routing reads the message's own Kafka record again (a crash or
   * rebalance before its offset was committed): a takedown in that window of seconds could be undone.
   */
  @Override
  public Future<Optional<String>> takedown(long conv, long serverId) {
    return client.executeWithFullFetch(selectSegment.bind(conv, serverId)).compose(rows -> {
      List<Segment> seg = MessageTables.segments(rows);
      if (seg.isEmpty()) {
        return Future.succeededFuture(Optional.empty());
      }
      long bucket = seg.get(0).bucket();
      return client.executeWithFullFetch(selectOne.bind(conv, bucket, serverId)).compose(r -> {
        if (r.isEmpty()) {
          return Future.succeededFuture(Optional.<String>empty());
        }
        String frame = r.get(0).getString("frame");
        if (Tombstones.is(frame)) {
          return Future.succeededFuture(Optional.of(frame));
        }
        String tombstone = Tombstones.frame(ChatMessage.fromFrame(frame), System.currentTimeMillis());
        return client.execute(updateFrame.bind(tombstone, conv, bucket, serverId)).map(v -> Optional.of(tombstone));
      });
    });
  }

  /** The row of the message, tombstone or not. */
  private Future<Optional<StoredMessage>> stored(long conv, long serverId) {
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
      // each segment's id range, newest first, down to the one reaching the lower end
      List<long[]> ranges = new ArrayList<>();
      long upper = above;
      boolean reachedLowest = false;
      for (Segment s : segments) {
        long from = Math.max(s.firstId(), lowest);
        if (from < upper) {
          ranges.add(new long[] {s.bucket(), from, upper});
        }
        upper = s.firstId();
        if (s.firstId() <= lowest) {
          reachedLowest = true;
          break;
        }
      }
      boolean last = reachedLowest || segments.size() < SEGMENT_PAGE;
      long next = upper;
      return readRanges(conv, ranges, want, out).compose(v -> last || out.size() >= want ? Future.<Void>succeededFuture()
          : walkSegments(conv, segments.get(segments.size() - 1).firstId(), next, lowest, want, out));
    });
  }

  /**
   * Reads the ranges into {@code out} in order, up to {@code want} messages: the first alone (a
   * busy conversation's page is usually all in it), the others, when still needed, at once (a
   * sparse conversation's page spans many buckets; one at a time, a page of 50 one-a-day messages
   * took 50 round trips). Taken-down messages (tombstones) are left out and do not count: a range
   * whose read came back full (its LIMIT reached) is read on below its last row before the next
   * range, so a page made of tombstones neither comes back empty nor ends the paging.
   */
  private Future<Void> readRanges(long conv, List<long[]> ranges, int want, List<StoredMessage> out) {
    if (ranges.isEmpty() || out.size() >= want) {
      return Future.succeededFuture();
    }
    boolean alone = out.isEmpty();
    List<long[]> now = alone ? ranges.subList(0, 1) : ranges;
    int limit = want - out.size();
    List<Future<List<Row>>> reads = new ArrayList<>(now.size());
    for (long[] r : now) {
      reads.add(client.executeWithFullFetch(selectRange.bind(conv, r[0], r[1], r[2], limit)));
    }
    return Future.all(reads).compose(all -> {
      for (int i = 0; i < reads.size(); i++) {
        List<Row> rows = reads.get(i).result();
        long lowestRead = Long.MAX_VALUE;
        for (Row r : rows) {
          StoredMessage m = MessageTables.stored(conv, r);
          lowestRead = m.serverId();
          if (out.size() < want && !Tombstones.is(m.frame())) {
            out.add(m);
          }
        }
        if (out.size() >= want) {
          return Future.<Void>succeededFuture();
        }
        if (rows.size() == limit) {
          // cut short by its LIMIT, with tombstones among the rows: the rest of this range, then the
          // ranges after it (their reads made here are dropped: only pages with tombstones get here)
          long[] range = now.get(i);
          List<long[]> rest = new ArrayList<>();
          if (lowestRead > range[1]) {
            rest.add(new long[] {range[0], range[1], lowestRead});
          }
          rest.addAll(ranges.subList(ranges.indexOf(range) + 1, ranges.size()));
          return readRanges(conv, rest, want, out);
        }
      }
      return alone ? readRanges(conv, ranges.subList(1, ranges.size()), want, out) : Future.succeededFuture();
    });
  }

  /**
   * The page of the messages read, newest first and without tombstones ({@link #readRanges}):
   * {@code limit} + 1 were asked for, and one more says there are more.
   */
  private static MessagePage page(List<StoredMessage> rows, int limit, boolean oldestFirst) {
    List<StoredMessage> out = new ArrayList<>(rows.subList(0, Math.min(limit, rows.size())));
    if (oldestFirst) {
      Collections.reverse(out);
    }
    return new MessagePage(out, rows.size() > limit);
  }
}
