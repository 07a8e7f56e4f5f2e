package io.parley.routing;

import io.vertx.core.Future;

/**
 * Where routing parks a logged record that storage refused for good, or for longer than
 * {@code routing.dead_letter_after_ms} while it stored other records (cluster profile: the topic
 * {@code <topic>.dead}). A parked record is not stored and not delivered; an operator replays it
 * once the cause is fixed ({@code scripts/replay-dead}), and routing's dedupe keeps a replay single.
 */
public interface DeadLetters {

  /**
   * Parks {@code record}; completes once it is durable there (only then may routing commit past it).
   *
   * @param error why storage refused it
   * @param attempts how often routing tried to persist it
   */
  Future<Void> park(LogSource.Logged record, String error, int attempts);

  /** Where parked records go, for log lines (e.g. {@code parley.messages -> parley.messages.dead}). */
  String describe();
}
