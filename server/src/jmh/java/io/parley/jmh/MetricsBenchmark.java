package io.parley.jmh;

import io.parley.metrics.NodeMetrics;
import io.parley.protocol.Outbound;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * What the meters cost one 1:1 message on the send path: the sender's ack counted, one live
 * delivery counted and timed from the message's {@code ts} (read from its frame), with metrics on
 * and off ({@code metrics.enabled}); alone and with two threads (two event loops) on one registry.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class MetricsBenchmark {
  @Param({"true", "false"})
  public boolean enabled;

  private NodeMetrics metrics;
  private Outbound delivery;

  @Setup(Level.Trial)
  public void setUp() {
    metrics = NodeMetrics.create(enabled);
    delivery = new Outbound(1, 9, "{\"op\":\"msg\",\"conv\":\"386859736508665856\",\"server_id\":\"386859748646981632\","
        + "\"from\":\"user-17\",\"msg_id\":\"m-123\",\"body\":\"" + "x".repeat(100) + "\",\"media\":[],\"ts\":"
        + System.currentTimeMillis() + "}", null);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    metrics.close();
  }

  @Benchmark
  public void ackAndDelivery() {
    metrics.acked();
    metrics.delivered(delivery.ts());
  }

  @Benchmark
  @Threads(2)
  public void ackAndDeliveryTwoLoops() {
    metrics.acked();
    metrics.delivered(delivery.ts());
  }
}
