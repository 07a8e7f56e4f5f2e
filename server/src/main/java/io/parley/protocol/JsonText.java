package io.parley.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/**
 * Writes the frames sent on every message (msg, ack) with Jackson's streaming generator: the same
 * compact JSON {@code JsonObject.encode()} produces, without building a map and walking it with
 * data binding first.
 */
final class JsonText {
  private static final JsonFactory FACTORY = new JsonFactory();

  interface Fields {
    void write(JsonGenerator g) throws IOException;
  }

  private JsonText() {
  }

  static String object(Fields fields) {
    StringWriter out = new StringWriter(256);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      fields.write(g);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringWriter does not fail
    }
    return out.toString();
  }
}
