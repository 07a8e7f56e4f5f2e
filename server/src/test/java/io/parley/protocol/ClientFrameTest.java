package io.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Unit tests of {@link ClientFrame}: every op parses into its record; every kind of bad input maps
 * to its error code (malformed JSON and missing or mistyped fields → {@code bad_request}, unknown
 * op → {@code unknown_op}, a body over the byte limit — also when only its UTF-8 encoding is over
 * — or too many media / sync conversations / presence users → {@code too_large}); {@code msgIdOf}
 * and {@code validUser}.
 */
class ClientFrameTest {
  private static final ClientFrame.Limits LIMITS = new ClientFrame.Limits(16, 2, 3, 3);

  private static ClientFrame parse(String text) {
    return ClientFrame.parse(ClientFrame.decode(text), LIMITS);
  }

  private static ErrorCode codeOf(String text) {
    ParleyException e = catchThrowableOfType(ParleyException.class, () -> parse(text));
    assertThat(e).as("no error for %s", text).isNotNull();
    assertThat(e.getMessage()).isNotBlank();
    return e.code();
  }

  private static ErrorCode codeOf(JsonObject json) {
    ParleyException e = catchThrowableOfType(ParleyException.class, () -> ClientFrame.parse(json, LIMITS));
    assertThat(e).as("no error for %s", json).isNotNull();
    return e.code();
  }

  private static JsonObject send() {
    return new JsonObject().put("op", "send").put("msg_id", "m1").put("conv", "42").put("body", "hi");
  }

  // ---- each op ----

  @Test
  void parsesSend() {
    ClientFrame f = parse("{\"op\":\"send\",\"msg_id\":\"abc\",\"conv\":\"123\",\"body\":\"hello\"}");
    assertThat(f).isEqualTo(new ClientFrame.Send("abc", 123, "hello", null));
  }

  @Test
  void parsesSendWithMedia() {
    JsonArray media = new JsonArray().add(new JsonObject().put("url", "u1")).add(new JsonObject().put("url", "u2"));
    ClientFrame f = ClientFrame.parse(send().put("media", media), LIMITS);
    assertThat(f).isInstanceOf(ClientFrame.Send.class);
    ClientFrame.Send s = (ClientFrame.Send) f;
    assertThat(s.media()).isEqualTo(media);
    assertThat(s.conv()).isEqualTo(42);
    assertThat(s.msgId()).isEqualTo("m1");
    assertThat(s.body()).isEqualTo("hi");
  }

