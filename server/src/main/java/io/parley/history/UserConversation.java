package io.parley.history;

/**
 * One entry of a user's conversation list: the conversation, the user's read mark and whether the
 * user muted it (no pushes from it).
 */
public record UserConversation(Conversation conversation, long lastReadId, boolean muted) {}
