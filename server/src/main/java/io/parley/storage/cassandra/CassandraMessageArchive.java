package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.parley.protocol.ChatMessage;
import io.parley.routing.MessageArchive;
import io.vertx.cassandra.CassandraClient;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The cluster profile's {@link MessageArchive}: routing persists the messages it read from the log,
 * server ids already set, into the {@code message_dedupe}, {@code messages} and
 * {@code conversations} tables.
 *
 * <p>It relies on routing's single owner per partition and uses plain reads and writes, no
 * lightweight transactions (see {@link #claim}, {@link #setLastMessageIds}): one Paxos round per
 * message was the routing bottleneck (a 2-core node with everything local delivered about 500
 * msgs/s).
 *
 * <p>Per message: read the dedupe row keyed on (sender, client msg id), which carries the
 * conversation, the server id and the encoded frame. When there is none, the dedupe row and the
 * {@code messages} row are written at once and the message counts as stored ({@code true}). When
 * there is one with this message's id (the same log record read again after a crash or
 * rebalance), the message row is written again (an upsert; it repairs an attempt that stopped
 * after the dedupe row) and the result is {@code true}; with another id (a retried send that
 * reached the log twice) nothing is written and the result is {@code false}. Repeats of a
 * (sender, msg id) inside one batch resolve against the batch's first occurrence without another
 * read. Then each conversation's {@code last_message_id} is set to the newest id stored by the
 * batch. The future completes once all of it is written at LOCAL_QUORUM, and fails as a whole
 * otherwise.
 *
 * <p>A batch is not one atomic write here (Cassandra batches spanning partitions are not
 * isolated); each message is individually idempotent, so a failed batch is safely retried whole.
 * Messages are written concurrently, at most {@link #MAX_IN_FLIGHT} at a time (a batch polled
 * from Kafka can hold hundreds).
 */
public final class CassandraMessageArchive implements MessageArchive {
  /** The most messages (or conversation marks) of one batch being written at the same time. */
  static final int MAX_IN_FLIGHT = 64;

  private final CassandraClient client;
  private final PreparedStatement insertMessage;
  private final PreparedStatement insertDedupe;
  private final PreparedStatement selectDedupe;
  private final PreparedStatement setLast;
  /** The newest last_message_id this archive wrote per conversation (bounded LRU). */
  private final Map<Long, Long> lastWritten = new LinkedHashMap<>(1024, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Long> eldest) {
      return size() > 100_000;
    }
  };

  /** What a (sender, client msg id) is stored as: its dedupe row, just written ({@code fresh}) or found there. */
  private record Claim(boolean fresh, long conv, long id, String frame) {}

  private CassandraMessageArchive(CassandraClient client, List<PreparedStatement> p) {
    this.client = client;
    this.insertMessage = p.get(0);
    this.insertDedupe = p.get(1);
    this.selectDedupe = p.get(2);
    this.setLast = p.get(3);
  }

  /** Prepares the statements (the schema must exist) and returns the ready archive. */
  public static Future<CassandraMessageArchive> create(CassandraClient client, CassandraNames names) {
    MessageTables t = new MessageTables(names);
    return MessageTables.prepare(client, List.of(t.insertMessage(), t.insertDedupe(), t.selectDedupe(), t.setLastMessageId()))
        .map(p -> new CassandraMessageArchive(client, p));
  }

  @Override
  public Future<List<ChatMessage>> persist(List<ChatMessage> batch) {
    if (batch.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    int[] first = firstOccurrences(batch);
    List<Future<Claim>> claims = new ArrayList<>(Collections.nCopies(batch.size(), null));
    return inChunks(batch.size(), i -> {
      ChatMessage msg = batch.get(i);
      if (first[i] != i) {
        long winner = batch.get(first[i]).serverId();
        return claims.get(first[i]).compose(c -> {
          if (c.id() != msg.serverId()) {
            return Future.succeededFuture(original(c));
          }
          // same id as stored: the first occurrence wrote the row unless it was another id itself
          return winner == c.id() ? Future.succeededFuture(msg) : writeRow(c, msg.from(), msg.msgId()).map(msg);
        });
      }
      // a fresh claim wrote its row already; a claim found with this very id (the record read again
      // after a failed attempt) writes the row again, in case that attempt did not get that far
      Future<Claim> claimed = claim(msg, msg.toFrame())
          .compose(c -> !c.fresh() && c.id() == msg.serverId() ? writeRow(c, msg.from(), msg.msgId())
              : Future.succeededFuture(c));
      claims.set(i, claimed);
      return claimed.map(c -> c.id() == msg.serverId() ? msg : original(c));
    }).compose(stored -> {
      Map<Long, Long> newest = new LinkedHashMap<>();
      for (int i = 0; i < stored.size(); i++) {
        if (stored.get(i).serverId() == batch.get(i).serverId()) {
          newest.merge(batch.get(i).conv(), batch.get(i).serverId(), Math::max);
        }
      }
      return setLastMessageIds(newest).map(stored);
    });
  }

  /** The message a claim found stored (its frame carries every field). */
  private static ChatMessage original(Claim c) {
    return ChatMessage.fromFrame(c.frame());
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
   * Claims (sender, msg id) for this message without Paxos: read the dedupe row; when absent, write
   * it and the message row. Sound because one routing consumer at a time owns a conversation's
   * partition and persists its records in log order (one batch at a time), so no other writer
   * races it for a (sender, msg id) of that conversation; an owner that stalls past the poll
   * interval while its successor re-reads the same records writes the same ids. What it gives up
   * against a lightweight transaction: a client reusing one msg id in two conversations at the
   * same moment (two partitions) could have both stored.
   */
  private Future<Claim> claim(ChatMessage msg, String frame) {
    return client.executeWithFullFetch(selectDedupe.bind(msg.from(), msg.msgId())).compose(rows -> {
      var stored = MessageTables.dedupe(rows);
      if (stored.isPresent()) {
        return Future.succeededFuture(new Claim(false, stored.get().conv(), stored.get().id(), stored.get().frame()));
      }
      // both rows at once: one round trip instead of two. Should only the dedupe row land, the
      // retried persist finds it with this message's id and writes the message row then.
      Claim fresh = new Claim(true, msg.conv(), msg.serverId(), frame);
      return Future.all(
              client.execute(insertDedupe.bind(msg.from(), msg.msgId(), msg.conv(), msg.serverId(), frame)),
              writeRow(fresh, msg.from(), msg.msgId()))
          .map(fresh);
    });
  }

  /**
   * Each conversation's {@code last_message_id}: a plain write per conversation, skipped when this
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
    return inChunks(marks.size(), i -> client.execute(setLast.bind(marks.get(i).getValue(), marks.get(i).getKey()))
        .<Void>mapEmpty()).onSuccess(v -> marks.forEach(e -> lastWritten.merge(e.getKey(), e.getValue(), Math::max)))
        .mapEmpty();
  }

  /** Writes the {@code messages} row of a claim (an upsert: writing it again changes nothing). */
  private Future<Claim> writeRow(Claim c, String from, String msgId) {
    return client.execute(insertMessage.bind(c.conv(), c.id(), from, msgId, c.frame())).map(c);
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
}
