package io.parley.history;

import java.util.List;

/**
 * A slice of one conversation's messages. {@code more} is true when older messages than the
 * slice remain (for history: a next page exists; for backfill: older missed ones were left out).
 */
public record MessagePage(List<StoredMessage> messages, boolean more) {}
