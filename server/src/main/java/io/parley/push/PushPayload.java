package io.parley.push;

import io.vertx.core.json.JsonObject;

/**
 * The notification a device gets: metadata only, so end-to-end-encrypted clients and
 * privacy-minded deployments work — {@code {"conv","server_id","from","count":1,"fetch":true}}
 * (ids as decimal strings, like everywhere in the protocol); the app fetches the message itself.
 * With {@code push.preview_chars} &gt; 0 a {@code preview} of the body is added, cut to that many
 * characters (code points: a surrogate pair is never split).
 */
public final class PushPayload {
  private PushPayload() {}

  public static String of(PushSender.Notification n, int previewChars) {
    JsonObject json = new JsonObject()
        .put("conv", Long.toString(n.conv()))
        .put("server_id", Long.toString(n.serverId()))
        .put("from", n.from())
        .put("count", 1)
        .put("fetch", true);
    if (previewChars > 0 && n.preview() != null && !n.preview().isEmpty()) {
      json.put("preview", truncate(n.preview(), previewChars));
    }
    return json.encode();
  }

  /**
   * The first {@code max} code points of {@code s}. A lone high surrogate left at the end (the
   * text was cut before it reached here) is dropped too.
   */
  static String truncate(String s, int max) {
    int end = s.length();
    if (s.codePointCount(0, s.length()) > max) {
      end = s.offsetByCodePoints(0, max);
    }
    if (end > 0 && Character.isHighSurrogate(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(0, end);
  }
}
