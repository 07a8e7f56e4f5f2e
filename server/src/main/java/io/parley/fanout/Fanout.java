package io.parley.fanout;

import java.util.Collection;

/**
 * One frame for a set of users. Messages ({@code serverId} &gt; 0) also go to push for every
 * recipient (push decides per device); signals do not. {@code from} is never pushed to; {@code skipConnection}
 * (the sending connection) gets an ack instead of the frame. {@code prev} is the id of the
 * conversation's message routed just before this one, as routing saw it (0: not known); a gateway
 * compares it with what each connection got to find a delivery that never reached it.
 */
public record Fanout(long conv, long serverId, String from, String frame, Collection<String> recipients,
    String skipConnection, String preview, long prev) {

  /** A fan-out whose previous message routing does not know (signals, and messages without it). */
  public Fanout(long conv, long serverId, String from, String frame, Collection<String> recipients,
      String skipConnection, String preview) {
    this(conv, serverId, from, frame, recipients, skipConnection, preview, 0);
  }

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
