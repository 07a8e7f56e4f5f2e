package io.parley.fanout;

import java.util.Collection;

/**
 * One frame for a set of users. Messages ({@code serverId} &gt; 0) also go to push for every
 * recipient (push decides per device); signals do not. {@code from} is never pushed to; {@code skipConnection}
 * (the sending connection) gets an ack instead of the frame.
 */
public record Fanout(long conv, long serverId, String from, String frame, Collection<String> recipients,
    String skipConnection, String preview) {}
