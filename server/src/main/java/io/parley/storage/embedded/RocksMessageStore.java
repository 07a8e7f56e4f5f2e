package io.parley.storage.embedded;

import static io.parley.storage.embedded.RocksStorage.longAt;
import static io.parley.storage.embedded.RocksStorage.longKey;
import static io.parley.storage.embedded.RocksStorage.longLongKey;
import static io.parley.storage.embedded.RocksStorage.userKey;
import static io.parley.storage.embedded.RocksStorage.utf8;

import io.parley.history.MessagePage;
import io.parley.history.MessageStore;
import io.parley.history.StoredMessage;
import io.parley.history.Tombstones;
import io.parley.metrics.IoMeter;
import io.parley.metrics.NodeMetrics;
import io.parley.protocol.ChatMessage;
import io.parley.protocol.Ids;
import io.parley.routing.MessageLog;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * Messages in RocksDB: the embedded profile's log and store at once. Each {@link #append} batch is
 * one atomic write (message rows, dedupe keys, id floor) made on a single
 * writer thread, so batches are group commits and ids follow batch order.
 */
public final class RocksMessageStore implements MessageLog, MessageStore {
  private final RocksStorage storage;
  private final Ids ids;
  private final WorkerExecutor writer;
  private final WorkerExecutor readers;
  private final ColumnFamilyHandle messages;
  private final ColumnFamilyHandle dedupe;
  private final ColumnFamilyHandle meta;
  private final IoMeter appendMeter;
  private final IoMeter readMeter;

  /**
   * @param writer a single-thread executor for appends
   * @param readers an executor for history reads
   */
  public RocksMessageStore(RocksStorage storage, Ids ids, WorkerExecutor writer, WorkerExecutor readers) {
    this(storage, ids, writer, readers, NodeMetrics.none());
  }

  /** @param metrics times each group commit ({@code append}) and history read ({@code read}), counts failed appends */
  public RocksMessageStore(RocksStorage storage, Ids ids, WorkerExecutor writer, WorkerExecutor readers, NodeMetrics metrics) {
    this.appendMeter = metrics.storageMeter("rocksdb", "append", true);
    this.readMeter = metrics.storageMeter("rocksdb", "read", false);
    this.storage = storage;
    this.ids = ids;
    this.writer = writer;
    this.readers = readers;
    this.messages = storage.cf(RocksStorage.MESSAGES);
    this.dedupe = storage.cf(RocksStorage.DEDUPE);
    this.meta = storage.cf(RocksStorage.META);
  }

  @Override
  public Future<List<Appended>> append(List<NewMessage> batch) {
    return writer.executeBlocking(() -> {
      long t0 = System.nanoTime();
      try {
        List<Appended> out = appendBlocking(batch);
        appendMeter.succeeded(t0);
        return out;
      } catch (RocksDBException | RuntimeException e) {
        appendMeter.failed();
        throw e;
      }
    }, true);
  }

  private List<Appended> appendBlocking(List<NewMessage> batch) throws RocksDBException {
    List<Appended> out = new ArrayList<>(batch.size());
    Map<String, Appended> inBatch = new HashMap<>();
    long maxId = 0;
    try (WriteBatch wb = new WriteBatch()) {
      for (NewMessage m : batch) {
        byte[] dedupeKey = userKey(m.from(), utf8(m.msgId()));
        String batchKey = m.from() + '\0' + m.msgId();
        Appended earlier = inBatch.get(batchKey);
        if (earlier == null) {
          earlier = stored(dedupeKey);
        }
        if (earlier != null) {
          out.add(new Appended(earlier.message(), earlier.frame(), true));
          continue;
        }
        long id = ids.next();
        long ts = System.currentTimeMillis();
        ChatMessage msg = new ChatMessage(m.conv(), id, m.from(), m.msgId(), m.body(), m.media(), ts);
        String frame = msg.toFrame();
        wb.put(messages, longLongKey(m.conv(), id), utf8(frame));
        wb.put(dedupe, dedupeKey, longLongKey(m.conv(), id));
        Appended appended = new Appended(msg, frame, false);
        inBatch.put(batchKey, appended);
        maxId = id;
        out.add(appended);
      }
      if (maxId > 0) {
        wb.put(meta, RocksStorage.FLOOR_LOG, longKey(maxId));
        storage.db.write(storage.durableWrites(), wb);
      }
    }
    return out;
  }

