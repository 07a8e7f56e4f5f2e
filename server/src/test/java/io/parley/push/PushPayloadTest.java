package io.parley.push;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** {@link PushPayload}: metadata only by default; a preview cut on code points, never half a surrogate pair. */
class PushPayloadTest {
  private static final PushSender.Notification N = new PushSender.Notification("bob", 12, 34, "alice", "hello \uD83D\uDE00 world");

  @Test
  void metadataOnlyByDefault() {
    JsonObject p = new JsonObject(PushPayload.of(N, 0));
    assertThat(p).isEqualTo(new JsonObject().put("conv", "12").put("server_id", "34").put("from", "alice").put("count", 1)
        .put("fetch", true));
  }

  @Test
  void previewCutOnCharacters() {
    assertThat(new JsonObject(PushPayload.of(N, 5)).getString("preview")).isEqualTo("hello");
    assertThat(new JsonObject(PushPayload.of(N, 7)).getString("preview")).isEqualTo("hello \uD83D\uDE00");
    assertThat(new JsonObject(PushPayload.of(N, 64)).getString("preview")).isEqualTo("hello \uD83D\uDE00 world");
  }

  @Test
  void truncateNeverSplitsAPair() {
    assertThat(PushPayload.truncate("\uD83D\uDE00\uD83D\uDE01", 1)).isEqualTo("\uD83D\uDE00");
    assertThat(PushPayload.truncate("ab\uD83D", 10)).as("a pair already cut upstream").isEqualTo("ab");
    assertThat(PushPayload.truncate("", 3)).isEmpty();
  }
}
