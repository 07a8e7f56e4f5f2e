package io.parley.storage.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.cql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link WriteBatches}: writes packed in order into unlogged batches of at most ten partitions and
 * about 4 KiB, a write larger than that on its own, a lone single write as a plain statement, and
 * every statement exactly once.
 */
class WriteBatchesTest {
  private static int seq;

  private static WriteBatches.Unit unit(int statements, long bytes) {
    List<BatchableStatement<?>> s = new ArrayList<>();
    for (int i = 0; i < statements; i++) {
      s.add(SimpleStatement.newInstance("INSERT " + seq++));
    }
    return new WriteBatches.Unit(s, bytes);
  }

  private static List<BatchableStatement<?>> flatten(List<Statement<?>> packed) {
    List<BatchableStatement<?>> out = new ArrayList<>();
    for (Statement<?> s : packed) {
      if (s instanceof BatchStatement b) {
        assertThat(b.getBatchType()).isEqualTo((BatchType) DefaultBatchType.UNLOGGED);
        b.forEach(out::add);
      } else {
        out.add((BatchableStatement<?>) s);
      }
    }
    return out;
  }

  private static List<BatchableStatement<?>> all(List<WriteBatches.Unit> units) {
    return units.stream().<BatchableStatement<?>>flatMap(u -> u.statements().stream()).toList();
  }

  @Test
  void smallWritesShareBatchesOfAtMostTenPartitions() {
    List<WriteBatches.Unit> units = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      units.add(unit(1, 100));
    }
    List<Statement<?>> packed = WriteBatches.pack(units);
    assertThat(packed).hasSize(3);
    assertThat(((BatchStatement) packed.get(0)).size()).isEqualTo(10);
    assertThat(((BatchStatement) packed.get(1)).size()).isEqualTo(10);
    assertThat(((BatchStatement) packed.get(2)).size()).isEqualTo(5);
    assertThat(flatten(packed)).containsExactlyElementsOf(all(units));
  }

  @Test
  void aBatchStaysWithinTheByteBoundAndALargeWriteGoesAlone() {
    long third = WriteBatches.MAX_BYTES / 3;
    List<WriteBatches.Unit> units = List.of(unit(1, third), unit(1, third), unit(1, third), unit(1, third),
        unit(3, WriteBatches.MAX_BYTES * 10L), unit(1, 10));
    List<Statement<?>> packed = WriteBatches.pack(units);
    // three thirds fit, the fourth starts a batch; the large unit (one partition, three rows) is its own batch
    assertThat(packed).hasSize(4);
    assertThat(((BatchStatement) packed.get(0)).size()).isEqualTo(3);
    assertThat(packed.get(1)).isInstanceOf(SimpleStatement.class);
    assertThat(((BatchStatement) packed.get(2)).size()).isEqualTo(3);
    assertThat(packed.get(3)).isInstanceOf(SimpleStatement.class);
    assertThat(flatten(packed)).containsExactlyElementsOf(all(units));
  }

  @Test
  void nothingPacksToNothingAndBytesCountUtf8() {
    assertThat(WriteBatches.pack(List.of())).isEmpty();
    assertThat(WriteBatches.bytes("ab", "é", null)).isEqualTo(WriteBatches.STATEMENT_OVERHEAD + 2 + 2);
  }
}
