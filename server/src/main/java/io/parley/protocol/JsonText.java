package io.parley.protocol;

import com.fasterxml.jackson.core.io.CharTypes;
import com.fasterxml.jackson.core.io.JsonStringEncoder;

/**
 * Writes the frames sent on every message (msg, ack): the same compact JSON {@code
 * JsonObject.encode()} produces (FrameEncodingTest), into a builder each thread reuses, so a frame
 * costs one String and no more. String values are escaped by Jackson's {@link JsonStringEncoder},
 * the escaping its generators use; field names are Parley's own ASCII constants and are written as
 * they are. (Jackson's streaming generator did the same work with a writer, a context and a
 * generator object per frame, and a buffer that grew twice: 23% of what the server allocated at
 * 5,000 msgs/s, issue 21.)
 */
final class JsonText {
  private static final JsonStringEncoder ESCAPE = JsonStringEncoder.getInstance();
  /** Jackson's table of the ASCII characters its generators escape (non-zero: escaped). */
  private static final int[] ESCAPED = CharTypes.get7BitOutputEscapes();
  /** A builder that grew past this (a large body) is dropped after its frame, not kept by its thread. */
  private static final int KEEP_CHARS = 16 * 1024;
  private static final ThreadLocal<Writer> WRITERS = ThreadLocal.withInitial(Writer::new);

  interface Fields {
    void write(Writer w);
  }

  /** The fields of one object, in order. Not to be used outside {@link #object}'s callback. */
  static final class Writer {
    private StringBuilder sb = new StringBuilder(512);
    private boolean first;
    private boolean busy;

    private void name(String name) {
      sb.append(first ? "\"" : ",\"").append(name).append("\":");
      first = false;
    }

    /** A string field; null is written as JSON null. */
    Writer string(String name, String value) {
      name(name);
      if (value == null) {
        sb.append("null");
      } else {
        sb.append('"');
        if (plain(value)) {
          sb.append(value); // one copy, where the encoder appends a character at a time
        } else {
          ESCAPE.quoteAsString(value, sb);
        }
        sb.append('"');
      }
      return this;
    }

    /** A number written as a JSON string, as Parley writes 64-bit ids ({@code "conv":"42"}). */
    Writer idString(String name, long value) {
      name(name);
      sb.append('"').append(value).append('"');
      return this;
    }

    Writer number(String name, long value) {
      name(name);
      sb.append(value);
      return this;
    }

    /** A field whose value is already encoded JSON. */
    Writer raw(String name, String json) {
      name(name);
      sb.append(json);
      return this;
    }
  }

  private JsonText() {
  }

  /** Whether {@code value} has no character JSON escapes (most message bodies and every id). */
  private static boolean plain(String value) {
    for (int i = 0, n = value.length(); i < n; i++) {
      char c = value.charAt(i);
      if (c < ESCAPED.length && ESCAPED[c] != 0) {
        return false;
      }
    }
    return true;
  }

  static String object(Fields fields) {
    Writer w = WRITERS.get();
    if (w.busy) { // a callback that encodes another frame: give it a writer of its own
      w = new Writer();
    }
    w.busy = true;
    try {
      w.sb.setLength(0);
      w.first = true;
      w.sb.append('{');
      fields.write(w);
      w.sb.append('}');
      return w.sb.toString();
    } finally {
      w.busy = false;
      if (w.sb.capacity() > KEEP_CHARS) {
        w.sb = new StringBuilder(512);
      }
    }
  }
}
