package io.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
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

  @Test
  void aCloseFrameCarriesItsCodeAndReason() {
    CloseWebSocketFrame close = decode(WireFrame.close(1013, "too far behind"));
    try {
      assertThat(close.statusCode()).isEqualTo(1013);
      assertThat(close.reasonText()).isEqualTo("too far behind");
    } finally {
      close.release();
    }
  }

  @Test
  void aLongCloseReasonIsCutToFitAControlFrameWithoutSplittingACharacter() {
    byte[] wire = WireFrame.close(1008, "x" + "é".repeat(100));
    assertThat(wire[1] & 0x7F).as("payload length").isLessThanOrEqualTo(125);
    CloseWebSocketFrame close = decode(wire);
    try {
      assertThat(close.statusCode()).isEqualTo(1008);
      assertThat(close.reasonText()).isEqualTo("x" + "é".repeat(61));
    } finally {
      close.release();
    }
  }

  @Test
  void aPongCarriesThePingsPayload() {
    PongWebSocketFrame pong = decode(WireFrame.pong("are you there".getBytes(StandardCharsets.UTF_8)));
    try {
      assertThat(ByteBufUtil.getBytes(pong.content())).asString(StandardCharsets.UTF_8).isEqualTo("are you there");
    } finally {
      pong.release();
    }
  }

  private static <T> T decode(byte[] wire) {
    EmbeddedChannel client = new EmbeddedChannel(new WebSocket13FrameDecoder(false, false, 1 << 20));
    assertThat(client.writeInbound(Unpooled.wrappedBuffer(wire))).isTrue();
    T frame = client.readInbound();
    assertThat(client.finishAndReleaseAll()).isFalse();
    return frame;
  }
}
