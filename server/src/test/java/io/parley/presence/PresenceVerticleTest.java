package io.parley.presence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.protocol.Addresses;
import io.parley.protocol.ServerFrames;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Presence changes between nodes: the codec's wire form round-trips and refuses a version it does
 * not know; the verticle republishes a change as the user's {@code presence} frame on the node-local
 * address its subscribers listen on.
 */
class PresenceVerticleTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private static PresenceChange roundTrip(PresenceChange c) {
    PresenceChangeCodec codec = new PresenceChangeCodec();
    Buffer wire = Buffer.buffer().appendString("before");
    codec.encodeToWire(wire, c);
    return codec.decodeFromWire("before".length(), wire);
  }

  @Test
  void theWireFormRoundTrips() {
    assertThat(roundTrip(PresenceChange.online("alice"))).isEqualTo(new PresenceChange("alice", true, 0));
    assertThat(roundTrip(PresenceChange.offline("bøb-ü", 1_700_000_000_123L)))
        .isEqualTo(new PresenceChange("bøb-ü", false, 1_700_000_000_123L));
    PresenceChange same = PresenceChange.online("carol");
    assertThat(new PresenceChangeCodec().transform(same)).as("by reference within a node").isSameAs(same);
  }

  @Test
  void aWireVersionThisNodeDoesNotKnowFailsLoudly() {
    Buffer wire = Buffer.buffer();
    new PresenceChangeCodec().encodeToWire(wire, PresenceChange.online("alice"));
    assertThat(wire.getByte(0)).isEqualTo(PresenceChangeCodec.VERSION);
    wire.setByte(0, (byte) (PresenceChangeCodec.VERSION + 1));
    assertThatThrownBy(() -> new PresenceChangeCodec().decodeFromWire(0, wire))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("version");
  }

  @Test
  void aChangeIsRepublishedAsThePresenceFrameOnItsUsersLocalAddress() throws Exception {
    vertx.eventBus().registerDefaultCodec(PresenceChange.class, new PresenceChangeCodec());
    vertx.deployVerticle(new PresenceVerticle()).await(10, TimeUnit.SECONDS);
    Promise<String> bob = Promise.promise();
    Promise<String> alice = Promise.promise();
    vertx.eventBus().<String>localConsumer(Addresses.presence("bob"), m -> bob.tryComplete(m.body()))
        .completion().await(10, TimeUnit.SECONDS);
    vertx.eventBus().<String>localConsumer(Addresses.presence("alice"), m -> alice.tryComplete(m.body()))
        .completion().await(10, TimeUnit.SECONDS);

    vertx.eventBus().publish(Addresses.PRESENCE_CHANGED, PresenceChange.offline("alice", 1234));
    assertThat(alice.future().await(10, TimeUnit.SECONDS)).isEqualTo(ServerFrames.presence("alice", false, 1234));
    vertx.eventBus().publish(Addresses.PRESENCE_CHANGED, PresenceChange.online("bob"));
    assertThat(bob.future().await(10, TimeUnit.SECONDS)).isEqualTo(ServerFrames.presence("bob", true, 0));
  }
}
