package io.parley.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.protocol.Addresses;
import io.parley.protocol.Deliveries;
import io.parley.protocol.Delivery;
import io.parley.protocol.DeliveryCodec;
import io.parley.protocol.LocalCodec;
import io.parley.protocol.Outbound;
import io.parley.push.PushBatch;
import io.parley.push.PushRequest;
import io.parley.storage.embedded.InMemoryConnectionRegistry;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Fan-out to another node: a large batch reaches that node's inbox as several event-bus messages
 * of bounded size, in the batch's order, each confirmed before routing's request is answered.
 */
class FanoutVerticleTest {
  /** The default of {@code fanout.remote_request_chars}. */
  private static final int BUDGET = 256 * 1024;
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private static Delivery delivery(long serverId, String frame, int users) {
    List<String> names = new ArrayList<>(users);
    for (int i = 0; i < users; i++) {
      names.add("u" + serverId + "-" + i);
    }
    return new Delivery(names, new Outbound(1, serverId, frame, null));
  }

  private static List<Long> ids(List<Deliveries> messages) {
    return messages.stream().flatMap(d -> d.deliveries().stream()).map(d -> d.outbound().serverId()).toList();
  }

  @Test
  void splitKeepsOrderCutsOnlyBetweenDeliveriesAndKeepsAnOversizedOneAlone() {
    // sizes in characters: frame + one per user + the users' names ("u<id>-<i>")
    List<Delivery> in = List.of(delivery(1, "a".repeat(40), 2), delivery(2, "b".repeat(40), 2),
        delivery(3, "c".repeat(500), 1), delivery(4, "d".repeat(10), 1));

    List<Deliveries> out = FanoutVerticle.split(in, 120);

    assertThat(ids(out)).containsExactly(1L, 2L, 3L, 4L);
    assertThat(out).extracting(d -> d.deliveries().size()).containsExactly(2, 1, 1);
    assertThat(out.get(1).deliveries().get(0).outbound().serverId()).as("larger than the budget, alone").isEqualTo(3);
    assertThat(FanoutVerticle.split(in, Integer.MAX_VALUE)).hasSize(1);
    assertThat(FanoutVerticle.split(List.of(), 120)).isEmpty();
  }

  @Test
  void aBudgetOfOneSendsEveryDeliveryAloneAndABudgetBelowOneIsRefused() {
    List<Delivery> in = List.of(delivery(1, "a", 1), delivery(2, "b", 1), delivery(3, "c", 1));
    assertThat(FanoutVerticle.split(in, 1)).extracting(d -> d.deliveries().size()).containsExactly(1, 1, 1);
    assertThat(ids(FanoutVerticle.split(in, 1))).containsExactly(1L, 2L, 3L);
    assertThatThrownBy(() -> new FanoutVerticle(new InMemoryConnectionRegistry(10), "n1", true, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("remoteBudgetChars");
  }

  @Test
  void aLargeBatchForAnotherNodeArrivesInOrderInSeveralBoundedMessages() throws Exception {
    vertx.eventBus().registerDefaultCodec(FanoutBatch.class, new LocalCodec<>(FanoutBatch.class));
    vertx.eventBus().registerDefaultCodec(Deliveries.class, new DeliveryCodec());
    vertx.eventBus().registerDefaultCodec(PushBatch.class, new LocalCodec<>(PushBatch.class));
    InMemoryConnectionRegistry registry = new InMemoryConnectionRegistry(1000);
    // a 1,000-member group, all of them connected to node n2; 100 messages to it in one batch
    List<String> members = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      members.add(String.format("member-%05d", i));
      registry.register(members.get(i), "n2", "c" + i).await(5, TimeUnit.SECONDS);
    }
    List<Fanout> fanouts = new ArrayList<>();
    for (long id = 1; id <= 100; id++) {
      fanouts.add(new Fanout(7, id, "member-00000", "{\"op\":\"msg\",\"id\":" + id + "}", members, null, "hi"));
    }
    List<Deliveries> received = new CopyOnWriteArrayList<>();
    vertx.eventBus().<Deliveries>consumer(Addresses.nodeInbox("n2"), m -> {
      received.add(m.body());
      m.reply(null);
    });
    vertx.deployVerticle(new FanoutVerticle(registry, "n1", true, BUDGET)).await(10, TimeUnit.SECONDS);

    // routing's request is answered once the other node confirmed every part
    vertx.eventBus().request(Addresses.FANOUT, new FanoutBatch(fanouts)).await(10, TimeUnit.SECONDS);

    // 100 x 1,000 names of 12 characters: about 1.3 M characters, at most 256 K per message
    assertThat(received).hasSizeGreaterThanOrEqualTo(5);
    assertThat(ids(received)).containsExactlyElementsOf(fanouts.stream().map(Fanout::serverId).toList());
    for (Deliveries d : received) {
      long chars = 0;
      for (Delivery x : d.deliveries()) {
        assertThat(x.users()).containsExactlyInAnyOrderElementsOf(members);
        chars += x.outbound().frame().length() + x.users().stream().mapToLong(u -> u.length() + 1).sum();
      }
      assertThat(chars).isLessThanOrEqualTo(BUDGET);
    }
  }
  @Test
  void pushGetsEveryRecipientButTheSenderConnectedOrNotAndNoSignals() throws Exception {
    vertx.eventBus().registerDefaultCodec(FanoutBatch.class, new LocalCodec<>(FanoutBatch.class));
    vertx.eventBus().registerDefaultCodec(Deliveries.class, new DeliveryCodec());
    vertx.eventBus().registerDefaultCodec(PushBatch.class, new LocalCodec<>(PushBatch.class));
    InMemoryConnectionRegistry registry = new InMemoryConnectionRegistry(10);
    registry.register("alice", "n1", "node-1-1-laptop").await(5, TimeUnit.SECONDS);
    registry.register("bob", "n1", "node-1-2-laptop").await(5, TimeUnit.SECONDS);
    java.util.concurrent.BlockingQueue<PushRequest> pushed = new java.util.concurrent.LinkedBlockingQueue<>();
    vertx.eventBus().<PushBatch>localConsumer(Addresses.PUSH, m -> pushed.addAll(m.body().requests()));
    vertx.deployVerticle(new FanoutVerticle(registry, "n1", false, BUDGET)).await(10, TimeUnit.SECONDS);

    List<String> members = List.of("alice", "bob", "carol");
    vertx.eventBus().request(Addresses.FANOUT, new FanoutBatch(List.of(
        new Fanout(7, 0, "alice", "{\"op\":\"typing\"}", members, null, null),
        new Fanout(7, 42, "alice", "{\"op\":\"msg\"}", members, null, "hi")))).await(10, TimeUnit.SECONDS);

    // the signal came first in the batch: had it gone to push, its request would arrive first
    PushRequest p = pushed.poll(10, TimeUnit.SECONDS);
    assertThat(p).isNotNull();
    assertThat(p.serverId()).isEqualTo(42);
    assertThat(p.users()).as("bob is connected, carol is not: push decides per device").containsExactly("bob", "carol");
    assertThat(p.offline()).as("what the log-only path asks the registry about again").containsExactly("carol");
    assertThat(p.preview()).isEqualTo("hi");
  }
}
