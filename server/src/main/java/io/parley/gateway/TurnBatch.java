package io.parley.gateway;

import io.vertx.core.Context;
import io.vertx.core.Handler;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Collects what one gateway instance produces during an event-loop turn and hands it, in order, to
 * a sink once, at the end of that turn (a task queued behind the work already waiting on the
 * loop). Under load a turn runs many frames and the sink gets them all at once; when idle an item
 * leaves at the end of the turn it was added in. The sink owns the list it is given. Confined to
 * the instance's event loop. Each gateway instance has two:
 * <ul>
 *   <li>the sessions written to this turn, each flushed once: one write system call per socket
 *       for all of its frames instead of one per frame;
 *   <li>the sends its connections made this turn, handed to routing as one {@code SendBatch}
 *       instead of one bus message each.
 * </ul>
 */
final class TurnBatch<T> {
  private final Context eventLoop;
  private final Consumer<List<T>> sink;
  private final Handler<Void> drain = v -> drain();
  private List<T> pending = new ArrayList<>();

  TurnBatch(Context eventLoop, Consumer<List<T>> sink) {
    this.eventLoop = eventLoop;
    this.sink = sink;
  }

  void add(T item) {
    if (pending.isEmpty()) {
      eventLoop.runOnContext(drain);
    }
    pending.add(item);
  }

  private void drain() {
    List<T> now = pending;
    pending = new ArrayList<>(Math.max(4, now.size()));
    sink.accept(now);
  }
}
