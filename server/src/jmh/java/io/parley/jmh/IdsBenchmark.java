package io.parley.jmh;

import io.parley.protocol.Ids;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/** Snowflake id generation, uncontended and with two threads racing on one generator. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class IdsBenchmark {
  private final Ids ids = new Ids(1);

  @Benchmark
  public long next() {
    return ids.next();
  }

  @Benchmark
  @Threads(2)
  public long nextContended() {
    return ids.next();
  }
}
