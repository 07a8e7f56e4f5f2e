package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Statement;
import io.parley.protocol.ChatMessage;
import io.parley.routing.LogSource;
import io.parley.routing.MessageArchive;
import io.parley.storage.cassandra.MessageTables.Dedupe;
import io.parley.storage.cassandra.MessageTables.Segment;
import io.vertx.cassandra.CassandraClient;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.function.IntToLongFunction;

/**
 * The cluster profile's {@link MessageArchive}: routing persists the messages it read from the log,
 * server ids already set, into {@code message_originals}, {@code message_buckets},
 * {@code messages_by_bucket} and {@code conversations} (tables: {@link MessageTables}).
 *
 * <h2>Time buckets</h2>
 * A conversation's messages are partitioned by (conversation, bucket), the bucket being the start
 * (epoch ms) of the {@link #DEFAULT_BUCKET_MS one-day} window of the message's ts. Why one day, from
 * the design's numbers: a stored row is about 0.4–0.5 KB (the design's 200 B text body, the JSON
 * frame around it, sender, client msg id, keys and cell overhead; LZ4 then roughly halves it on
 * disk). Discord's 10 days suit their traffic, but here a busy 5,000-member group sending one
 * message per second around the clock (86,400 a day — far beyond what its members can read) would
 * put about 350–430 MB in a 10-day partition and 35–43 MB in a one-day one, well under the ~100 MB
 * to stay below. Faster sustained rates are the hot-conversation case (sub-partitioning). The
 * price of shorter buckets is more buckets to walk for sparse conversations, which the segment
 * index below bounds: only buckets that hold messages are ever read. The length is a constructor
 * parameter (tests use short buckets); changing it later is safe, since readers find buckets
 * through the segments, never by computing them.
 *
 * <p>Server ids (Kafka positions on this profile) encode no time, and a message's ts is the
 * gateway's clock at intake, so ts is not monotonic in id order (two gateways, clock skew, producer
 * batching). The archive therefore keeps each conversation's buckets <em>contiguous in id
 * order</em>: a new message goes to {@code max(bucket(ts), newest bucket of the conversation)},
 * and when that is a new bucket it first writes the segment (its own id → the bucket) to
 * {@code message_buckets}. Readers map an id to the segment with the largest first id not above
 * it ({@link CassandraMessageStore}).
 *
 * <p>The newest segment per conversation is cached (bounded LRU). A cached value can only be stale
 * after the conversation's log partition was owned by another node meanwhile. Stale is harmless
 * unless this message's ts-bucket is older than the true newest bucket, which (the true newest
 * bucket holding a message logged earlier with a later ts) needs the message's ts within
 * {@link #STAMP_TO_LOG_MS} of its bucket's end, given that a send is stamped and logged within
 * that bound (send timeout plus clock skew between gateways). So the newest segment is read again
 * when the cache has none, when a message's ts is that close to its bucket's end, or when it is so
 * old that its dedupe row may have expired (a replay of an old record): one read of a tiny
 * partition per conversation per batch, in parallel with the dedupe reads, and at most a few
 * minutes a day.
 *
 * <h2>Dedupe</h2>
 * Per message, read the slim {@code message_originals} row keyed on (sender, client msg id) —
 * except for a send its client flagged as its first attempt ({@code "first": true}, see
 * {@link #persistLogged}), which cannot have an original unless a retry of it was stored ahead of
 * it, which {@link AheadKeys} knows; such a first attempt counts as "none" below:
 * <ul>
 *   <li>none: a new message. Its bucket segment (when new) is written first, then the message row
 *       and the dedupe row (with a TTL of {@code dedupeTtlS}) at once; the original is the message.
 *   <li>one with this message's id: the same log record read again after a crash or rebalance.
 *       The message row is written again into the bucket its id maps to (an upsert; it repairs an
 *       attempt that stopped after the dedupe row); the original is the message.
 *   <li>one with another id: a retried send that reached the log twice. Nothing is written; the
 *       original's row is read from its bucket (rare) and returned.
 * </ul>
 * Repeats of a (sender, msg id) inside one batch resolve against the batch's first occurrence
 * without another read (a repeat that is the original's own record, behind a retry, is written as
 * a re-read one). Then each conversation's {@code last_message_id} is set to the newest id
 * stored under its own id by the batch. The future completes once all of it is written at
 * LOCAL_QUORUM, and fails as a whole otherwise.
 *
 * <p>A send retried after the dedupe row expired ({@code cassandra.dedupe_ttl_s}, 7 days by
 * default) is not recognised: it is stored and delivered as a new message with a new id.
 *
 * <p>It relies on routing's single owner per partition and uses plain reads and writes, no
 * lightweight transactions: one Paxos round per message was the routing bottleneck (a 2-core node
 * with everything local delivered about 500 msgs/s). What it gives up against a lightweight
 * transaction: a client reusing one msg id in two conversations at the same moment (two
 * partitions) could have both stored.
 *
 * <p>A batch is not one atomic write here (Cassandra batches spanning partitions are not
 * isolated); each message is individually idempotent, so a failed batch is safely retried whole.
 * Reads go concurrently, at most {@link #MAX_IN_FLIGHT} at a time (a batch polled from Kafka can
 * hold hundreds). New message rows go per conversation and bucket in groups written one after the
 * other in id order ({@link #rowGroups}), so readers see them appear in id order. Writes that do not
 * depend on each other — the first row group of every conversation and bucket with every new
 * message's dedupe row, then each conversation's {@code last_message_id} — share unlogged batches
 * of a few partitions ({@link WriteBatches}): one round trip per ten or so writes instead of one
 * per write (per message of a DM batch, today's dedupe read plus about 0.3 round trips of writes,
 * instead of three).
 */
