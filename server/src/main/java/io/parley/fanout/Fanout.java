package io.parley.fanout;

import java.util.Collection;

/**
 * One frame for a set of users. Messages ({@code serverId} &gt; 0) also go to push for every
 * recipient (push decides per device); signals do not. {@code from} is never pushed to; {@code skipConnection}
 * (the sending connection) gets an ack instead of the frame.
 */
public record Fanout(long conv, long serverId, String from, String frame, Collection<String> recipients,
    String skipConnection, String preview) {
  /** The most a preview keeps of a body, in code points (push shows at most this many). */
  public static final int PREVIEW_MAX = 64;

  /** The first {@link #PREVIEW_MAX} code points of a message body: never half of a surrogate pair. */
  public static String preview(String body) {
    if (body.length() <= PREVIEW_MAX) {
      return body;
    }
    int end = body.offsetByCodePoints(0, Math.min(PREVIEW_MAX, body.codePointCount(0, body.length())));
    return body.substring(0, end);
  }
}
