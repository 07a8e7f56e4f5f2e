package io.parley.history;

import io.parley.protocol.ErrorCode;
import io.parley.protocol.ParleyException;
import io.vertx.core.Future;
import java.util.Optional;

/**
 * Read side of stored messages. Writes arrive through the routing package's {@code MessageLog};
 * {@link #takedown} is the one change made here. A taken-down message is never returned by
 * {@link #get}, {@link #before} or {@link #after}: a page may then hold fewer than {@code limit}
 * messages while {@code more} is still true.
 */
public interface MessageStore {

  Future<Optional<StoredMessage>> get(long conv, long serverId);

  /** Up to {@code limit} messages with id &lt; {@code beforeId}, newest first. */
  Future<MessagePage> before(long conv, long beforeId, int limit);

  /**
   * The newest {@code limit} messages with id &gt; {@code afterId}, oldest first; {@code more} when
   * older ones after {@code afterId} were left out.
   */
  Future<MessagePage> after(long conv, long afterId, int limit);

  /**
   * Takes a message down (an operator's removal): its stored frame is replaced by a tombstone
   * ({@link Tombstones}), so it is gone from history and sync, and a retried send of it is still a
   * duplicate. Completes with the tombstone frame, or empty when the conversation has no such
   * message. Taking down a tombstone again completes with the existing tombstone.
   */
  default Future<Optional<String>> takedown(long conv, long serverId) {
    return Future.failedFuture(ParleyException.of(ErrorCode.UNAVAILABLE, "this store cannot take messages down"));
  }
}
