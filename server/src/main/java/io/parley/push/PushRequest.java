package io.parley.push;

import java.util.List;

/**
 * A message's recipients for push: {@code users}, all of them but the sender, connected or not
 * (push decides per device, see {@link PushVerticle}); {@code offline}, those of them fan-out found
 * with no live connection at all (what the log-only path needs, without asking the registry about
 * everyone again).
 */
public record PushRequest(List<String> users, List<String> offline, long conv, long serverId, String from,
    String preview) {}