public final class CassandraMessageArchive implements MessageArchive {
  /** The most messages (or conversation marks) of one batch being written at the same time. */
  static final int MAX_IN_FLIGHT = 64;
  /** Most rows, and frame characters, one write of {@link #writeInOrder} carries. */
  static final int ROWS_PER_WRITE = 64;
  static final long CHARS_PER_WRITE = 256 * 1024;
  /** Length of a message bucket: one day (see the class comment). */
  public static final long DEFAULT_BUCKET_MS = Duration.ofDays(1).toMillis();
  /** How long a dedupe row is kept by default: 7 days ({@code cassandra.dedupe_ttl_s}). */
  public static final int DEFAULT_DEDUPE_TTL_S = (int) Duration.ofDays(7).toSeconds();
  /** Bound on a send's stamp-to-log time plus clock skew between gateways (see the class comment). */
  static final long STAMP_TO_LOG_MS = Duration.ofMinutes(5).toMillis();
  private static final int SEGMENT_CACHE_MAX = 100_000;

  private final CassandraClient client;
  private final long bucketMs;
  private final int dedupeTtlS;
  private final PreparedStatement insertMessage;
  private final PreparedStatement insertSegment;
  private final PreparedStatement insertDedupe;
  private final PreparedStatement selectDedupe;
  private final PreparedStatement selectSegment;
  private final PreparedStatement selectNewestSegment;
  private final PreparedStatement setLast;
  private final OriginalReader originals;
  private final AheadKeys ahead;
  /** The newest last_message_id this archive wrote per conversation (bounded LRU). */
  private final Map<Long, Long> lastWritten = lru();
  /** The newest bucket segment per conversation, as this archive last read or wrote it (bounded LRU). */
  private final Map<Long, Segment> newestSegments = lru();

  /** What the archive does with one message of a batch. */
  private enum Kind { NEW, REREAD, RETRY, REPEAT }

  private CassandraMessageArchive(CassandraClient client, long bucketMs, int dedupeTtlS, OriginalReader originals,
      List<PreparedStatement> p) {
    this.originals = originals;
    this.client = client;
    this.bucketMs = bucketMs;
    this.dedupeTtlS = dedupeTtlS;
    this.insertMessage = p.get(0);
    this.insertSegment = p.get(1);
    this.insertDedupe = p.get(2);
    this.selectDedupe = p.get(3);
    this.selectSegment = p.get(4);
    this.selectNewestSegment = p.get(5);
    this.setLast = p.get(6);
    this.ahead = new AheadKeys(client, p.get(8), p.get(7), dedupeTtlS);
  }

