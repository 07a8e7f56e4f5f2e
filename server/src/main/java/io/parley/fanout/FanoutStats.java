package io.parley.fanout;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters of one node's fan-out work (thread-safe; read at {@code GET /health/fanout}): how the
 * fan-out of hot conversations splits between the nodes. Counts since start.
 */
public final class FanoutStats {
  /** Fan-out batches this node's fan-out handled, its own routing's and other nodes'. */
  final AtomicLong batches = new AtomicLong();
  /** Recipients (users, once per message) those batches named. */
  final AtomicLong recipients = new AtomicLong();
  /** Of those batches, the ones routing on another node sent here (a hot conversation's part). */
  final AtomicLong servedForOthers = new AtomicLong();
  /** Recipients the batches served for other nodes named. */
  final AtomicLong recipientsForOthers = new AtomicLong();
  /** Parts of hot conversations' batches routing on this node sent to another node's fan-out. */
  private final AtomicLong sentToOthers = new AtomicLong();
  /** Of those, the ones that node did not confirm (logged; their recipients catch up by sync and backfill). */
  private final AtomicLong unconfirmed = new AtomicLong();

  /** Fan-outs whose registry look-up failed and went to every node instead (metrics, not in {@link #toJson()}). */
  private final AtomicLong registryFallbacks = new AtomicLong();
  /** Messages of hot conversations routing here split over the nodes (metrics, not in {@link #toJson()}). */
  private final AtomicLong hotMessages = new AtomicLong();

  public void registryFallback() {
    registryFallbacks.incrementAndGet();
  }

  public long registryFallbacks() {
    return registryFallbacks.get();
  }

  public void hotMessages(int n) {
    hotMessages.addAndGet(n);
  }

  public long hotMessages() {
    return hotMessages.get();
  }

  public void sentToOther() {
    sentToOthers.incrementAndGet();
  }

  public void unconfirmed() {
    unconfirmed.incrementAndGet();
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("batches", batches.get())
        .put("recipients", recipients.get())
        .put("served_for_others", servedForOthers.get())
        .put("recipients_for_others", recipientsForOthers.get())
        .put("sent_to_others", sentToOthers.get())
        .put("unconfirmed_by_others", unconfirmed.get());
  }
}
