package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.Addresses;
import io.parley.protocol.Deliveries;
import io.parley.protocol.Delivery;
import io.vertx.core.Handler;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A live delivery lost on its way to the connections (a fan-out stand-in drops it, as a node
 * split from the cluster for a moment did in the chaos suite) comes back by itself: the next
 * message names it as its previous one, the gateway backfills it, and each device gets every
 * message once and in order without sending a {@code sync}. A delivery routed again after newer
 * ones (a partition's new owner) is not sent twice.
 */
class LiveGapE2ETest {
  @TempDir
  static Path dir;
  static TestNode node;
  static Clients clients;
  /** What the stand-in does with the next node delivery carrying a message whose frame contains the key. */
  static final AtomicReference<String> drop = new AtomicReference<>();
  static final AtomicReference<String> replayAfter = new AtomicReference<>();
  static final AtomicReference<Deliveries> replay = new AtomicReference<>();
  static final AtomicReference<String> keep = new AtomicReference<>();

  @BeforeAll
  static void start() {
    node = TestNode.start(dir, Map.of());
    clients = new Clients(node.port);
    Handler<DeliveryContext<Object>> standIn = ctx -> {
      if (!Addresses.NODE_DELIVERY.equals(ctx.message().address()) || !(ctx.body() instanceof Deliveries d)) {
        ctx.next();
        return;
      }
      if (carries(d, drop.get())) {
        drop.set(null);
        return; // lost on its way to every connection
      }
      if (carries(d, keep.get())) {
        keep.set(null);
        replay.set(d);
      }
      ctx.next();
      Deliveries again = replay.get();
      if (again != null && carries(d, replayAfter.get())) {
        replayAfter.set(null);
        replay.set(null);
        node.node.vertx().eventBus().publish(Addresses.NODE_DELIVERY, again, Addresses.local());
      }
    };
    node.node.vertx().eventBus().addOutboundInterceptor(standIn);
  }

  @AfterAll
  static void stop() {
    clients.close();
    node.close();
  }

  private static boolean carries(Deliveries d, String msgId) {
    if (msgId == null) {
      return false;
    }
    for (Delivery x : d.deliveries()) {
      if (x.outbound().isMessage() && x.outbound().frame().contains("\"msg_id\":\"" + msgId + "\"")) {
        return true;
      }
    }
    return false;
  }

  private static List<String> msgIds(List<JsonObject> frames) {
    return frames.stream().map(f -> f.getString("op") + ":" + f.getString("msg_id")).toList();
  }

  @Test
  void aLostLiveMessageArrivesBeforeTheNextOneAndARepeatIsDropped() {
    String alice = "alice-gap", bob = "bob-gap";
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    WsClient a = clients.online(ta, "phone");
    WsClient b1 = clients.online(tb, "phone"), b2 = clients.online(tb, "laptop");

    a.sendMsgSkippingDeliveries("g-0", conv, "before");
    for (WsClient b : List.of(b1, b2)) {
      assertThat(b.next("msg").getString("msg_id")).isEqualTo("g-0");
    }

    drop.set("g-1");
    String id1 = a.sendMsgSkippingDeliveries("g-1", conv, "lost on its way");
    for (WsClient b : List.of(b1, b2)) {
      assertThat(b.drainWithPing()).as("nothing reached %s", b).isEmpty();
    }

    // (the sender's own connection lost g-1's delivery too, and may get it backfilled: it has it as its ack)
    String id2 = a.sendMsgSkippingDeliveries("g-2", conv, "after");
    for (WsClient b : List.of(b1, b2)) {
      List<JsonObject> got = b.until(f -> id2.equals(f.getString("server_id")));
      assertThat(msgIds(got)).as("the lost one first, then the live one, no synced").containsExactly("msg:g-1", "msg:g-2");
      assertThat(got.get(0).getString("server_id")).isEqualTo(id1);
    }
    assertThat(drop.get()).as("the stand-in dropped g-1's delivery").isNull();

    // g-3's delivery goes again after g-4's, as a partition's new owner would route it again
    keep.set("g-3");
    replayAfter.set("g-4");
    a.sendMsgSkippingDeliveries("g-3", conv, "once");
    String id4 = a.sendMsgSkippingDeliveries("g-4", conv, "newer");
    String id5 = a.sendMsgSkippingDeliveries("g-5", conv, "barrier");
    for (WsClient b : List.of(b1, b2)) {
      List<JsonObject> got = b.until(f -> id5.equals(f.getString("server_id")));
      assertThat(msgIds(got)).as("g-3 once, in order").containsExactly("msg:g-3", "msg:g-4", "msg:g-5");
      assertThat(b.drainWithPing()).isEmpty();
    }
    assertThat(replayAfter.get()).as("g-3's delivery was replayed after g-4's").isNull();
    assertThat(Long.parseLong(id4)).isLessThan(Long.parseLong(id5));
  }
}
