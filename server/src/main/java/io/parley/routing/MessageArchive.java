package io.parley.routing;

import io.parley.protocol.ChatMessage;
import io.vertx.core.Future;
import java.util.List;

/**
 * Where routing persists messages that already have their server id (the cluster profile: read
 * from the log, written to Cassandra). Idempotent: persisting a message again changes nothing.
 */
public interface MessageArchive {

  /**
   * Persists each message under its server id and raises its conversation's last message id.
   * Per message, in order, the stored original of its (sender, msg id): the message itself when it
   * is stored under its own id (new, or already stored under this same id — a re-read after a
   * crash), or the message stored earlier under another id: the message was a retried send that
   * reached the log twice, not to be delivered again, and the original is what its sender must be
   * acked with. Completes only once every write is durable; fails as a whole otherwise (the
   * caller retries the batch).
   */
  Future<List<ChatMessage>> persist(List<ChatMessage> batch);
}
