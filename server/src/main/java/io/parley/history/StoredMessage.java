package io.parley.history;

/** A message as kept by a {@link MessageStore}: its ids plus its encoded {@code msg} frame. */
public record StoredMessage(long conv, long serverId, String from, String frame) {}
