package io.parley.routing;

import io.parley.protocol.ChatMessage;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntToLongFunction;

/**
 * Where routing persists messages that already have their server id (the cluster profile: read
 * from the log, written to Cassandra). Idempotent: persisting a message again changes nothing.
 */
public interface MessageArchive {

  /**
   * Persists each message under its server id and raises its conversation's last message id.
   * Completes with, per message of the batch and in its order, the stored original: the message
   * itself when it is stored under its own id (new, or already stored under this same id — the
   * same record read again after a crash), or the earlier message (its server id, body, media and
   * ts) when its (sender, msg id) is already stored under another id: a retried send that reached
   * the log twice, not to be delivered again. So {@code originals.get(i).serverId() ==
   * batch.get(i).serverId()} tells a new message from a retry. Completes only once every write is
   * durable; fails as a whole otherwise (the caller retries the batch).
   */
  Future<List<ChatMessage>> persist(List<ChatMessage> batch);

  /**
   * {@link #persist} of the logged records' messages, as routing calls it: an archive may use the
   * records' log partitions, their first-attempt flags ({@link LogSource.Logged#first}) and
   * {@code ownership} ({@link LogSource#ownership}) to skip work, with the same result. This
   * default ignores them.
   */
  default Future<List<ChatMessage>> persistLogged(List<LogSource.Logged> records, IntToLongFunction ownership) {
    List<ChatMessage> batch = new ArrayList<>(records.size());
    records.forEach(l -> batch.add(l.message()));
    return persist(batch);
  }

  /**
   * Whether a failure of {@link #persist} says the store refuses a message of the batch for good
   * (a value it does not accept, a statement it rejects): retrying the same message cannot help,
   * and routing finds the message (persisting parts of the batch) and parks it. Otherwise the
   * failure is transient (timeouts, a store unavailable or overloaded) and the batch is retried
   * with backoff. This default calls an {@link IllegalArgumentException} (a value that cannot be
   * bound or encoded) permanent, anything else transient.
   */
  default boolean rejects(Throwable failure) {
    return causedBy(failure, IllegalArgumentException.class);
  }

  /** Whether {@code failure} or one of its causes is of {@code type}. */
  static boolean causedBy(Throwable failure, Class<? extends Throwable> type) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }
}