  @Test
  void sendCarriesTheFirstAttemptFlagWhenGivenAndRejectsAnythingButABoolean() {
    assertThat(((ClientFrame.Send) ClientFrame.parse(send().put("first", true), LIMITS)).first()).isTrue();
    assertThat(((ClientFrame.Send) ClientFrame.parse(send().put("first", false), LIMITS)).first()).isFalse();
    assertThat(((ClientFrame.Send) ClientFrame.parse(send(), LIMITS)).first()).isNull();
    for (Object bad : List.of("true", 1, new JsonObject(), new JsonArray())) {
      assertThatThrownBy(() -> ClientFrame.parse(send().put("first", bad), LIMITS)).as("first = %s", bad)
          .isInstanceOfSatisfying(ParleyException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST);
            assertThat(e.getMessage()).contains("'first'");
          });
    }
  }

  @Test
  void parsesSendWithEmptyBodyAndEmptyMedia() {
    ClientFrame.Send s = (ClientFrame.Send) ClientFrame.parse(send().put("body", "").put("media", new JsonArray()), LIMITS);
    assertThat(s.body()).isEmpty();
    assertThat(s.media()).isEmpty();
  }

  @Test
  void parsesDeliveredReadTypingPing() {
    assertThat(parse("{\"op\":\"delivered\",\"conv\":\"5\",\"server_id\":\"9\"}")).isEqualTo(new ClientFrame.Delivered(5, 9));
    assertThat(parse("{\"op\":\"read\",\"conv\":\"5\",\"server_id\":\"10\"}")).isEqualTo(new ClientFrame.Read(5, 10));
    assertThat(parse("{\"op\":\"typing\",\"conv\":\"7\"}")).isEqualTo(new ClientFrame.Typing(7));
    assertThat(parse("{\"op\":\"ping\"}")).isEqualTo(new ClientFrame.Ping());
    assertThat(parse("{\"op\":\"ping\",\"extra\":[1,2]}")).isEqualTo(new ClientFrame.Ping());
  }

  @Test
  void parsesSyncKeepingTheClientsOrder() {
    ClientFrame f = parse("{\"op\":\"sync\",\"convs\":{\"30\":\"0\",\"10\":\"99\",\"20\":\"5\"}}");
    Map<Long, Long> expected = new LinkedHashMap<>();
    expected.put(30L, 0L);
    expected.put(10L, 99L);
    expected.put(20L, 5L);
    assertThat(f).isInstanceOf(ClientFrame.Sync.class);
    assertThat(((ClientFrame.Sync) f).convs()).containsExactlyEntriesOf(expected);
    assertThat(((ClientFrame.Sync) parse("{\"op\":\"sync\",\"convs\":{}}")).convs()).isEmpty();
  }

  @Test
  void parsesPresenceSub() {
    assertThat(parse("{\"op\":\"presence_sub\",\"users\":[\"alice\",\"b.o-b_1\"]}"))
        .isEqualTo(new ClientFrame.PresenceSub(List.of("alice", "b.o-b_1")));
    assertThat(parse("{\"op\":\"presence_sub\",\"users\":[]}")).isEqualTo(new ClientFrame.PresenceSub(List.of()));
  }

  // ---- malformed / unknown ----

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "{", "}", "not json", "[1,2]", "[]", "null", "1", "\"op\"", "true",
      "{\"op\":\"ping\"", "{\"op\":\"ping\"} trailing", "{op:ping}"})
  void malformedJsonIsBadRequest(String text) {
    ParleyException e = catchThrowableOfType(ParleyException.class, () -> ClientFrame.decode(text));
    assertThat(e).as("decode of [%s]", text).isNotNull();
    assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST);
  }

  @ParameterizedTest
  @ValueSource(strings = {"{}", "{\"op\":null}", "{\"op\":1}", "{\"op\":[\"send\"]}", "{\"op\":{}}", "{\"op\":true}"})
  void missingOrNonStringOpIsBadRequest(String text) {
    assertThat(codeOf(text)).isEqualTo(ErrorCode.BAD_REQUEST);
  }

  @ParameterizedTest
  @ValueSource(strings = {"fly", "SEND", "Send", "", " ping", "msg", "ack"})
  void unknownOpIsUnknownOp(String op) {
    assertThat(codeOf(new JsonObject().put("op", op))).isEqualTo(ErrorCode.UNKNOWN_OP);
  }

  // ---- send: missing / mistyped fields ----

  @Test
  void sendWithBadMsgIdIsBadRequest() {
    assertThat(codeOf(without(send(), "msg_id"))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf(send().put("msg_id", ""))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf(send().put("msg_id", "x".repeat(65)))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf(send().put("msg_id", 12))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf(send().putNull("msg_id"))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(ClientFrame.parse(send().put("msg_id", "x".repeat(64)), LIMITS)).isInstanceOf(ClientFrame.Send.class);
    // a lone surrogate cannot be echoed in the ack (UTF-8 has no form for it): refused, and not echoed in the error
    assertThat(codeOf(send().put("msg_id", "a\ud800"))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf(send().put("msg_id", "\udfff\ud800x"))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(ClientFrame.msgIdOf(new JsonObject().put("msg_id", "\udc00"))).isNull();
    assertThat(ClientFrame.parse(send().put("msg_id", "😀-1"), LIMITS)).as("a pair is a character").isInstanceOf(ClientFrame.Send.class);
  }

  @Test
  void sendWithBadConvIsBadRequest() {
    assertThat(codeOf(without(send(), "conv"))).isEqualTo(ErrorCode.BAD_REQUEST);
    for (Object conv : new Object[] {42, 42L, "0", "-1", "abc", "", "1.5", "99999999999999999999", true}) {
      assertThat(codeOf(send().put("conv", conv))).as("conv %s", conv).isEqualTo(ErrorCode.BAD_REQUEST);
    }
  }

  @Test
  void sendWithBadBodyIsBadRequest() {
    assertThat(codeOf(without(send(), "body"))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf(send().put("body", 5))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf(send().putNull("body"))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf(send().put("body", new JsonObject()))).isEqualTo(ErrorCode.BAD_REQUEST);
  }

  @Test
  void sendWithBadMediaIsBadRequest() {
    assertThat(codeOf(send().put("media", "url"))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf(send().put("media", new JsonObject()))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf(send().put("media", new JsonArray().add("url")))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf(send().put("media", new JsonArray().add(new JsonObject()).add(1)))).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf(send().put("media", new JsonArray().addNull()))).isEqualTo(ErrorCode.BAD_REQUEST);
  }

  // ---- limits ----

  @Test
  void bodyAtTheLimitIsAccepted() {
    assertThat(ClientFrame.parse(send().put("body", "x".repeat(16)), LIMITS)).isInstanceOf(ClientFrame.Send.class);
    // 4 emoji: 8 UTF-16 chars, 16 UTF-8 bytes
    assertThat(ClientFrame.parse(send().put("body", "\uD83D\uDE00".repeat(4)), LIMITS)).isInstanceOf(ClientFrame.Send.class);
  }

  @Test
  void bodyOverTheLimitIsTooLarge() {
    assertThat(codeOf(send().put("body", "x".repeat(17)))).isEqualTo(ErrorCode.TOO_LARGE);
    assertThat(codeOf(send().put("body", "x".repeat(10_000)))).isEqualTo(ErrorCode.TOO_LARGE);
  }

  @Test
  void multiByteBodyOverTheByteLimitIsTooLarge() {
    // 6 chars, 18 bytes
    assertThat(codeOf(send().put("body", "€".repeat(6)))).isEqualTo(ErrorCode.TOO_LARGE);
    // 16 chars, 17 bytes: one 2-byte char pushes it over
    assertThat(codeOf(send().put("body", "x".repeat(15) + "é"))).isEqualTo(ErrorCode.TOO_LARGE);
    // 5 emoji: 10 chars, 20 bytes
    assertThat(codeOf(send().put("body", "\uD83D\uDE00".repeat(5)))).isEqualTo(ErrorCode.TOO_LARGE);
    // 14 ASCII + "é" is exactly 16 bytes
    assertThat(ClientFrame.parse(send().put("body", "x".repeat(14) + "é"), LIMITS)).isInstanceOf(ClientFrame.Send.class);
  }

  @Test
  void tooManyMediaIsTooLarge() {
    JsonArray three = new JsonArray().add(new JsonObject()).add(new JsonObject()).add(new JsonObject());
    assertThat(codeOf(send().put("media", three))).isEqualTo(ErrorCode.TOO_LARGE);
    JsonArray two = new JsonArray().add(new JsonObject()).add(new JsonObject());
    assertThat(ClientFrame.parse(send().put("media", two), LIMITS)).isInstanceOf(ClientFrame.Send.class);
  }

  @Test
  void zeroMediaLimitRejectsAnyMedia() {
    ClientFrame.Limits none = new ClientFrame.Limits(16, 0, 3, 3);
    ParleyException e = catchThrowableOfType(ParleyException.class,
        () -> ClientFrame.parse(send().put("media", new JsonArray().add(new JsonObject())), none));
    assertThat(e.code()).isEqualTo(ErrorCode.TOO_LARGE);
    assertThat(ClientFrame.parse(send(), none)).isInstanceOf(ClientFrame.Send.class);
  }

  // ---- other ops: missing / mistyped / limits ----

  @Test
  void deliveredReadTypingNeedIds() {
    assertThat(codeOf("{\"op\":\"delivered\",\"conv\":\"5\"}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"delivered\",\"server_id\":\"5\"}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"delivered\",\"conv\":5,\"server_id\":\"5\"}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"read\",\"conv\":\"5\",\"server_id\":10}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"read\",\"conv\":\"5\",\"server_id\":\"0\"}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"read\",\"conv\":\"x\",\"server_id\":\"1\"}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"typing\"}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"typing\",\"conv\":null}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"typing\",\"conv\":\"-3\"}")).isEqualTo(ErrorCode.BAD_REQUEST);
  }

  @Test
  void badSyncIsBadRequest() {
    assertThat(codeOf("{\"op\":\"sync\"}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"sync\",\"convs\":[]}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"sync\",\"convs\":\"1\"}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"sync\",\"convs\":{\"abc\":\"0\"}}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"sync\",\"convs\":{\"0\":\"0\"}}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"sync\",\"convs\":{\"-1\":\"0\"}}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"sync\",\"convs\":{\"1\":0}}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"sync\",\"convs\":{\"1\":\"-1\"}}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"sync\",\"convs\":{\"1\":null}}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"sync\",\"convs\":{\"1\":\"x\"}}")).isEqualTo(ErrorCode.BAD_REQUEST);
  }

  @Test
  void syncOverTheLimitIsTooLarge() {
    assertThat(codeOf("{\"op\":\"sync\",\"convs\":{\"1\":\"0\",\"2\":\"0\",\"3\":\"0\",\"4\":\"0\"}}"))
        .isEqualTo(ErrorCode.TOO_LARGE);
    assertThat(parse("{\"op\":\"sync\",\"convs\":{\"1\":\"0\",\"2\":\"0\",\"3\":\"0\"}}")).isInstanceOf(ClientFrame.Sync.class);
  }

  @Test
  void badPresenceSubIsBadRequest() {
    assertThat(codeOf("{\"op\":\"presence_sub\"}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"presence_sub\",\"users\":\"alice\"}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"presence_sub\",\"users\":[1]}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"presence_sub\",\"users\":[null]}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"presence_sub\",\"users\":[\"\"]}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"presence_sub\",\"users\":[\"al ice\"]}")).isEqualTo(ErrorCode.BAD_REQUEST);
    assertThat(codeOf("{\"op\":\"presence_sub\",\"users\":[\"ok\",\"bad/user\"]}")).isEqualTo(ErrorCode.BAD_REQUEST);
  }

  @Test
  void presenceSubOverTheLimitIsTooLarge() {
    assertThat(codeOf("{\"op\":\"presence_sub\",\"users\":[\"a\",\"b\",\"c\",\"d\"]}")).isEqualTo(ErrorCode.TOO_LARGE);
  }

  // ---- helpers ----

  @Test
  void msgIdOf() {
    assertThat(ClientFrame.msgIdOf(new JsonObject().put("msg_id", "abc"))).isEqualTo("abc");
    assertThat(ClientFrame.msgIdOf(new JsonObject().put("msg_id", "x".repeat(64)))).hasSize(64);
    assertThat(ClientFrame.msgIdOf(new JsonObject())).isNull();
    assertThat(ClientFrame.msgIdOf(new JsonObject().putNull("msg_id"))).isNull();
    assertThat(ClientFrame.msgIdOf(new JsonObject().put("msg_id", ""))).isNull();
    assertThat(ClientFrame.msgIdOf(new JsonObject().put("msg_id", 7))).isNull();
    assertThat(ClientFrame.msgIdOf(new JsonObject().put("msg_id", "x".repeat(65)))).isNull();
    // a send that fails validation still reports its msg_id for the error reply
    JsonObject tooBig = send().put("msg_id", "keep-me").put("body", "x".repeat(100));
    assertThat(codeOf(tooBig)).isEqualTo(ErrorCode.TOO_LARGE);
    assertThat(ClientFrame.msgIdOf(tooBig)).isEqualTo("keep-me");
  }

  @Test
  void validUser() {
    assertThat(ClientFrame.validUser("alice")).isTrue();
    assertThat(ClientFrame.validUser("A-b_c.9")).isTrue();
    assertThat(ClientFrame.validUser("x".repeat(64))).isTrue();
    assertThat(ClientFrame.validUser("x".repeat(65))).isFalse();
    assertThat(ClientFrame.validUser("")).isFalse();
    assertThat(ClientFrame.validUser(null)).isFalse();
    assertThat(ClientFrame.validUser("a b")).isFalse();
    assertThat(ClientFrame.validUser("a\u0000b")).isFalse();
    assertThat(ClientFrame.validUser("ünï")).isFalse();
    assertThat(ClientFrame.validUser("a/b")).isFalse();
  }

  private static JsonObject without(JsonObject o, String key) {
    o.remove(key);
    return o;
  }
}
