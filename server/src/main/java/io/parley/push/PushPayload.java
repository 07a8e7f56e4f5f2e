package io.parley.push;

import io.vertx.core.json.JsonObject;

/**
 * The notification a device gets: metadata only, so end-to-end-encrypted clients and
 * privacy-minded deployments work — {@code {"conv","server_id","from","count","badge","fetch":true}}
 * (ids as decimal strings, like everywhere in the protocol; {@code count} the new messages this
 * notification stands for, {@code badge} the user's conversations with unread messages); the app
 * fetches the messages itself.
 * With {@code push.preview_chars} &gt; 0 a {@code preview} of the body is added, cut to that many
 * characters (code points: a surrogate pair is never split).
 */
public final class PushPayload {
  private PushPayload() {}

  public static String of(PushSender.Notification n, int previewChars) {
    return of(n.conv(), n.serverId(), n.from(), n.preview(), 1, -1, previewChars);
  }

  /**
   * A notification about {@code count} new messages of a conversation (the newest: {@code serverId}
   * from {@code from}), with the user's {@code badge} (conversations with unread messages; left out
   * when negative: it could not be read).
   */
  public static String of(long conv, long serverId, String from, String preview, int count, int badge, int previewChars) {
    JsonObject json = new JsonObject()
        .put("conv", Long.toString(conv))
        .put("server_id", Long.toString(serverId))
        .put("from", from)
        .put("count", count)
        .put("fetch", true);
    if (badge >= 0) {
      json.put("badge", badge);
    }
    if (previewChars > 0 && preview != null && !preview.isEmpty()) {
      json.put("preview", truncate(preview, previewChars));
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
