package io.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WireFrameTest {

  /** What a client's decoder makes of the bytes, at each boundary of the length encoding. */
  @ParameterizedTest
  @ValueSource(ints = {0, 1, 125, 126, 127, 65_535, 65_536, 200_000})
  void aClientDecoderReadsTheSameText(int length) {
    String text = "é".repeat(length / 2) + "x".repeat(length % 2); // 2-byte characters: bytes != chars
    byte[] wire = WireFrame.text(text);

    // a client decodes server frames: unmasked, and it does not expect masks
    EmbeddedChannel client = new EmbeddedChannel(new WebSocket13FrameDecoder(false, false, 1 << 20));
    assertThat(client.writeInbound(Unpooled.wrappedBuffer(wire))).isTrue();
    TextWebSocketFrame frame = client.readInbound();
    try {
      assertThat(frame.isFinalFragment()).isTrue();
      assertThat(frame.rsv()).isZero();
      assertThat(frame.text()).isEqualTo(text);
    } finally {
      frame.release();
    }
    assertThat(client.finishAndReleaseAll()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(ints = {125, 126, 65_535, 65_536})
  void usesTheShortestLengthEncoding(int bytes) {
    byte[] wire = WireFrame.text("a".repeat(bytes));
    int header = bytes < 126 ? 2 : bytes <= 65_535 ? 4 : 10;
    assertThat(wire).hasSize(header + bytes);
    assertThat(wire[0] & 0xFF).isEqualTo(0x81);
    assertThat(wire[1] & 0x80).as("unmasked").isZero();
  }
}
