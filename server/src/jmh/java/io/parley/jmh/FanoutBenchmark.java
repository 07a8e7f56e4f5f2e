package io.parley.jmh;

import io.parley.protocol.Addresses;
import io.parley.protocol.Deliveries;
import io.parley.protocol.Delivery;
import io.parley.protocol.LocalCodec;
import io.parley.protocol.Outbound;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
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

/**
 * One fan-out as the node does it: a single {@link Delivery} naming every recipient (in a
 * {@link Deliveries} of one) is published on
 * {@link Addresses#NODE_DELIVERY}; a gateway-like consumer on another event loop looks each user up
 * in its connection index and hands the shared frame to each connection (counted here instead of
 * written to a socket). Reports the time per whole fan-out for groups of 2, 100 and 5,000.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class FanoutBenchmark {
  @Param({"2", "100", "5000"})
  public int groupSize;

  private Vertx vertx;
  private EventBus bus;
  private Deliveries delivery;
  private volatile CountDownLatch done;
  private long handed;

  @Setup(Level.Trial)
  public void setup() throws Exception {
    vertx = Vertx.vertx();
    bus = vertx.eventBus();
    bus.registerDefaultCodec(Deliveries.class, new LocalCodec<>(Deliveries.class));
    List<String> users = new ArrayList<>();
    Map<String, List<long[]>> index = new HashMap<>();
    for (int i = 0; i < groupSize; i++) {
      users.add("u" + i);
      index.put("u" + i, List.of(new long[1]));
    }
    delivery = Deliveries.of(new Delivery(users, new Outbound(1, 2, "{\"op\":\"msg\"}", null)));
    CountDownLatch registered = new CountDownLatch(1);
    vertx.runOnContext(v -> bus.<Deliveries>localConsumer(Addresses.NODE_DELIVERY, m -> {
      for (String u : m.body().deliveries().get(0).users()) {
        List<long[]> conns = index.get(u);
        if (conns != null) {
          for (long[] c : conns) {
            c[0]++;
            handed++;
          }
        }
      }
      done.countDown();
    }).completion().onComplete(ar -> registered.countDown()));
    registered.await(10, TimeUnit.SECONDS);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Benchmark
  public long fanout() throws InterruptedException {
    done = new CountDownLatch(1);
    bus.publish(Addresses.NODE_DELIVERY, delivery);
    done.await();
    return handed;
  }
}
