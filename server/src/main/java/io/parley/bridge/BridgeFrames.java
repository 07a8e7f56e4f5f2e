package io.parley.bridge;

import io.parley.protocol.ErrorCode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;

/**
 * The wire format of Vert.x's TCP event-bus bridge (vertx-tcp-eventbus-bridge), which Parley's
 * bridge speaks so that its clients work unchanged: each frame is a 4-byte big-endian length and
 * that many bytes of UTF-8 JSON, {@code {type, address, replyAddress, headers, body}}. Client
 * types: {@code send} (with a {@code replyAddress}: a request), {@code publish}, {@code register},
 * {@code unregister}, {@code ping}. Server types: {@code message}, {@code pong}, {@code err}. Built
 * and parsed only here.
 */
final class BridgeFrames {
  /** The largest frame accepted from a client, in bytes of JSON; a longer length closes the connection. */
  static final int FRAME_MAX_BYTES = 1024 * 1024;

  private BridgeFrames() {}

  static Buffer encode(JsonObject frame) {
    byte[] data = frame.encode().getBytes(StandardCharsets.UTF_8);
    return Buffer.buffer(4 + data.length).appendInt(data.length).appendBytes(data);
  }

  static JsonObject message(String address, Object body) {
    return new JsonObject().put("type", "message").put("address", address).put("send", false).put("body", body);
  }

  /** The answer to a request: a {@code message} to its {@code replyAddress}. */
  static JsonObject reply(String replyAddress, Object body) {
    return new JsonObject().put("type", "message").put("address", replyAddress).put("send", true).put("body", body);
  }

  static JsonObject pong() {
    return new JsonObject().put("type", "pong");
  }

  /** An error about the frame itself ({@code message}: what was wrong), as the Vert.x bridge sends it. */
  static JsonObject err(String message) {
    return new JsonObject().put("type", "err").put("message", message);
  }

  /**
   * The failure of a request, as the Vert.x bridge sends it ({@code failureCode}, {@code failureType},
   * {@code message}), plus Parley's error {@code code} ({@code not_found}, {@code bad_request}, …).
   */
  static JsonObject failure(String address, String replyAddress, ReplyException e) {
    JsonObject f = new JsonObject().put("type", "err").put("address", replyAddress).put("sourceAddress", address)
        .put("failureCode", e.failureCode()).put("failureType", e.failureType().name());
    String code = switch (e.failureType()) {
      case RECIPIENT_FAILURE -> ErrorCode.fromFailureCode(e.failureCode()).wire();
      case TIMEOUT, NO_HANDLERS -> ErrorCode.UNAVAILABLE.wire();
      default -> ErrorCode.INTERNAL.wire();
    };
    return f.put("code", code).put("message", e.getMessage());
  }
}
