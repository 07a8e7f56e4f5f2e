package io.parley.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.config.RoutingSettings;
import io.parley.fanout.FanoutBatch;
import io.parley.protocol.Addresses;
import io.parley.protocol.ChatMessage;
import io.parley.protocol.LocalCodec;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Routing over a scripted log: what it hands to fan-out and what it commits, in particular when a
 * rebalance took a partition away between the poll and the hand-over.
 */
class LogRoutingVerticleTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void recordsOfAPartitionNoLongerOwnedAreNeitherFannedOutNorCommitted() throws Exception {
    List<LogSource.Logged> batch = List.of(
        logged(0, 5, 10, "m1"), logged(1, 7, 11, "m2"), logged(0, 6, 10, "m3"), logged(1, 8, 11, "m4"));
    ScriptedSource source = new ScriptedSource(batch, 1);
    List<Long> fannedOut = new CopyOnWriteArrayList<>();
    List<Long> prevs = new CopyOnWriteArrayList<>();
    List<Integer> batches = new CopyOnWriteArrayList<>();
    vertx.eventBus().registerDefaultCodec(FanoutBatch.class, new LocalCodec<>(FanoutBatch.class));
    vertx.eventBus().<FanoutBatch>localConsumer(Addresses.FANOUT, m -> {
      batches.add(m.body().fanouts().size());
      m.body().fanouts().forEach(f -> fannedOut.add(f.serverId()));
      m.body().fanouts().forEach(f -> prevs.add(f.prev()));
      m.reply(null);
    });
    MessageArchive archive = messages -> Future.succeededFuture(List.copyOf(messages));

    vertx.deployVerticle(new LogRoutingVerticle(source, archive, FixedMembers.of("alice", "bob"),
        new RoutingSettings(20_000, 1024, 8, 10_000), 100))
        .await(10, TimeUnit.SECONDS);
    List<LogSource.Logged> committed = source.committed.future().await(10, TimeUnit.SECONDS);

    assertThat(fannedOut).containsExactly(batch.get(0).message().serverId(), batch.get(2).message().serverId());
    assertThat(batches).as("one fan-out request per polled batch").containsExactly(2);
    assertThat(prevs).as("each fan-out names the conversation's message routed before it (0: none known)")
        .containsExactly(0L, batch.get(0).message().serverId());
    assertThat(committed).containsExactly(batch.get(0), batch.get(2));
  }

  private static LogSource.Logged logged(int partition, long offset, long conv, String msgId) {
    long serverId = ((offset + 1) << 10) | partition;
    return new LogSource.Logged(partition, offset,
        new ChatMessage(conv, serverId, "alice", msgId, "hi", null, 1_700_000_000_000L), "conn-1", null);
  }

  /** Gives one batch, then nothing; owns every partition but {@code lost}; records the first commit. */
  private final class ScriptedSource implements LogSource {
    private final Queue<List<Logged>> batches = new ArrayDeque<>();
    private final int lost;
    final Promise<List<Logged>> committed = Promise.promise();

    ScriptedSource(List<Logged> batch, int lost) {
      batches.add(batch);
      this.lost = lost;
    }

    @Override
    public Future<List<Logged>> poll() {
      List<Logged> next = batches.poll();
      if (next != null) {
        return Future.succeededFuture(next);
      }
      Promise<List<Logged>> nothing = Promise.promise(); // a poll that waited and found nothing
      vertx.setTimer(20, t -> nothing.complete(List.of()));
      return nothing.future();
    }

    @Override
    public Future<Void> commit(List<Logged> handled) {
      committed.tryComplete(List.copyOf(handled));
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> close() {
      return Future.succeededFuture();
    }

    @Override
    public boolean owns(int partition) {
      return partition != lost;
    }
  }
}
