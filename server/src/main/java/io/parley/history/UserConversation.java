package io.parley.history;

/** One entry of a user's conversation list: the conversation and the user's read mark. */
public record UserConversation(Conversation conversation, long lastReadId) {}
