package io.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Unit tests of {@link Ids}: node id bounds and encoding; ids strictly increase over many calls
 * (past the 4096-per-millisecond sequence) and are unique across threads; {@code advancePast}
 * raises but never lowers the floor; {@code timestampOf}; wire-id parsing edge cases.
 */
class IdsTest {
  private static final int SHIFT = 22;

  @Test
  void nodeIdBounds() {
    assertThatThrownBy(() -> new Ids(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Ids(Ids.MAX_NODE + 1)).isInstanceOf(IllegalArgumentException.class);
    assertThat(new Ids(0).next()).isPositive();
    assertThat(new Ids(Ids.MAX_NODE).next()).isPositive();
    assertThat(Ids.MAX_NODE).isEqualTo(1023);
  }

  @Test
  void nodeIdIsEncoded() {
    for (int node : new int[] {0, 1, 5, 512, 1023}) {
      long id = new Ids(node).next();
      assertThat((id >>> 12) & 1023).as("node bits of %d", id).isEqualTo(node);
    }
  }

  @Test
  void idsOfDifferentNodesDiffer() {
    Ids a = new Ids(1);
    Ids b = new Ids(2);
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      assertThat(seen.add(a.next())).isTrue();
      assertThat(seen.add(b.next())).isTrue();
    }
  }

  @Test
  void strictlyIncreasingOverManyCalls() {
    Ids ids = new Ids(3);
    long prev = 0;
    // far more than 4096 per millisecond: exercises the sequence roll-over into the next millisecond
    for (int i = 0; i < 500_000; i++) {
      long id = ids.next();
      if (id <= prev) {
        throw new AssertionError("id " + id + " after " + prev + " at call " + i);
      }
      prev = id;
    }
    assertThat((prev >>> 12) & 1023).isEqualTo(3);
  }

  @Test
  void uniqueAndPerThreadIncreasingAcrossThreads() throws Exception {
    Ids ids = new Ids(9);
    int threads = 8;
    int perThread = 50_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Callable<long[]>> tasks = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        tasks.add(() -> {
          long[] out = new long[perThread];
          for (int i = 0; i < perThread; i++) {
            out[i] = ids.next();
          }
          return out;
        });
      }
      Set<Long> all = new HashSet<>(threads * perThread * 2);
      for (Future<long[]> f : pool.invokeAll(tasks, 60, TimeUnit.SECONDS)) {
        long[] out = f.get();
        for (int i = 0; i < out.length; i++) {
          if (i > 0 && out[i] <= out[i - 1]) {
            throw new AssertionError("not increasing within a thread: " + out[i - 1] + " then " + out[i]);
          }
          all.add(out[i]);
        }
      }
      assertThat(all).hasSize(threads * perThread);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void advancePastRaisesTheFloor() {
    Ids ids = new Ids(1);
    long inAnHour = (System.currentTimeMillis() + 3_600_000L - Ids.EPOCH_MS) << SHIFT;
    ids.advancePast(inAnHour);
    long next = ids.next();
    assertThat(next).isGreaterThan(inAnHour);
    assertThat(ids.next()).isGreaterThan(next);
  }

  @Test
  void advancePastAFullSequenceBorrowsTheNextMillisecond() {
    Ids ids = new Ids(1);
    long future = ((System.currentTimeMillis() + 60_000L - Ids.EPOCH_MS) << SHIFT) | (1L << 12) | 4095;
    ids.advancePast(future);
    long next = ids.next();
    assertThat(next).isGreaterThan(future);
    assertThat(Ids.timestampOf(next)).isEqualTo(Ids.timestampOf(future) + 1);
    assertThat((next >>> 12) & 1023).isEqualTo(1);
  }

  @Test
  void advancePastNeverLowers() {
    Ids ids = new Ids(1);
    long a = ids.next();
    ids.advancePast(1);
    ids.advancePast(0);
    ids.advancePast(a - 1);
    assertThat(ids.next()).isGreaterThan(a);
  }

  @Test
  void advancePastFromAnotherNodeStillIncreases() {
    Ids ids = new Ids(1);
    long otherNode = ((System.currentTimeMillis() + 10_000L - Ids.EPOCH_MS) << SHIFT) | (1023L << 12) | 17;
    ids.advancePast(otherNode);
    assertThat(ids.next()).isGreaterThan(otherNode);
  }

  @Test
  void timestampOf() {
    assertThat(Ids.timestampOf(0)).isEqualTo(Ids.EPOCH_MS);
    assertThat(Ids.timestampOf((5L << SHIFT) | 4095)).isEqualTo(Ids.EPOCH_MS + 5);
    long before = System.currentTimeMillis();
    long id = new Ids(42).next();
    long after = System.currentTimeMillis();
    assertThat(Ids.timestampOf(id)).isBetween(before, after);
    assertThat(Ids.EPOCH_MS).isEqualTo(java.time.Instant.parse("2024-01-01T00:00:00Z").toEpochMilli());
  }

  @Test
  void parseValid() {
    assertThat(Ids.parse("1")).isEqualTo(1);
    assertThat(Ids.parse("0")).isZero();
    assertThat(Ids.parse("007")).isEqualTo(7);
    assertThat(Ids.parse("1234567890123")).isEqualTo(1234567890123L);
    assertThat(Ids.parse(Long.toString(Long.MAX_VALUE))).isEqualTo(Long.MAX_VALUE);
    long id = new Ids(1).next();
    assertThat(Ids.parse(Long.toString(id))).isEqualTo(id);
  }

  @ParameterizedTest
  @NullAndEmptySource
  @ValueSource(strings = {
      "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "abc", "12a", "١٢", "１",
      "9223372036854775808", // Long.MAX_VALUE + 1
      "9999999999999999999", // 19 digits, overflows
      "18446744073709551617", // 2^64 + 1, wraps to 1 if unchecked
      "00000000000000000001" // 20 characters
  })
  void parseRejects(String s) {
    assertThat(Ids.parse(s)).isEqualTo(-1);
  }
}