  /** {@link #create(CassandraClient, CassandraNames, long, int)} with one-day buckets and 7 days of dedupe. */
  public static Future<CassandraMessageArchive> create(CassandraClient client, CassandraNames names) {
    return create(client, names, DEFAULT_BUCKET_MS, DEFAULT_DEDUPE_TTL_S);
  }

  /**
   * Prepares the statements (the schema must exist) and returns the ready archive.
   *
   * @param bucketMs length of a message bucket
   * @param dedupeTtlS how long a (sender, msg id) is remembered ({@code cassandra.dedupe_ttl_s})
   */
  public static Future<CassandraMessageArchive> create(CassandraClient client, CassandraNames names, long bucketMs,
      int dedupeTtlS) {
    if (bucketMs < 1 || dedupeTtlS < 1) {
      throw new IllegalArgumentException("bucket length and dedupe TTL must be positive: " + bucketMs + ", " + dedupeTtlS);
    }
    MessageTables t = new MessageTables(names);
    return MessageTables.prepare(client, List.of(t.insertMessage(), t.insertSegment(), t.insertDedupe(),
            t.selectDedupe(), t.selectSegment(), t.selectSegmentsBelow(), t.setLastMessageId(), t.insertAhead(),
            t.selectAhead()))
        .compose(p -> OriginalReader.create(client, names)
            .map(o -> new CassandraMessageArchive(client, bucketMs, dedupeTtlS, o, p)));
  }

  /**
   * Failures of the DataStax driver that mean Cassandra (or the driver) refuses a statement for
   * good: a query it rejects ({@code QueryValidationException}: invalid query — e.g. a mutation
   * over Cassandra's size limit —, syntax, unauthorized, invalid configuration), a function that
   * fails on the value, a request frame over the protocol's size limit, a value no codec encodes,
   * a value the driver cannot bind, a protocol error. Everything else — timeouts (driver, read,
   * write), unavailable, overloaded, bootstrapping, server errors, all nodes failed, closed or busy
   * connections, throttling — is transient.
   */
  private static final List<Class<? extends Throwable>> PERMANENT = List.of(
      com.datastax.oss.driver.api.core.servererrors.QueryValidationException.class,
      com.datastax.oss.driver.api.core.servererrors.FunctionFailureException.class,
      com.datastax.oss.driver.api.core.servererrors.ProtocolError.class,
      com.datastax.oss.driver.api.core.connection.FrameTooLongException.class,
      com.datastax.oss.driver.api.core.type.codec.CodecNotFoundException.class,
      IllegalArgumentException.class);

  @Override
  public boolean rejects(Throwable failure) {
    return refusedForGood(failure);
  }

  /** Whether {@code failure} (or a cause of it) is one of the {@link #PERMANENT} kinds. */
  static boolean refusedForGood(Throwable failure) {
    return PERMANENT.stream().anyMatch(type -> MessageArchive.causedBy(failure, type));
  }

  /** The bucket (its start, epoch ms) of a ts, for buckets of {@code bucketMs}. */
  static long bucketOf(long ts, long bucketMs) {
    return Math.floorDiv(ts, bucketMs) * bucketMs;
  }

  /** Every message is looked up (nothing tells a first attempt here), and no key is recorded as ahead. */
  @Override
  public Future<List<ChatMessage>> persist(List<ChatMessage> batch) {
    return persist(batch, null, p -> -1);
  }

  /**
   * As {@link #persist(List)}, with the log's view: the dedupe read of a first attempt
   * ({@code "first": true}) is skipped unless its key is among its log partition's retries stored
   * ahead of their first attempt ({@link AheadKeys}, loaded first for partitions this node got
   * since it last loaded them), and a retry ({@code "first": false}) stored under its own id
   * records its key there, in the write of the dedupe rows.
   */
  @Override
  public Future<List<ChatMessage>> persistLogged(List<LogSource.Logged> records, IntToLongFunction ownership) {
    List<ChatMessage> batch = new ArrayList<>(records.size());
    Set<Integer> partitions = new LinkedHashSet<>();
    boolean flagged = false;
    for (LogSource.Logged l : records) {
      batch.add(l.message());
      partitions.add(l.partition());
      flagged |= l.first() != null;
    }
    if (!flagged) {
      return persist(batch, null, ownership); // no client said: every message is looked up, nothing recorded
    }
    return ahead.ready(partitions, ownership).compose(v -> persist(batch, records, ownership));
  }

