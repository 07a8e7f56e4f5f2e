package io.parley.routing;

import io.parley.protocol.ChatMessage;
import io.vertx.core.Future;
import java.util.List;

/**
 * The cluster profile's durable log as routing reads it: accepted messages in log order per
 * partition (a conversation always lives in one partition), each with the server id its position
 * in the log gave it. Routing polls a batch, persists and hands it on, and only then commits it;
 * whatever was not committed is read again after a restart or a rebalance (at least once).
 */
public interface LogSource {

  /** The next batch, in log order within each partition; empty when nothing arrived within a short wait. */
  Future<List<Logged>> poll();

  /**
   * Marks everything up to and including {@code handled} as done. Fails when the partitions moved
   * to another consumer meanwhile (their new owner reads the batch again; dedupe makes that safe).
   */
  Future<Void> commit(List<Logged> handled);

  Future<Void> close();

  /**
   * Whether this reader still owns {@code partition}: false once a rebalance took it away (until it
   * is assigned back). Routing hands nothing of a partition it no longer owns to fan-out: the new
   * owner reads those records again from the last commit, and a late copy from the old owner
   * would reach devices after newer messages.
   */
  boolean owns(int partition);

  /**
   * The current assignment of {@code partition} to this reader: -1 when it does not own it, else a
   * value that changes whenever the partition is assigned to it again (after a rebalance took it
   * away meanwhile, its new owner may have routed and committed records this reader still holds).
   */
  default long ownership(int partition) {
    return owns(partition) ? 0 : -1;
  }

  /**
   * Stops {@link #poll} returning records of {@code partition} (routing holds them back while it
   * retries one), until {@link #resume}; nothing when it is not owned. A rebalance may lift it.
   */
  default void pause(int partition) {}

  /** Lets {@link #poll} return records of {@code partition} again. */
  default void resume(int partition) {}

  /**
   * One logged message: its partition and offset, the message with its server id, the connection
   * that sent it (null when unknown), which fan-out skips: it got the ack, and the node whose
   * intake wrote it (null when unknown), which waits for routing's verdict to ack the sender, and
   * whether the client flagged the send as its first attempt at the msg_id (true), as a retry
   * (false), or did not say (null); see {@link MessageArchive#persistLogged}.
   */
  record Logged(int partition, long offset, ChatMessage message, String connectionId, String via, Boolean first) {
    public Logged(int partition, long offset, ChatMessage message) {
      this(partition, offset, message, null, null);
    }

    public Logged(int partition, long offset, ChatMessage message, String connectionId, String via) {
      this(partition, offset, message, connectionId, via, null);
    }
  }
}
