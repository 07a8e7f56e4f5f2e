package io.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The streamed msg and ack frames are exactly what encoding the same fields as a JsonObject gives. */
class FrameEncodingTest {

  @ParameterizedTest
  @ValueSource(strings = {"", "hello", "héllo \uD83D\uDE00 \"quoted\" back\\slash", "line\nbreak\ttab\u0001ctl", "</script>",
      "del\u007f sep\u2028 nul\u0000 lone\uD800 \u00ff", "plain after a non-Latin-1 one"})
  void msgFrameMatchesTheJsonObjectEncoding(String body) {
    ChatMessage m = new ChatMessage(42, 1234567890123L, "alice", "m-1", body, null, 1_700_000_000_000L);
    assertThat(m.toFrame()).isEqualTo(new JsonObject()
        .put("op", "msg").put("conv", "42").put("server_id", "1234567890123").put("from", "alice")
        .put("msg_id", "m-1").put("body", body).put("media", new JsonArray()).put("ts", 1_700_000_000_000L)
        .encode());
    assertThat(ChatMessage.fromFrame(m.toFrame())).isEqualTo(
        new ChatMessage(42, 1234567890123L, "alice", "m-1", body, new JsonArray(), 1_700_000_000_000L));
  }

  @Test
  void msgFrameKeepsMediaAndANullBody() {
    JsonArray media = new JsonArray().add(new JsonObject().put("url", "https://x/y.png").put("size", 12));
    ChatMessage m = new ChatMessage(1, 2, "bob", "m-2", null, media, 3);
    JsonObject frame = new JsonObject(m.toFrame());
    assertThat(frame.getJsonArray("media")).isEqualTo(media);
    assertThat(frame.containsKey("body")).isTrue();
    assertThat(frame.getValue("body")).isNull();
    assertThat(m.toFrame()).isEqualTo(new JsonObject()
        .put("op", "msg").put("conv", "1").put("server_id", "2").put("from", "bob")
        .put("msg_id", "m-2").put("body", null).put("media", media).put("ts", 3L).encode());
  }

  @Test
  void aLargeBodyAndTheFramesAfterItEncodeAsJsonObjectDoes() {
    String large = "\u00e9\"x".repeat(20_000); // past what a thread's builder keeps between frames
    for (String body : new String[] {large, "small", large + "\uD83D\uDE00", "after"}) {
      ChatMessage m = new ChatMessage(1, 2, "bob", "m-3", body, null, 3);
      assertThat(m.toFrame()).isEqualTo(new JsonObject()
          .put("op", "msg").put("conv", "1").put("server_id", "2").put("from", "bob")
          .put("msg_id", "m-3").put("body", body).put("media", new JsonArray()).put("ts", 3L).encode());
    }
  }

  @Test
  void ackFrameMatchesTheJsonObjectEncoding() {
    assertThat(ServerFrames.ack("id \"1\" é", 7, 8, 9)).isEqualTo(new JsonObject()
        .put("op", "ack").put("msg_id", "id \"1\" é").put("conv", "7").put("server_id", "8").put("ts", 9L).encode());
    assertThat(ServerFrames.ack("m", -1, Long.MAX_VALUE, Long.MIN_VALUE)).isEqualTo(new JsonObject()
        .put("op", "ack").put("msg_id", "m").put("conv", "-1").put("server_id", Long.toString(Long.MAX_VALUE))
        .put("ts", Long.MIN_VALUE).encode());
  }
}
