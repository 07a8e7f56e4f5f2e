package io.parley.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The fuzzer's judge: documented replies pass, and each kind of undocumented one is caught. */
class FuzzRepliesTest {
  private final FuzzReplies replies = new FuzzReplies();

  private String text(String frame) {
    return replies.checkText(frame, new JsonObject[1]);
  }

  @Test
  void documentedFramesPass() {
    assertThat(text("{\"op\":\"ack\",\"msg_id\":\"m\",\"conv\":\"12\",\"server_id\":\"34\",\"ts\":1}")).isNull();
    assertThat(text("{\"op\":\"error\",\"code\":\"bad_request\",\"message\":\"no\"}")).isNull();
    assertThat(text("{\"op\":\"pong\"}")).isNull();
    assertThat(text("{\"op\":\"synced\",\"conv\":\"5\",\"more\":false}")).isNull();
    assertThat(replies.counts()).containsEntry("ws.op.ack", 1L).containsEntry("ws.error.bad_request", 1L);
  }

  @Test
  void undocumentedFramesAreFindings() {
    assertThat(text("not json")).contains("not a JSON object");
    assertThat(text("[1]")).contains("not a JSON object");
    assertThat(text("{\"op\":\"hello\"}")).contains("undocumented op");
    assertThat(text("{\"op\":\"error\",\"code\":\"oops\",\"message\":\"x\"}")).contains("undocumented code");
    assertThat(text("{\"op\":\"error\",\"code\":\"internal\",\"message\":\"x\"}")).contains("server bug");
    assertThat(text("{\"op\":\"error\",\"code\":\"unauthorized\",\"message\":\"x\"}")).as("REST only").contains("undocumented code");
    assertThat(text("{\"op\":\"error\",\"code\":\"not_found\"}")).contains("without a message");
    assertThat(text("{\"op\":\"ack\",\"msg_id\":\"m\",\"conv\":\"12\",\"server_id\":\"-3\",\"ts\":1}")).contains("bad id");
    assertThat(text("{\"op\":\"ack\",\"conv\":\"12\",\"server_id\":\"3\",\"ts\":1}")).contains("without msg_id");
    assertThat(text("{\"op\":\"msg\",\"conv\":\"12\",\"server_id\":\"3\"}")).contains("bad msg");
  }

  @Test
  void closeCodesMustBeTheCasesOwn() {
    assertThat(replies.checkClose(1002, Set.of(1002))).isNull();
    assertThat(replies.checkClose(-1, Set.of(-1))).isNull();
    assertThat(replies.checkClose(1000, Set.of(1007))).contains("close 1000");
    assertThat(replies.checkClose(-1, Set.of(1002))).contains("without a code");
  }

  @Test
  void restAnswersNeedADocumentedStatusAndErrorBody() {
    assertThat(replies.checkRest(201, "{\"id\":\"1\"}")).isNull();
    assertThat(replies.checkRest(204, "")).isNull();
    assertThat(replies.checkRest(400, "{\"error\":{\"code\":\"bad_request\",\"message\":\"m\"}}")).isNull();
    assertThat(replies.checkRest(500, "{\"error\":{\"code\":\"internal\",\"message\":\"m\"}}")).contains("undocumented status 500");
    assertThat(replies.checkRest(400, "{\"error\":{\"code\":\"not_found\",\"message\":\"m\"}}")).as("code of another status")
        .contains("without a documented error body");
    assertThat(replies.checkRest(413, "Request Entity Too Large")).contains("without a documented error body");
    assertThat(replies.checkRest(200, "")).contains("without a JSON object body");
    assertThat(replies.checkRest(302, "")).contains("undocumented status 302");
  }
}
