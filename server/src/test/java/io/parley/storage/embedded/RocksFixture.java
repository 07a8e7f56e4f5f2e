package io.parley.storage.embedded;

import io.parley.protocol.Ids;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.file.Path;

/**
 * The embedded adapters wired like {@code io.parley.app.Node} does it, over a RocksDB in a test
 * directory: a single-thread log writer, a single-thread metadata writer and a reader pool, all
 * shared worker executors. {@link #reopen()} closes and reopens the storage the way a restart does
 * (ids advanced past the stored floor).
 */
final class RocksFixture implements AutoCloseable {
  private static final java.util.concurrent.atomic.AtomicInteger SEQ = new java.util.concurrent.atomic.AtomicInteger();

  final Vertx vertx;
  private final Path dir;
  private final String prefix = "parley-test-" + SEQ.incrementAndGet() + "-";
  RocksStorage storage;
  Ids ids;
  WorkerExecutor logWriter;
  WorkerExecutor metaWriter;
  WorkerExecutor readers;
  RocksMessageStore messages;
  RocksConversationStore conversations;

  RocksFixture(Path dir) {
    this.vertx = Vertx.vertx();
    this.dir = dir;
    open();
  }

  private void open() {
    storage = RocksStorage.open(dir, false);
    ids = new Ids(1);
    ids.advancePast(storage.idFloor());
    logWriter = vertx.createSharedWorkerExecutor(prefix + "log-writer", 1);
    metaWriter = vertx.createSharedWorkerExecutor(prefix + "meta", 1);
    readers = vertx.createSharedWorkerExecutor(prefix + "readers", 4);
    messages = new RocksMessageStore(storage, ids, logWriter, readers);
    conversations = new RocksConversationStore(storage, metaWriter);
  }

  private void closeStorage() throws Exception {
    Await.result(logWriter.close());
    Await.result(metaWriter.close());
    Await.result(readers.close());
    storage.close();
    storage = null;
  }

  /** Closes the storage and opens it again from the same directory, as a restarted node would. */
  void reopen() throws Exception {
    closeStorage();
    open();
  }

  @Override
  public void close() throws Exception {
    try {
      if (storage != null) {
        closeStorage();
      }
    } finally {
      Await.result(vertx.close());
    }
  }

}
