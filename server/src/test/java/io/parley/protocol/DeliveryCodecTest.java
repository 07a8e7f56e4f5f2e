package io.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The wire form of a batch of deliveries between nodes: everything, in order, survives the trip;
 * a buffer of another version, or a truncated or corrupt one, is rejected with an exception that
 * says why (and counted), never misread.
 */
class DeliveryCodecTest {
  private final DeliveryCodec codec = new DeliveryCodec();

  private static Deliveries sample() {
    return new Deliveries(List.of(
        new Delivery(List.of("alice", "bob"), new Outbound(7, 1025, "{\"op\":\"msg\",\"body\":\"héllo ✓\"}", "n1-3-phone")),
        new Delivery(List.of("carol"), new Outbound(8, 0, "{\"op\":\"typing\"}", null))));
  }

  @Test
  void aBatchOfDeliveriesCrossesTheWireWholeAndInOrder() {
    Deliveries sent = new Deliveries(List.of(
        new Delivery(List.of("alice", "bob"), new Outbound(7, 1025, "{\"op\":\"msg\",\"body\":\"héllo ✓\"}", "n1-3-phone")),
        new Delivery(List.of("carol"), new Outbound(8, 0, "{\"op\":\"typing\"}", null)),
        new Delivery(List.of(), new Outbound(9, 2049, "{}", null, 1025))));
    Buffer wire = Buffer.buffer().appendString("prefix");

    codec.encodeToWire(wire, sent);
    Deliveries got = codec.decodeFromWire("prefix".length(), wire);

    assertThat(got.deliveries()).hasSize(3);
    for (int i = 0; i < 3; i++) {
      Delivery a = sent.deliveries().get(i);
      Delivery b = got.deliveries().get(i);
      assertThat(b.users()).containsExactlyElementsOf(a.users());
      assertThat(b.outbound().conv()).isEqualTo(a.outbound().conv());
      assertThat(b.outbound().serverId()).isEqualTo(a.outbound().serverId());
      assertThat(b.outbound().frame()).isEqualTo(a.outbound().frame());
      assertThat(b.outbound().skipConnection()).isEqualTo(a.outbound().skipConnection());
      assertThat(b.outbound().prev()).isEqualTo(a.outbound().prev());
    }
    assertThat(got.deliveries().get(2).outbound().prev()).as("the previous message's id crosses too").isEqualTo(1025);
  }

  @Test
  void theWireFormStartsWithTheVersionByte() {
    Buffer wire = Buffer.buffer();
    codec.encodeToWire(wire, sample());
    assertThat(wire.getByte(0)).isEqualTo(DeliveryCodec.VERSION);
    assertThat(codec.decodeFromWire(0, wire).deliveries()).hasSize(2);
    assertThat(codec.rejected()).isZero();
  }

  @Test
  void anotherVersionIsRejectedNamingBothVersions() {
    Buffer wire = Buffer.buffer().appendString("prefix");
    codec.encodeToWire(wire, sample());
    wire.setByte("prefix".length(), (byte) (DeliveryCodec.VERSION + 1));

    assertThatThrownBy(() -> codec.decodeFromWire("prefix".length(), wire))
        .isInstanceOf(DeliveryCodec.WireFormatException.class)
        .hasMessageContaining("version " + (DeliveryCodec.VERSION + 1) + " received")
        .hasMessageContaining("reads version " + DeliveryCodec.VERSION);
    assertThat(codec.rejected()).isEqualTo(1);
  }

  @Test
  void theFirstReleasesLayoutWithoutAVersionIsRejected() {
    // the first release began with the count: one delivery here, so a first byte of 0
    Buffer old = Buffer.buffer().appendInt(1).appendLong(7).appendLong(1025).appendInt(-1)
        .appendInt(2).appendString("{}").appendInt(0);
    assertThatThrownBy(() -> codec.decodeFromWire(0, old))
        .isInstanceOf(DeliveryCodec.WireFormatException.class)
        .hasMessageContaining("version 0 received");
  }

  @Test
  void aTruncatedBufferIsRejectedAtEveryLength() {
    Buffer wire = Buffer.buffer();
    codec.encodeToWire(wire, sample());
    for (int len = 0; len < wire.length(); len++) {
      Buffer cut = wire.getBuffer(0, len);
      assertThatThrownBy(() -> codec.decodeFromWire(0, cut)).as("first %d of %d bytes", len, wire.length())
          .isInstanceOf(DeliveryCodec.WireFormatException.class)
          .hasMessageContaining("parley.deliveries");
    }
    assertThat(codec.rejected()).isEqualTo(wire.length());
  }

  @Test
  void aCorruptCountIsRejectedBeforeAnythingIsAllocatedForIt() {
    Buffer wire = Buffer.buffer();
    codec.encodeToWire(wire, sample());
    wire.setInt(1, Integer.MAX_VALUE);
    assertThatThrownBy(() -> codec.decodeFromWire(0, wire))
        .isInstanceOf(DeliveryCodec.WireFormatException.class)
        .hasMessageContaining("cannot fit");
    wire.setInt(1, -5);
    assertThatThrownBy(() -> codec.decodeFromWire(0, wire))
        .isInstanceOf(DeliveryCodec.WireFormatException.class)
        .hasMessageContaining("cannot fit");
  }

  @Test
  void withinANodeTheBatchIsPassedByReference() {
    Deliveries d = Deliveries.of(new Delivery(List.of("alice"), new Outbound(1, 2, "{}", null)));
    assertThat(codec.transform(d)).isSameAs(d);
  }
}
