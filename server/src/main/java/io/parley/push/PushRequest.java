package io.parley.push;

import java.util.List;

/** Recipients of a message that had no live connection when it was fanned out. */
public record PushRequest(List<String> users, long conv, long serverId, String from, String preview) {}