  /**
   * @param records the log's records of the messages (their partitions and first-attempt flags), or
   *     null: every message is looked up and nothing is recorded as ahead
   */
  private Future<List<ChatMessage>> persist(List<ChatMessage> batch, List<LogSource.Logged> records,
      IntToLongFunction ownership) {
    if (batch.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    int n = batch.size();
    long[] tokens = new long[n];
    boolean[] skip = new boolean[n];
    if (records != null) {
      Map<Integer, Long> owned = new HashMap<>();
      for (int i = 0; i < n; i++) {
        LogSource.Logged l = records.get(i);
        tokens[i] = owned.computeIfAbsent(l.partition(), ownership::applyAsLong);
        skip[i] = Boolean.TRUE.equals(l.first())
            && !ahead.mustLookUp(l.partition(), tokens[i], batch.get(i).from(), batch.get(i).msgId());
      }
    }
    int[] first = firstOccurrences(batch);
    long now = System.currentTimeMillis();
    Set<Long> toRead = new LinkedHashSet<>();
    for (int i = 0; i < n; i++) {
      ChatMessage m = batch.get(i);
      if (first[i] == i && !toRead.contains(m.conv()) && mustReadNewest(m, now)) {
        toRead.add(m.conv());
      }
    }
    List<Long> convsToRead = List.copyOf(toRead);
    Future<List<Optional<Dedupe>>> dedupes = inChunks(n, i -> first[i] != i || skip[i] ? Future.succeededFuture(Optional.empty())
        : client.executeWithFullFetch(selectDedupe.bind(batch.get(i).from(), batch.get(i).msgId())).map(MessageTables::dedupe));
    Future<List<Optional<Segment>>> newest = inChunks(convsToRead.size(), i -> newestSegment(convsToRead.get(i)));
    return Future.all(dedupes, newest).compose(reads -> {
      Map<Long, Segment> known = new HashMap<>();
      for (int i = 0; i < convsToRead.size(); i++) {
        known.put(convsToRead.get(i), newest.result().get(i).orElse(null));
      }
      Kind[] kinds = new Kind[n];
      long[] buckets = new long[n];
      List<Map.Entry<Long, Segment>> segmentWrites = plan(batch, first, dedupes.result(), known, kinds, buckets);
      return inChunks(segmentWrites.size(), i -> client.execute(insertSegment.bind(segmentWrites.get(i).getKey(),
              segmentWrites.get(i).getValue().firstId(), segmentWrites.get(i).getValue().bucket())).<Void>mapEmpty())
          .onSuccess(v -> known.forEach((conv, s) -> {
            if (s != null) {
              newestSegments.put(conv, s);
            }
          }))
          .compose(v -> store(batch, first, dedupes.result(), kinds, buckets, aheadWrites(records, tokens, kinds)));
    }).compose(originals -> {
      Map<Long, Long> newestIds = new LinkedHashMap<>();
      for (int i = 0; i < n; i++) {
        if (originals.get(i).serverId() == batch.get(i).serverId()) {
          newestIds.merge(batch.get(i).conv(), batch.get(i).serverId(), Math::max);
        }
      }
      return setLastMessageIds(newestIds).map(originals);
    });
  }

  /** Whether the cached newest segment of {@code m}'s conversation must not be trusted for it (see the class comment). */
  private boolean mustReadNewest(ChatMessage m, long now) {
    return !newestSegments.containsKey(m.conv())
        || m.ts() >= bucketOf(m.ts(), bucketMs) + bucketMs - STAMP_TO_LOG_MS
        || m.ts() < now - dedupeTtlS * 1000L + STAMP_TO_LOG_MS;
  }

  private Future<Optional<Segment>> newestSegment(long conv) {
    return client.executeWithFullFetch(selectNewestSegment.bind(conv, Long.MAX_VALUE, 1))
        .map(rows -> MessageTables.segments(rows).stream().findFirst());
  }

  /**
   * Decides each message's kind and, for new ones, its bucket ({@code Long.MIN_VALUE}: an old
   * record, placed by looking its id up); returns the segments to write first, in batch order.
   * {@code known} holds the conversations' newest segments read for this batch and is updated
   * with the planned ones.
   */
  private List<Map.Entry<Long, Segment>> plan(List<ChatMessage> batch, int[] first, List<Optional<Dedupe>> dedupes,
      Map<Long, Segment> known, Kind[] kinds, long[] buckets) {
    List<Map.Entry<Long, Segment>> segmentWrites = new ArrayList<>();
    for (int i = 0; i < batch.size(); i++) {
      ChatMessage m = batch.get(i);
      if (first[i] != i) {
        // the record its first occurrence's dedupe row points at is itself (the retry came first)
        Optional<Dedupe> firstFound = dedupes.get(first[i]);
        kinds[i] = firstFound.isPresent() && firstFound.get().id() == m.serverId() ? Kind.REREAD : Kind.REPEAT;
        continue;
      }
      Optional<Dedupe> d = dedupes.get(i);
      if (d.isPresent()) {
        kinds[i] = d.get().id() == m.serverId() ? Kind.REREAD : Kind.RETRY;
        continue;
      }
      kinds[i] = Kind.NEW;
      Segment k = known.containsKey(m.conv()) ? known.get(m.conv()) : newestSegments.get(m.conv());
      long bucket = bucketOf(m.ts(), bucketMs);
      if (k != null && m.serverId() < k.firstId()) {
        // older than the newest segment: a record replayed after its dedupe row expired
        buckets[i] = Long.MIN_VALUE;
      } else if (k == null || bucket > k.bucket()) {
        Segment s = new Segment(m.serverId(), bucket);
        segmentWrites.add(Map.entry(m.conv(), s));
        known.put(m.conv(), s);
        buckets[i] = bucket;
      } else {
        known.put(m.conv(), k);
        buckets[i] = k.bucket();
      }
    }
    return segmentWrites;
  }

  /**
   * Writes (or, for retries, reads) each message's row; completes with the originals in batch order.
   * The rows of new messages are written per conversation and bucket in id order (see
   * {@link #writeInOrder}), so a history read or sync running meanwhile sees a prefix of them, never
   * a newer message without an older one of the same batch (a connection that synced the newer one
   * would take the older one's live delivery for a repeat).
   */
  private Future<List<ChatMessage>> store(List<ChatMessage> batch, int[] first, List<Optional<Dedupe>> dedupes,
      Kind[] kinds, long[] buckets, List<WriteBatches.Unit> aheadWrites) {
    Map<List<Long>, List<ChatMessage>> partitions = new LinkedHashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      if (kinds[i] == Kind.NEW && buckets[i] != Long.MIN_VALUE) {
        ChatMessage m = batch.get(i);
        partitions.computeIfAbsent(List.of(m.conv(), buckets[i]), k -> new ArrayList<>()).add(m);
      }
    }
    // wave k: the k-th group of rows of every partition; the first wave also every new message's dedupe row
    List<List<WriteBatches.Unit>> waves = new ArrayList<>();
    waves.add(new ArrayList<>());
    partitions.forEach((key, rows) -> {
      List<WriteBatches.Unit> groups = rowGroups(key.get(1), rows);
      for (int k = 0; k < groups.size(); k++) {
        if (k == waves.size()) {
          waves.add(new ArrayList<>());
        }
        waves.get(k).add(groups.get(k));
      }
    });
    for (int i = 0; i < batch.size(); i++) {
      if (kinds[i] == Kind.NEW) {
        ChatMessage m = batch.get(i);
        waves.get(0).add(WriteBatches.Unit.of(
            insertDedupe.bind(m.from(), m.msgId(), m.conv(), m.serverId(), m.ts(), dedupeTtlS), m.from(), m.msgId()));
      }
    }
    waves.get(0).addAll(aheadWrites);
    Future<Void> written = Future.succeededFuture();
    for (List<WriteBatches.Unit> wave : waves) {
      written = written.compose(v -> execute(WriteBatches.pack(wave)));
    }
    Future<Void> rows = written;
    List<Future<ChatMessage>> results = new ArrayList<>(Collections.nCopies(batch.size(), null));
    return inChunks(batch.size(), i -> {
      ChatMessage m = batch.get(i);
      Future<ChatMessage> f = switch (kinds[i]) {
        case REPEAT -> results.get(first[i]);
        case RETRY -> original(batch, first, i, dedupes.get(i).get());
        case REREAD -> bucketFor(m).compose(b -> writeRow(b, m)).map(m);
        case NEW -> (buckets[i] == Long.MIN_VALUE ? Future.all(bucketFor(m).compose(b -> writeRow(b, m)), rows) : rows)
            .map(m);
      };
      results.set(i, f);
      return f;
    });
  }

