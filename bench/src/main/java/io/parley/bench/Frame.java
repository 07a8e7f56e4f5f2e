package io.parley.bench;

import io.vertx.core.json.JsonObject;

/**
 * One received text frame. Top-level string fields are read with a cheap scan for
 * {@code "key":"value"} (the compact form the server writes; in valid JSON that byte sequence can
 * only be a key, never text inside a string), falling back to a full JSON parse when the fast
 * path cannot answer (field missing, not a string, or escaped characters in the value).
 */
final class Frame {
  final String text;
  private JsonObject json;

  Frame(String text) {
    this.text = text;
  }

  /** The field as a string (numbers etc. are converted), or null if absent. */
  String str(String key) {
    String fast = scan(key);
    if (fast != null) {
      return fast;
    }
    Object v = json().getValue(key);
    return v == null ? null : String.valueOf(v);
  }

  /** The "code" of an error frame, or "unknown". */
  String errorCode() {
    String code = str("code");
    return code == null ? "unknown" : code;
  }

  /** Full parse (lazily, once); throws DecodeException for malformed frames. */
  JsonObject json() {
    if (json == null) {
      json = new JsonObject(text);
    }
    return json;
  }

  private String scan(String key) {
    String pattern = "\"" + key + "\":\"";
    int at = text.indexOf(pattern);
    if (at < 0) {
      return null;
    }
    int start = at + pattern.length();
    for (int i = start; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '"') {
        return text.substring(start, i);
      }
      if (c == '\\') {
        return null;
      }
    }
    return null;
  }
}
