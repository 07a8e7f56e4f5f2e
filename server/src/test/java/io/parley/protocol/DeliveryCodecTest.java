package io.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The wire form of a batch of deliveries between nodes: everything, in order, survives the trip. */
class DeliveryCodecTest {
  private final DeliveryCodec codec = new DeliveryCodec();

  @Test
  void aBatchOfDeliveriesCrossesTheWireWholeAndInOrder() {
    Deliveries sent = new Deliveries(List.of(
        new Delivery(List.of("alice", "bob"), new Outbound(7, 1025, "{\"op\":\"msg\",\"body\":\"héllo ✓\"}", "n1-3-phone")),
        new Delivery(List.of("carol"), new Outbound(8, 0, "{\"op\":\"typing\"}", null)),
        new Delivery(List.of(), new Outbound(9, 2049, "{}", null))));
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
    }
  }

  @Test
  void withinANodeTheBatchIsPassedByReference() {
    Deliveries d = Deliveries.of(new Delivery(List.of("alice"), new Outbound(1, 2, "{}", null)));
    assertThat(codec.transform(d)).isSameAs(d);
  }
}
