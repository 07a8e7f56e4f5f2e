package io.parley.protocol;

import io.vertx.core.json.jackson.JacksonCodec;
import io.vertx.core.spi.JsonFactory;
import io.vertx.core.spi.json.JsonCodec;

/**
 * The JSON codec behind every {@code JsonObject} in this JVM: Jackson's streaming parser and
 * generator ({@link JacksonCodec}), registered through Vert.x's {@link JsonFactory} service
 * ({@code META-INF/services}) ahead of the default. Without it Vert.x picks Jackson data binding
 * whenever {@code jackson-databind} is on the class path, and it is here (the Cassandra driver
 * brings it): every client frame a node parses then went through an {@code ObjectMapper} and its
 * per-call deserialization context, and loading data binding's classes cost a start about 0.4 s
 * on one core. Parley maps no Java object to JSON ({@code JsonObject.mapTo} and {@code mapFrom}
 * would fail here), so nothing needs data binding; the JSON itself (numbers, escapes, what is
 * refused) is Jackson's either way, {@code StreamingJsonFactoryTest} pins what frames rely on.
 */
public final class StreamingJsonFactory implements JsonFactory {
  private static final JacksonCodec CODEC = new JacksonCodec();

  @Override
  public int order() {
    return 0;
  }

  @Override
  public JsonCodec codec() {
    return CODEC;
  }
}
