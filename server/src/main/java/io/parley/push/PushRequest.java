package io.parley.push;

import java.util.List;

/**
 * A message's recipients for push: all of them but the sender, connected or not (push decides per
 * device, see {@link PushVerticle}).
 */
public record PushRequest(List<String> users, long conv, long serverId, String from, String preview) {}
