package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.history.MessagePage;
import io.parley.history.MessageStore;
import io.parley.history.StoredMessage;
import io.parley.protocol.ChatMessage;
import io.parley.protocol.Ids;
import io.parley.routing.MessageArchive;
import io.parley.routing.MessageLog;
import io.parley.routing.SendIndex;
import io.vertx.cassandra.CassandraClient;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * Messages in Cassandra: the cluster profile's message store, a {@link MessageLog} writing
 * straight to it (server ids from {@link Ids}), and the {@link MessageArchive} / {@link SendIndex}
 * that routing uses when Kafka is the log (messages arrive with their server ids already set).
 *
 * <p>{@link #persist} relies on routing's single owner per partition and uses plain reads and
 * writes (see {@code claimPlain}, {@code setLastMessageIds}): one Paxos round per message was the
 * routing bottleneck (a 2-core node with everything local delivered about 500 msgs/s). The
 * procedure below, with LWTs, is {@link #append}'s, which has no such owner.
 *
 * <p>Both write paths share one procedure per message: an LWT
 * {@code INSERT INTO message_dedupe ... IF NOT EXISTS} keyed on (sender, client msg id) that also
 * carries the conversation, the server id and the encoded frame; then the {@code messages} row.
 * When the LWT does not apply, the existing dedupe row comes back in its answer:
 * <ul>
 *   <li>{@link #append}: the original is returned with {@code duplicate} set, and the original's
 *       {@code messages} row is re-written (idempotent; repairs a writer that died between the two
 *       writes).
 *   <li>{@link #persist}: when the stored id is this message's id (the same log record read again
 *       after a crash or rebalance) the row is re-written and the message counts as stored
 *       ({@code true}); when it is another id (a retried send that reached the log twice) nothing
 *       is written and the result is {@code false}.
 * </ul>
 * Repeats of a (sender, msg id) inside one batch resolve against the batch's first occurrence
 * without another LWT. Then one LWT per conversation raises {@code conversations.last_message_id}
 * ({@code IF last_message_id < ?}: it never goes back, and no row is made for an unknown
 * conversation) to the newest id stored by the batch. The future completes once all of it is
 * written at LOCAL_QUORUM, and fails as a whole otherwise.
 *
 * <p>A batch is not one atomic write here (Cassandra batches spanning partitions are not
 * isolated); each message is individually idempotent, so a failed batch is safely retried whole.
 * Messages are written concurrently, at most {@link #MAX_IN_FLIGHT} at a time (a batch polled
 * from Kafka can hold hundreds). {@link #append} writes a message's dedupe row before its row;
 * {@link #persist} writes both at once after its dedupe read (a retry after a partial failure
 * finds the dedupe row with the same id and writes the message row again).
 */
public final class CassandraMessageStore implements MessageLog, MessageStore, MessageArchive, SendIndex {
  /** The most messages (or conversation marks) of one batch being written at the same time. */
  static final int MAX_IN_FLIGHT = 64;

  private final CassandraClient client;
  private final Ids ids;
  private final PreparedStatement insertDedupe;
  private final PreparedStatement insertMessage;
  private final PreparedStatement raiseLast;
  private final PreparedStatement selectOne;
  private final PreparedStatement selectBefore;
  private final PreparedStatement selectAfter;
  private final PreparedStatement selectDedupe;
  private final PreparedStatement insertDedupePlain;
  private final PreparedStatement selectClaim;
  private final PreparedStatement setLast;
  /** persist: the newest last_message_id this store wrote per conversation (bounded LRU). */
  private final Map<Long, Long> lastWritten = new LinkedHashMap<>(1024, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Long> eldest) {
      return size() > 100_000;
    }
  };

  /** What a (sender, client msg id) is stored as: its dedupe row, just claimed or found there. */
  private record Claim(boolean applied, long conv, long id, String frame) {}

  private CassandraMessageStore(CassandraClient client, Ids ids, List<PreparedStatement> p) {
    this.client = client;
    this.ids = ids;
    this.insertDedupe = p.get(0);
    this.insertMessage = p.get(1);
    this.raiseLast = p.get(2);
    this.selectOne = p.get(3);
    this.selectBefore = p.get(4);
    this.selectAfter = p.get(5);
    this.selectDedupe = p.get(6);
    this.insertDedupePlain = p.get(7);
    this.selectClaim = p.get(8);
    this.setLast = p.get(9);
  }

  /**
   * Prepares the statements (the schema must exist) and returns the ready store.
   *
   * @param ids the server ids {@link #append} assigns ({@link #persist} takes the messages' own)
   */
  public static Future<CassandraMessageStore> create(CassandraClient client, CassandraNames n, Ids ids) {
    List<String> cql = List.of(
        "INSERT INTO " + n.messageDedupe() + " (sender, client_msg_id, conversation_id, message_id, frame)"
            + " VALUES (?, ?, ?, ?, ?) IF NOT EXISTS",
        "INSERT INTO " + n.messages() + " (conversation_id, message_id, sender, client_msg_id, frame) VALUES (?, ?, ?, ?, ?)",
        "UPDATE " + n.conversations() + " SET last_message_id = ? WHERE conversation_id = ? IF last_message_id < ?",
        "SELECT message_id, sender, frame FROM " + n.messages() + " WHERE conversation_id = ? AND message_id = ?",
        "SELECT message_id, sender, frame FROM " + n.messages() + " WHERE conversation_id = ? AND message_id < ? LIMIT ?",
        "SELECT message_id, sender, frame FROM " + n.messages() + " WHERE conversation_id = ? AND message_id > ? LIMIT ?",
        "SELECT frame FROM " + n.messageDedupe() + " WHERE sender = ? AND client_msg_id = ?",
        "INSERT INTO " + n.messageDedupe() + " (sender, client_msg_id, conversation_id, message_id, frame)"
            + " VALUES (?, ?, ?, ?, ?)",
        "SELECT conversation_id, message_id, frame FROM " + n.messageDedupe() + " WHERE sender = ? AND client_msg_id = ?",
        "UPDATE " + n.conversations() + " SET last_message_id = ? WHERE conversation_id = ?");
    List<Future<PreparedStatement>> prepared = cql.stream().map(client::prepare).toList();
    return Future.all(prepared)
        .map(all -> new CassandraMessageStore(client, ids, prepared.stream().map(Future::result).toList()));
  }

  // ---- MessageLog: assigns ids, hands back the original of a duplicate ----

  @Override
  public Future<List<Appended>> append(List<NewMessage> batch) {
    if (batch.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    int[] first = firstOccurrences(batch, m -> dedupeKey(m.from(), m.msgId()));
    // ids in batch order, one per first occurrence
    List<ChatMessage> messages = new ArrayList<>(batch.size());
    for (int i = 0; i < batch.size(); i++) {
      NewMessage m = batch.get(i);
      messages.add(first[i] != i ? null : new ChatMessage(m.conv(), ids.next(), m.from(), m.msgId(), m.body(), m.media(),
          System.currentTimeMillis()));
    }
    List<Future<Appended>> originals = new ArrayList<>(Collections.nCopies(batch.size(), null));
    return inChunks(batch.size(), i -> {
      if (first[i] != i) {
        return originals.get(first[i]).map(a -> a.duplicate() ? a : new Appended(a.message(), a.frame(), true));
      }
      ChatMessage msg = messages.get(i);
      String frame = msg.toFrame();
      Future<Appended> written = claim(msg, frame).compose(c -> writeRow(c, msg.from(), msg.msgId()).map(c.applied()
          ? new Appended(msg, frame, false)
          : new Appended(ChatMessage.fromFrame(c.frame()), c.frame(), true)));
      originals.set(i, written);
      return written;
    }).compose(out -> {
      Map<Long, Long> newest = new LinkedHashMap<>();
      for (Appended a : out) {
        if (!a.duplicate()) {
          newest.merge(a.message().conv(), a.message().serverId(), Math::max);
        }
      }
      return raiseLastMessageIds(newest).map(out);
    });
  }

  // ---- MessageArchive: ids come with the messages ----

  @Override
  public Future<List<Boolean>> persist(List<ChatMessage> batch) {
    if (batch.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    int[] first = firstOccurrences(batch, m -> dedupeKey(m.from(), m.msgId()));
    List<Future<Claim>> claims = new ArrayList<>(Collections.nCopies(batch.size(), null));
    return inChunks(batch.size(), i -> {
      ChatMessage msg = batch.get(i);
      if (first[i] != i) {
        long winner = batch.get(first[i]).serverId();
        return claims.get(first[i]).compose(c -> {
          if (c.id() != msg.serverId()) {
            return Future.succeededFuture(false);
          }
          // same id as stored: the first occurrence wrote the row unless it was another id itself
          return winner == c.id() ? Future.succeededFuture(true) : writeRow(c, msg.from(), msg.msgId()).map(true);
        });
      }
      // a fresh claim wrote its row already; a claim found with this very id (the record read again
      // after a failed attempt) writes the row again, in case that attempt did not get that far
      Future<Claim> claimed = claimPlain(msg, msg.toFrame())
          .compose(c -> !c.applied() && c.id() == msg.serverId() ? writeRow(c, msg.from(), msg.msgId())
              : Future.succeededFuture(c));
      claims.set(i, claimed);
      return claimed.map(c -> c.id() == msg.serverId());
    }).compose(stored -> {
      Map<Long, Long> newest = new LinkedHashMap<>();
      for (int i = 0; i < stored.size(); i++) {
        if (stored.get(i)) {
          newest.merge(batch.get(i).conv(), batch.get(i).serverId(), Math::max);
        }
      }
      return setLastMessageIds(newest).map(stored);
    });
  }

  // ---- SendIndex ----

  @Override
  public Future<Optional<ChatMessage>> find(String from, String msgId) {
    return client.executeWithFullFetch(selectDedupe.bind(from, msgId)).map(rows -> rows.isEmpty() || rows.get(0).isNull("frame")
        ? Optional.<ChatMessage>empty()
        : Optional.of(ChatMessage.fromFrame(rows.get(0).getString("frame"))));
  }

  // ---- the shared write steps ----

  private static String dedupeKey(String from, String msgId) {
    return from + '\0' + msgId;
  }

  /** For each index, the index of the first element of the batch with the same key (itself when it is the first). */
  private static <M> int[] firstOccurrences(List<M> batch, Function<M, String> key) {
    int[] first = new int[batch.size()];
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      Integer earlier = seen.putIfAbsent(key.apply(batch.get(i)), i);
      first[i] = earlier == null ? i : earlier;
    }
    return first;
  }

  /** The dedupe LWT: claims (sender, msg id) for this message, or returns what it is already stored as. */
  private Future<Claim> claim(ChatMessage msg, String frame) {
    return client.execute(insertDedupe.bind(msg.from(), msg.msgId(), msg.conv(), msg.serverId(), frame)).map(rs -> {
      if (rs.wasApplied()) {
        return new Claim(true, msg.conv(), msg.serverId(), frame);
      }
      Row stored = rs.one();
      return new Claim(false, stored.getLong("conversation_id"), stored.getLong("message_id"), stored.getString("frame"));
    });
  }

  /**
   * persist's claim, without Paxos: read the dedupe row; when absent, write it and the message
   * row. Sound because one routing consumer at a time owns a conversation's partition and
   * persists its records in log order (one batch at a time), so no other writer races it for a
   * (sender, msg id) of that conversation; an owner that stalls past the poll interval while its successor re-reads the
   * same records writes the same ids. What it gives up against the LWT: a client reusing one
   * msg id in two conversations at the same moment (two partitions) could have both stored.
   */
  private Future<Claim> claimPlain(ChatMessage msg, String frame) {
    return client.executeWithFullFetch(selectClaim.bind(msg.from(), msg.msgId())).compose(rows -> {
      if (!rows.isEmpty()) {
        Row stored = rows.get(0);
        return Future.succeededFuture(new Claim(false, stored.getLong("conversation_id"), stored.getLong("message_id"),
            stored.getString("frame")));
      }
      // both rows at once: one round trip instead of two. Should only the dedupe row land, the
      // retried persist finds it with this message's id and writes the message row then.
      Claim fresh = new Claim(true, msg.conv(), msg.serverId(), frame);
      return Future.all(
              client.execute(insertDedupePlain.bind(msg.from(), msg.msgId(), msg.conv(), msg.serverId(), frame)),
              writeRow(fresh, msg.from(), msg.msgId()))
          .map(fresh);
    });
  }

  /**
   * persist's {@code last_message_id}: a plain write per conversation, skipped when this store
   * already wrote a newer id (one routing owner per conversation writes them in log order). After
   * a crash, the successor's replay may set an older id for a moment before the newest again.
   * Routing only ever persists messages of existing conversations (the gateway checked membership).
   */
  private Future<Void> setLastMessageIds(Map<Long, Long> newest) {
    List<Map.Entry<Long, Long>> marks = new ArrayList<>();
    for (Map.Entry<Long, Long> e : newest.entrySet()) {
      Long written = lastWritten.get(e.getKey());
      if (written == null || written < e.getValue()) {
        marks.add(e);
      }
    }
    return inChunks(marks.size(), i -> client.execute(setLast.bind(marks.get(i).getValue(), marks.get(i).getKey()))
        .<Void>mapEmpty()).onSuccess(v -> marks.forEach(e -> lastWritten.merge(e.getKey(), e.getValue(), Math::max)))
        .mapEmpty();
  }

  /** Writes the {@code messages} row of a claim (an upsert: writing it again changes nothing). */
  private Future<Claim> writeRow(Claim c, String from, String msgId) {
    return client.execute(insertMessage.bind(c.conv(), c.id(), from, msgId, c.frame())).map(c);
  }

  /** Raises each conversation's {@code last_message_id} to the given id, never lowering it. */
  private Future<Void> raiseLastMessageIds(Map<Long, Long> newest) {
    List<Map.Entry<Long, Long>> marks = List.copyOf(newest.entrySet());
    return inChunks(marks.size(), i -> {
      long conv = marks.get(i).getKey();
      long id = marks.get(i).getValue();
      return client.execute(raiseLast.bind(id, conv, id)).<Void>mapEmpty();
    }).mapEmpty();
  }

  /**
   * Runs {@code task} for indexes 0 .. n - 1 in chunks of {@link #MAX_IN_FLIGHT}: a chunk's tasks
   * concurrently, the next chunk once the previous one succeeded. Tasks start in index order, so a
   * task may depend on the future of a lower index. Completes with the results in index order, or
   * fails, once every task of the failing chunk has finished, with the first failure.
   */
  private static <T> Future<List<T>> inChunks(int n, IntFunction<Future<T>> task) {
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

  // ---- MessageStore: reads ----

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
