package io.parley.gateway;

import io.vertx.core.Context;
import io.vertx.core.Handler;
import java.util.ArrayList;
import java.util.List;

/**
 * Flushes the sessions of one gateway instance that were written to, once, at the end of the
 * event-loop turn they were written in (a task queued behind the work already waiting on the loop).
 * Under load many deliveries run in one turn and each socket gets one write system call for all of
 * its frames instead of one per frame; when idle the flush follows its write at once.
 * Confined to the instance's event loop.
 */
final class Flusher {
  private final Context eventLoop;
  private final Handler<Void> flushAll = v -> flushAll();
  private List<Session> pending = new ArrayList<>();
  private List<Session> spare = new ArrayList<>();

  Flusher(Context eventLoop) {
    this.eventLoop = eventLoop;
  }

  /** Flushes {@code s} at the end of this turn; called once per turn per session. */
  void add(Session s) {
    if (pending.isEmpty()) {
      eventLoop.runOnContext(flushAll);
    }
    pending.add(s);
  }

  private void flushAll() {
    List<Session> now = pending;
    pending = spare;
    spare = now;
    for (int i = 0; i < now.size(); i++) {
      now.get(i).flush();
    }
    now.clear();
  }
}
