package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.Statement;
import io.netty.buffer.ByteBufUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * Packs independent writes, each to one partition, into few requests: unlogged batches of at most
 * {@link #MAX_PARTITIONS} partitions and about {@link #MAX_BYTES} bytes of data, one round trip
 * each instead of one per write. Cassandra applies each partition's part of a batch atomically and
 * in isolation, but nothing across partitions, which is all the writes packed here need (they are
 * independent of each other; what must come after what is written in separate calls).
 *
 * <p>The bounds keep Cassandra quiet and the batches valid: a batch spanning more than
 * {@code unlogged_batch_across_partitions_warn_threshold} (10) partitions, or more than
 * {@code batch_size_warn_threshold} (5 KiB) of data, makes Cassandra warn on every batch (in its log
 * and back to the driver), and one over {@code batch_size_fail_threshold} (50 KiB) is refused. A
 * single partition's write is exempt from the size checks, so a unit larger than {@link #MAX_BYTES}
 * (a chunk of long messages) goes on its own, as before.
 */
final class WriteBatches {
  /** Most partitions per batch: Cassandra's default warning threshold. */
  static final int MAX_PARTITIONS = 10;
  /** Most estimated data bytes per multi-partition batch: under Cassandra's 5 KiB warning threshold. */
  static final int MAX_BYTES = 4 * 1024;
  /** Estimated bytes per statement besides its text values (keys, longs, cell and row overhead). */
  static final int STATEMENT_OVERHEAD = 64;

  /** The statements of one partition's write, and their estimated data size. */
  record Unit(List<BatchableStatement<?>> statements, long bytes) {
    static Unit of(BatchableStatement<?> statement, CharSequence... texts) {
      return new Unit(List.of(statement), WriteBatches.bytes(texts));
    }
  }

  private WriteBatches() {}

  /** Estimated data size of a statement with these text values (null ones count for nothing). */
  static long bytes(CharSequence... texts) {
    long n = STATEMENT_OVERHEAD;
    for (CharSequence t : texts) {
      if (t != null) {
        n += ByteBufUtil.utf8Bytes(t);
      }
    }
    return n;
  }

  /**
   * The units, in order, packed into statements: consecutive units share an unlogged batch while it
   * stays within {@link #MAX_PARTITIONS} units and {@link #MAX_BYTES}; a unit of one statement that
   * is alone stays a plain statement.
   */
  static List<Statement<?>> pack(List<Unit> units) {
    List<Statement<?>> out = new ArrayList<>();
    List<BatchableStatement<?>> group = new ArrayList<>();
    int partitions = 0;
    long bytes = 0;
    for (Unit u : units) {
      if (partitions > 0 && (partitions == MAX_PARTITIONS || bytes + u.bytes() > MAX_BYTES)) {
        out.add(statement(group));
        group = new ArrayList<>();
        partitions = 0;
        bytes = 0;
      }
      group.addAll(u.statements());
      partitions++;
      bytes += u.bytes();
    }
    if (partitions > 0) {
      out.add(statement(group));
    }
    return out;
  }

  private static Statement<?> statement(List<BatchableStatement<?>> group) {
    return group.size() == 1 ? group.get(0) : BatchStatement.newInstance(DefaultBatchType.UNLOGGED, group);
  }
}
