package io.parley.history;

import io.vertx.core.Future;
import java.util.Optional;

/** Read side of stored messages. Writes arrive through the routing package's {@code MessageLog}. */
public interface MessageStore {

  Future<Optional<StoredMessage>> get(long conv, long serverId);

  /** Up to {@code limit} messages with id &lt; {@code beforeId}, newest first. */
  Future<MessagePage> before(long conv, long beforeId, int limit);

  /**
   * The newest {@code limit} messages with id &gt; {@code afterId}, oldest first; {@code more} when
   * older ones after {@code afterId} were left out.
   */
  Future<MessagePage> after(long conv, long afterId, int limit);
}