  /**
   * The {@code message_ahead} rows of the batch's retries ({@code "first": false}) stored under
   * their own id, new or read again (writing a key again repairs an attempt that failed after the
   * dedupe row); they go with the first wave of writes, before the batch is committed.
   */
  private List<WriteBatches.Unit> aheadWrites(List<LogSource.Logged> records, long[] tokens, Kind[] kinds) {
    if (records == null) {
      return List.of();
    }
    List<WriteBatches.Unit> out = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      LogSource.Logged l = records.get(i);
      if (Boolean.FALSE.equals(l.first()) && (kinds[i] == Kind.NEW || kinds[i] == Kind.REREAD)) {
        ChatMessage m = l.message();
        out.add(ahead.add(l.partition(), tokens[i], m.from(), m.msgId(), m.conv()));
      }
    }
    return out;
  }

  /** Runs the statements, at most {@link #MAX_IN_FLIGHT} at a time; fails with the first failure. */
  private Future<Void> execute(List<Statement<?>> statements) {
    return inChunks(statements.size(), i -> client.execute(statements.get(i)).<Void>mapEmpty()).mapEmpty();
  }

  /**
   * The bucket an already placed id lives in: its segment's. Without one (no segment at or below
   * the id: nothing of the conversation is readable there), a segment from this id is written.
   */
  private Future<Long> bucketFor(ChatMessage m) {
    return client.executeWithFullFetch(selectSegment.bind(m.conv(), m.serverId())).compose(rows -> {
      List<Segment> s = MessageTables.segments(rows);
      if (!s.isEmpty()) {
        return Future.succeededFuture(s.get(0).bucket());
      }
      long bucket = bucketOf(m.ts(), bucketMs);
      return client.execute(insertSegment.bind(m.conv(), m.serverId(), bucket)).map(bucket);
    });
  }

  /**
   * The message a dedupe row points at: the batch's own copy when the original's record is in the
   * batch too (it is written there), else read from its bucket.
   */
  private Future<ChatMessage> original(List<ChatMessage> batch, int[] first, int i, Dedupe d) {
    for (int j = i + 1; j < batch.size(); j++) {
      if (first[j] == i && batch.get(j).serverId() == d.id()) {
        return Future.succeededFuture(batch.get(j));
      }
    }
    return originals.read(d).compose(o -> o.map(Future::succeededFuture).orElseGet(() -> Future.failedFuture(
        new IllegalStateException("original " + d.id() + " of conversation " + d.conv() + " is not readable (not stored yet?)"))));
  }

  /**
   * The rows of new messages of one conversation in {@code bucket}, in id order, as groups of at
   * most {@link #ROWS_PER_WRITE} rows and {@link #CHARS_PER_WRITE} frame characters: each group is
   * one partition's part of a write (applied atomically and in isolation by Cassandra), and
   * {@link #store} writes a partition's groups one after the other. A reader therefore sees a prefix
   * of the rows in id order; and one round trip writes a group (with other partitions' groups, see
   * {@link WriteBatches}) instead of one per row.
   */
  private List<WriteBatches.Unit> rowGroups(long bucket, List<ChatMessage> rows) {
    List<ChatMessage> sorted = new ArrayList<>(rows);
    sorted.sort(Comparator.comparingLong(ChatMessage::serverId));
    List<WriteBatches.Unit> groups = new ArrayList<>();
    int start = 0;
    while (start < sorted.size()) {
      int end = start;
      long chars = 0;
      long bytes = 0;
      List<BatchableStatement<?>> group = new ArrayList<>();
      while (end < sorted.size() && group.size() < ROWS_PER_WRITE && (group.isEmpty() || chars < CHARS_PER_WRITE)) {
        ChatMessage m = sorted.get(end++);
        String frame = m.toFrame();
        chars += frame.length();
        bytes += WriteBatches.bytes(m.from(), m.msgId(), frame);
        group.add(insertMessage.bind(m.conv(), bucket, m.serverId(), m.from(), m.msgId(), frame));
      }
      start = end;
      groups.add(new WriteBatches.Unit(group, bytes));
    }
    return groups;
  }

  /** Writes a message's row into {@code bucket} (an upsert: writing it again changes nothing). */
  private Future<Void> writeRow(long bucket, ChatMessage m) {
    return client.execute(insertMessage.bind(m.conv(), bucket, m.serverId(), m.from(), m.msgId(), m.toFrame())).mapEmpty();
  }

  /** For each index, the index of the first message of the batch with the same (sender, msg id) (itself when it is the first). */
  private static int[] firstOccurrences(List<ChatMessage> batch) {
    int[] first = new int[batch.size()];
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      ChatMessage m = batch.get(i);
      Integer earlier = seen.putIfAbsent(m.from() + '\0' + m.msgId(), i);
      first[i] = earlier == null ? i : earlier;
    }
    return first;
  }

  /**
   * Each conversation's {@code last_message_id}: a plain write per conversation (up to
   * {@link WriteBatches#MAX_PARTITIONS} of them per round trip), skipped when this
   * archive already wrote a newer id (one routing owner per conversation writes them in log order).
   * After a crash, the successor's replay may set an older id for a moment before the newest again.
   * Routing only ever persists messages of existing conversations (the gateway checked membership);
   * for an unknown one the write makes a row without a type, which reads as no conversation.
   */
  private Future<Void> setLastMessageIds(Map<Long, Long> newest) {
    List<Map.Entry<Long, Long>> marks = new ArrayList<>();
    for (Map.Entry<Long, Long> e : newest.entrySet()) {
      Long written = lastWritten.get(e.getKey());
      if (written == null || written < e.getValue()) {
        marks.add(e);
      }
    }
    List<WriteBatches.Unit> units = new ArrayList<>(marks.size());
    marks.forEach(e -> units.add(WriteBatches.Unit.of(setLast.bind(e.getValue(), e.getKey()))));
    return execute(WriteBatches.pack(units))
        .onSuccess(v -> marks.forEach(e -> lastWritten.merge(e.getKey(), e.getValue(), Math::max)));
  }

  private static <V> Map<Long, V> lru() {
    return new LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, V> eldest) {
        return size() > SEGMENT_CACHE_MAX;
      }
    };
  }

  /**
   * Runs {@code task} for indexes 0 .. n - 1 in chunks of {@link #MAX_IN_FLIGHT}: a chunk's tasks
   * concurrently, the next chunk once the previous one succeeded. Tasks start in index order, so a
   * task may depend on the future of a lower index. Completes with the results in index order, or
   * fails, once every task of the failing chunk has finished, with the first failure.
   */
  static <T> Future<List<T>> inChunks(int n, IntFunction<Future<T>> task) {
    List<T> out = new ArrayList<>(n);
    Future<Void> chain = Future.succeededFuture();
    for (int start = 0; start < n; start += MAX_IN_FLIGHT) {
      int from = start;
      int to = Math.min(n, start + MAX_IN_FLIGHT);
      chain = chain.compose(v -> {
        List<Future<T>> chunk = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
          Future<T> f;
          try {
            f = task.apply(i);
          } catch (RuntimeException e) {
            f = Future.failedFuture(e);
          }
          chunk.add(f);
        }
        return Future.join(chunk).<Void>transform(ar -> {
          if (ar.failed()) {
            return Future.failedFuture(ar.cause());
          }
          chunk.forEach(f -> out.add(f.result()));
          return Future.succeededFuture();
        });
      });
    }
    return chain.map(v -> out);
  }
}