  private Appended stored(byte[] dedupeKey) throws RocksDBException {
    byte[] ref = storage.db.get(dedupe, dedupeKey);
    if (ref == null) {
      return null;
    }
    byte[] bytes = storage.db.get(messages, ref);
    if (bytes == null) {
      return null;
    }
    String frame = new String(bytes, StandardCharsets.UTF_8);
    ChatMessage m = Tombstones.message(frame);
    // a taken-down message's retry: acked as the duplicate it is, with the tombstone's ids
    return new Appended(m, Tombstones.is(frame) ? m.toFrame() : frame, true);
  }

  @Override
  public Future<Optional<StoredMessage>> get(long conv, long serverId) {
    return readers.executeBlocking(() -> {
      byte[] v = storage.db.get(messages, longLongKey(conv, serverId));
      return v == null || isTombstone(v) ? Optional.<StoredMessage>empty() : Optional.of(toStored(longLongKey(conv, serverId), v));
    }, false);
  }

  /**
   * Replaces the message's row by its tombstone on the log's writer (so it never races an append
   * of the same conversation's rows), durably; the dedupe key keeps pointing at the row.
   */
  @Override
  public Future<Optional<String>> takedown(long conv, long serverId) {
    return writer.executeBlocking(() -> {
      byte[] key = longLongKey(conv, serverId);
      byte[] v = storage.db.get(messages, key);
      if (v == null) {
        return Optional.<String>empty();
      }
      String frame = new String(v, StandardCharsets.UTF_8);
      if (Tombstones.is(frame)) {
        return Optional.of(frame);
      }
      String tombstone = Tombstones.frame(ChatMessage.fromFrame(frame), System.currentTimeMillis());
      try (WriteBatch wb = new WriteBatch()) {
        wb.put(messages, key, utf8(tombstone));
        storage.db.write(storage.durableWrites(), wb);
      }
      return Optional.of(tombstone);
    }, true);
  }

  private static final byte[] TOMBSTONE_PREFIX = "{\"op\":\"deleted\"".getBytes(StandardCharsets.UTF_8);

  /** Whether a row is a tombstone, from its first bytes (no decoding). */
  private static boolean isTombstone(byte[] v) {
    int n = TOMBSTONE_PREFIX.length;
    return v.length >= n && java.util.Arrays.equals(v, 0, n, TOMBSTONE_PREFIX, 0, n);
  }

  @Override
  public Future<MessagePage> before(long conv, long beforeId, int limit) {
    if (beforeId <= 1) {
      return Future.succeededFuture(new MessagePage(List.of(), false));
    }
    return readers.executeBlocking(() -> {
      long t0 = System.nanoTime();
      List<StoredMessage> out = new ArrayList<>(Math.min(limit, 256));
      boolean more = false;
      try (RocksIterator it = storage.db.newIterator(messages)) {
        it.seekForPrev(longLongKey(conv, beforeId - 1));
        for (; it.isValid(); it.prev()) {
          byte[] k = it.key();
          if (longAt(k, 0) != conv) {
            break;
          }
          byte[] v = it.value();
          if (isTombstone(v)) {
            continue;
          }
          if (out.size() == limit) {
            more = true;
            break;
          }
          out.add(toStored(k, v));
        }
      }
      readMeter.succeeded(t0);
      return new MessagePage(out, more);
    }, false);
  }

  @Override
  public Future<MessagePage> after(long conv, long afterId, int limit) {
    return readers.executeBlocking(() -> {
      long t0 = System.nanoTime();
      List<StoredMessage> out = new ArrayList<>(Math.min(limit, 256));
      boolean more = false;
      try (RocksIterator it = storage.db.newIterator(messages)) {
        it.seekForPrev(longLongKey(conv, Long.MAX_VALUE));
        for (; it.isValid(); it.prev()) {
          byte[] k = it.key();
          if (longAt(k, 0) != conv || longAt(k, 8) <= afterId) {
            break;
          }
          byte[] v = it.value();
          if (isTombstone(v)) {
            continue;
          }
          if (out.size() == limit) {
            more = true;
            break;
          }
          out.add(toStored(k, v));
        }
      }
      Collections.reverse(out);
      readMeter.succeeded(t0);
      return new MessagePage(out, more);
    }, false);
  }

  private static StoredMessage toStored(byte[] key, byte[] value) {
    String frame = new String(value, StandardCharsets.UTF_8);
    return new StoredMessage(longAt(key, 0), longAt(key, 8), fromOf(frame), frame);
  }

  /** The sender, read from the frame without a full parse of the body. */
  private static String fromOf(String frame) {
    int i = frame.indexOf("\"from\":\"");
    if (i < 0) {
      return ChatMessage.fromFrame(frame).from();
    }
    int start = i + 8;
    return frame.substring(start, frame.indexOf('"', start));
  }
}
