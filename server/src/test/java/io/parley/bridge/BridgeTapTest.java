package io.parley.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.Addresses;
import io.parley.protocol.ChatMessage;
import io.parley.testing.Await;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link BridgeTap}: nothing is published before a bridge announced interest, nor after it lapsed,
 * nor ever by {@link BridgeTap#OFF}; an announcement on the bus turns it on; events carry ids and
 * metadata, and the body only when asked.
 */
class BridgeTapTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    Await.result(vertx.close());
  }

  private static final ChatMessage M = new ChatMessage(7, 42, "alice", "m-1", "héllo",
      new JsonArray().add(new JsonObject().put("url", "https://x/y.png")), 1_700_000_000_000L);

  @Test
  void publishesOnlyWhileABridgeAnnouncedInterest() {
    BridgeTap tap = new BridgeTap(vertx.eventBus(), false);
    List<JsonObject> got = new CopyOnWriteArrayList<>();
    Await.result(vertx.eventBus().<JsonObject>consumer(Addresses.BRIDGE_MESSAGE_EVENTS, m -> got.add(m.body())).completion());
    Await.result(tap.listen());
    assertThat(tap.wanted()).isFalse();
    tap.stored(M);

    vertx.eventBus().publish(Addresses.BRIDGE_INTEREST, new JsonObject().put("stream", Addresses.BRIDGE_MESSAGE_EVENTS)
        .put("ttl_ms", 60_000));
    Await.until("the announcement taken", tap::wanted, Await.TIMEOUT);
    tap.stored(M);
    Await.until("one event", () -> got.size() == 1, Await.TIMEOUT);
    assertThat(got.get(0).getString("server_id")).as("the one published while wanted").isEqualTo("42");

    tap.interest(0); // lapsed
    assertThat(tap.wanted()).isFalse();
    BridgeTap.OFF.interest(60_000);
    assertThat(BridgeTap.OFF.wanted()).isFalse();
  }

  @Test
  void eventsCarryIdsAndMetadataAndTheBodyOnlyWhenAsked() {
    JsonObject e = BridgeTap.event(M, false);
    assertThat(e).isEqualTo(new JsonObject().put("event", "message_stored").put("conv", "7").put("server_id", "42")
        .put("from", "alice").put("msg_id", "m-1").put("ts", 1_700_000_000_000L).put("size", 6).put("media", 1));
    JsonObject withBody = BridgeTap.event(M, true);
    assertThat(withBody.getString("body")).isEqualTo("héllo");
    assertThat(withBody.getJsonArray("media_items").getJsonObject(0).getString("url")).isEqualTo("https://x/y.png");
  }
}
