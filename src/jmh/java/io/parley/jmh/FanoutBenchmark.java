package io.parley.jmh;

import io.parley.protocol.LocalCodec;
import io.parley.protocol.Outbound;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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

/**
 * One fan-out as the node does it: one shared {@link Outbound} published to each recipient's user
 * address, each with one local consumer (a connection), until every consumer has it. Reports the
 * time per whole fan-out for groups of 2, 100 and 5,000.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class FanoutBenchmark {
  @Param({"2", "100", "5000"})
  public int groupSize;

  private Vertx vertx;
  private EventBus bus;
  private String[] addresses;
  private final AtomicInteger remaining = new AtomicInteger();
  private volatile CountDownLatch done;
  private final Outbound out = new Outbound(1, 2, "{\"op\":\"msg\"}", null);

  @Setup(Level.Trial)
  public void setup() throws Exception {
    vertx = Vertx.vertx();
    bus = vertx.eventBus();
    bus.registerDefaultCodec(Outbound.class, new LocalCodec<>(Outbound.class));
    addresses = new String[groupSize];
    CountDownLatch registered = new CountDownLatch(groupSize);
    for (int i = 0; i < groupSize; i++) {
      addresses[i] = "parley.user.u" + i;
      bus.<Outbound>localConsumer(addresses[i], m -> {
        if (remaining.decrementAndGet() == 0) {
          done.countDown();
        }
      }).completion().onComplete(ar -> registered.countDown());
    }
    registered.await(10, TimeUnit.SECONDS);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Benchmark
  public void fanout() throws InterruptedException {
    done = new CountDownLatch(1);
    remaining.set(groupSize);
    for (String a : addresses) {
      bus.publish(a, out);
    }
    done.await();
  }
}
