package io.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.DatabindCodec;
import io.vertx.core.json.jackson.JacksonCodec;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link StreamingJsonFactory}: Vert.x takes it over its default (data binding, on the class path
 * here), and the JSON frames rely on reads as before: numbers by size, strings with escapes, and
 * input that is not one JSON value refused.
 */
class StreamingJsonFactoryTest {

  @Test
  void vertxUsesTheStreamingCodec() {
    assertThat(Json.CODEC).isInstanceOf(JacksonCodec.class).isNotInstanceOf(DatabindCodec.class);
  }

  @Test
  void numbersStringsAndNestingReadAsBefore() {
    JsonObject j = new JsonObject("{\"i\":7,\"l\":384808471440134144,\"b\":123456789012345678901234,\"d\":1.5,"
        + "\"s\":\"a\\\"b\\u00e9\\ud83d\\ude00\",\"n\":null,\"t\":true,\"a\":[1,{\"x\":\"y\"}],\"o\":{}}");
    assertThat(j.getValue("i")).isEqualTo(7);
    assertThat(j.getValue("l")).isEqualTo(384808471440134144L);
    assertThat(j.getValue("b")).isEqualTo(new BigInteger("123456789012345678901234"));
    assertThat(j.getValue("d")).isEqualTo(1.5d);
    assertThat(j.getString("s")).isEqualTo("a\"bé😀");
    assertThat(j.containsKey("n")).isTrue();
    assertThat(j.getBoolean("t")).isTrue();
    assertThat(j.getJsonArray("a").getJsonObject(1).getString("x")).isEqualTo("y");
    assertThat(j.getJsonObject("o").isEmpty()).isTrue();
    assertThat(new JsonObject(j.encode())).isEqualTo(j);
    assertThat(new JsonArray("[\"x\",2]").encode()).isEqualTo("[\"x\",2]");
  }

  @Test
  void whatIsNotOneJsonValueIsRefused() {
    assertThatThrownBy(() -> new JsonObject("{\"op\":\"send\"} {}")).isInstanceOf(DecodeException.class);
    assertThatThrownBy(() -> new JsonObject("{\"op\":\"send\"")).isInstanceOf(DecodeException.class);
    assertThatThrownBy(() -> new JsonObject("[1]")).isInstanceOf(DecodeException.class);
    assertThatThrownBy(() -> new JsonObject("{'op':'send'}")).isInstanceOf(DecodeException.class);
  }
}
