package io.parley.app;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/**
 * {@link LogFormat} on the console appender {@link LogConfigurator} sets up: the text pattern prints a line's key-value
 * pairs after the message (and nothing extra without them); {@code json} swaps in a JSON encoder
 * whose lines carry the message and the pairs; {@code text} puts the pattern back.
 */
class LogFormatTest {
  private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();

  @SuppressWarnings("unchecked")
  private OutputStreamAppender<ILoggingEvent> console() {
    return (OutputStreamAppender<ILoggingEvent>) context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("STDOUT");
  }

  @AfterEach
  void back() {
    LogFormat.apply("text");
  }

  private static ILoggingEvent event(String message, List<KeyValuePair> pairs) {
    LoggingEvent e = new LoggingEvent("test", (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("io.parley.gateway.Session"),
        Level.INFO, message, null, null);
    e.setKeyValuePairs(pairs);
    return e;
  }

  private String encode(ILoggingEvent e) {
    return new String(console().getEncoder().encode(e), StandardCharsets.UTF_8).strip();
  }

  @Test
  void textLinesEndWithTheirFieldsAndJsonLinesCarryThem() {
    Encoder<ILoggingEvent> text = console().getEncoder();
    List<KeyValuePair> fields = List.of(new KeyValuePair("user", "alice"), new KeyValuePair("device", "phone"),
        new KeyValuePair("node", "node-3"));
    assertThat(encode(event("closing c1", fields))).endsWith("closing c1 user=\"alice\" device=\"phone\" node=\"node-3\"");
    assertThat(new String(text.encode(event("plain", null)), StandardCharsets.UTF_8)).as("no trailing space").endsWith("plain\n");

    LogFormat.apply("json");
    assertThat(console().getEncoder()).isInstanceOf(JsonEncoder.class);
    JsonObject line = new JsonObject(encode(event("closing c1", fields)));
    assertThat(line.getString("formattedMessage")).isEqualTo("closing c1");
    assertThat(line.getString("level")).isEqualTo("INFO");
    assertThat(line.getJsonArray("kvpList").encode()).isEqualTo("[{\"user\":\"alice\"},{\"device\":\"phone\"},{\"node\":\"node-3\"}]");
    LogFormat.apply("json");
    LogFormat.apply("text");
    assertThat(console().getEncoder()).as("the pattern is back, also after json twice").isSameAs(text);
  }
}
