package io.parley.storage.embedded;

import io.parley.push.PushJob;
import io.parley.push.PushQueue;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded profile's {@link PushQueue}: family {@code push_queue}, sequence number (8 bytes,
 * big-endian) → job JSON. Appends are durable writes (the WAL synced when {@code storage.fsync} is
 * on); finished jobs are deleted in batches with relaxed writes (a delete lost in a crash only
 * repeats a notification). Every RocksDB call runs on one single-thread executor, so a read sees
 * every append submitted before it.
 *
 * <p>Appends are group-committed: those arriving while a write is in flight share the next one.
 *
 * <p>Hand-out: a batch whose append completes while nothing older waits on disk and there is room
 * ({@code maxOutstanding}) is handed out from memory; otherwise it stays on disk and a read from
 * the cursor (the first sequence number not handed out yet) brings it in once at most half of
 * {@code maxOutstanding} is out. At start the cursor is the first key: everything a previous run
 * left is handed out first. All state lives on the context that called {@link #start}; append and
 * done must be called there.
 */
public final class RocksPushQueue implements PushQueue {
  private static final Logger LOG = LoggerFactory.getLogger(RocksPushQueue.class);
  private static final int DELETE_BATCH = 512;
  private static final long DELETE_FLUSH_MS = 100;

  private final Vertx vertx;
  private final RocksStorage storage;
  private final WorkerExecutor writer;
  private final ColumnFamilyHandle cf;
  private Handler<Queued> handler;
  private int maxOutstanding;
  private long nextSeq = -1;
  /** Every sequence number below it was handed out (or never existed). */
  private long cursor;
  /**
   * Every append below it was written (or failed): a read of the disk goes no further, since
   * appends waiting for the group commit are not on disk yet.
   */
  private long writtenEnd;
  private boolean reading;
  private boolean closed;
  private int outstanding;
  private List<byte[]> deletes = new ArrayList<>();
  private List<Pending> waiting = new ArrayList<>();
  private boolean writing;
  private long deleteTimer = -1;

  /** @param writer a single-thread executor used by this queue only */
  public RocksPushQueue(Vertx vertx, RocksStorage storage, WorkerExecutor writer) {
    this.vertx = vertx;
    this.storage = storage;
    this.writer = writer;
    this.cf = storage.cf(RocksStorage.PUSH_QUEUE);
  }

  @Override
  public Future<Void> start(Handler<Queued> handler, int maxOutstanding) {
    if (maxOutstanding < 1) {
      return Future.failedFuture(new IllegalArgumentException("maxOutstanding must be at least 1: " + maxOutstanding));
    }
    this.handler = handler;
    this.maxOutstanding = maxOutstanding;
    return writer.executeBlocking(() -> {
      try (RocksIterator it = storage.db.newIterator(cf)) {
        it.seekToFirst();
        long first = it.isValid() ? seq(it.key()) : 1;
        it.seekToLast();
        long last = it.isValid() ? seq(it.key()) : 0;
        return new long[] {first, last + 1};
      }
    }, true).map(range -> {
      cursor = range[0];
      nextSeq = range[1];
      writtenEnd = nextSeq;
      if (nextSeq > cursor) {
        LOG.info("push queue: {} jobs left by the previous run at most, handing them out", nextSeq - cursor);
      }
      maybeRead();
      return null;
    });
  }

  @Override
  public Future<Void> append(List<PushJob> jobs) {
    if (nextSeq < 0 || closed) {
      return Future.failedFuture(new IllegalStateException("push queue not started"));
    }
    if (jobs.isEmpty()) {
      return Future.succeededFuture();
    }
    Pending p = new Pending(nextSeq, List.copyOf(jobs), Promise.promise());
    nextSeq += jobs.size();
    waiting.add(p);
    if (!writing) {
      writeWaiting();
    }
    return p.done.future();
  }

  /** An append waiting for its write: its first sequence number, its jobs, its caller's future. */
  private record Pending(long first, List<PushJob> jobs, Promise<Void> done) {}

  /**
   * Group commit: every append that arrived while a write was in flight goes into the next write,
   * one synced WAL write for all of them (fan-out hands push one batch per turn, and a synced write
   * per batch would cap push at the disk's sync rate).
   */
  private void writeWaiting() {
    List<Pending> group = waiting;
    waiting = new ArrayList<>();
    writing = true;
    List<byte[]> keys = new ArrayList<>();
    List<byte[]> values = new ArrayList<>();
    for (Pending p : group) {
      for (int i = 0; i < p.jobs.size(); i++) {
        keys.add(key(p.first + i));
        values.add(p.jobs.get(i).toJson().encode().getBytes(StandardCharsets.UTF_8));
      }
    }
    writer.executeBlocking(() -> {
      try (WriteBatch wb = new WriteBatch()) {
        for (int i = 0; i < keys.size(); i++) {
          wb.put(cf, keys.get(i), values.get(i));
        }
        storage.db.write(storage.durableWrites(), wb);
      }
      return null;
    }, true).onComplete(ar -> {
      writing = false;
      for (Pending p : group) {
        written(p, ar.failed());
      }
      for (Pending p : group) {
        if (ar.succeeded()) {
          p.done.complete();
        } else {
          p.done.fail(ar.cause());
        }
      }
      if (!waiting.isEmpty() && !closed) {
        writeWaiting();
      }
    });
  }

  /** After its write: hands the append's jobs out from memory when nothing older waits on disk and there is room. */
  private void written(Pending p, boolean failed) {
    int n = p.jobs.size();
    writtenEnd = p.first + n;
    if (failed) {
      if (cursor == p.first) {
        cursor = p.first + n; // never written: nothing to hand out
      }
      return;
    }
    if (cursor == p.first && !reading && !closed && outstanding + n <= maxOutstanding) {
      cursor = p.first + n;
      for (int i = 0; i < n; i++) {
        handOut(new Queued(p.jobs.get(i), 0, p.first + i));
      }
    } else {
      maybeRead();
    }
  }

  private void handOut(Queued q) {
    outstanding++;
    try {
      handler.handle(q);
    } catch (RuntimeException e) {
      LOG.error("push queue handler failed on job {}: {}", q.position(), e.toString(), e);
    }
  }

  /** Reads what waits on disk, once at most half of the bound is out. */
  private void maybeRead() {
    if (reading || closed || cursor >= writtenEnd || outstanding > maxOutstanding / 2) {
      return;
    }
    reading = true;
    long from = cursor;
    long end = writtenEnd;
    int room = maxOutstanding - outstanding;
    writer.executeBlocking(() -> {
      List<Queued> out = new ArrayList<>();
      long next = end;
      try (RocksIterator it = storage.db.newIterator(cf)) {
        for (it.seek(key(from)); it.isValid(); it.next()) {
          long seq = seq(it.key());
          if (seq >= end) {
            break;
          }
          if (out.size() == room) {
            next = seq;
            break;
          }
          try {
            out.add(new Queued(PushJob.fromJson(new JsonObject(new String(it.value(), StandardCharsets.UTF_8))), 0, seq));
          } catch (RuntimeException e) {
            LOG.error("push queue: skipping unreadable job {}: {}", seq, e.getMessage());
            storage.db.delete(cf, storage.relaxedWrites(), it.key());
          }
        }
      }
      return new Read(out, next);
    }, true).onComplete(ar -> {
      reading = false;
      if (ar.failed()) {
        LOG.warn("push queue: reading the backlog failed, retrying in 1 s: {}", ar.cause().toString());
        vertx.setTimer(1000, t -> maybeRead());
        return;
      }
      cursor = Math.max(cursor, ar.result().next);
      if (!closed) {
        ar.result().jobs.forEach(this::handOut);
      }
      maybeRead();
    });
  }

  private record Read(List<Queued> jobs, long next) {}

  @Override
  public void done(Queued job) {
    if (!job.finish()) {
      return;
    }
    outstanding--;
    deletes.add(key(job.position()));
    if (deletes.size() >= DELETE_BATCH) {
      flushDeletes();
    } else if (deleteTimer < 0) {
      deleteTimer = vertx.setTimer(DELETE_FLUSH_MS, t -> {
        deleteTimer = -1;
        flushDeletes();
      });
    }
    maybeRead();
  }

  private Future<Void> flushDeletes() {
    if (deletes.isEmpty()) {
      return Future.succeededFuture();
    }
    List<byte[]> batch = deletes;
    deletes = new ArrayList<>();
    // composed, so an executor already shut down (the node stopping) fails the future instead of throwing
    return Future.<Void>succeededFuture().compose(v -> writer.executeBlocking(() -> {
      try (WriteBatch wb = new WriteBatch()) {
        for (byte[] k : batch) {
          wb.delete(cf, k);
        }
        storage.db.write(storage.relaxedWrites(), wb);
      }
      return null;
    }, true)).<Void>mapEmpty().onFailure(e -> LOG.warn("push queue: deleting {} finished jobs failed (they may be sent again): {}",
        batch.size(), e.toString()));
  }

  @Override
  public int outstanding() {
    return outstanding;
  }

  @Override
  public Future<Void> close() {
    closed = true;
    if (deleteTimer >= 0) {
      vertx.cancelTimer(deleteTimer);
      deleteTimer = -1;
    }
    return flushDeletes().otherwiseEmpty();
  }

  static byte[] key(long seq) {
    return ByteBuffer.allocate(8).putLong(seq).array();
  }

  static long seq(byte[] key) {
    return ByteBuffer.wrap(key).getLong();
  }
}
