package io.parley.gateway;

import io.parley.protocol.Addresses;
import io.parley.routing.SendBatch;
import io.parley.routing.SendRequest;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.eventbus.EventBus;
import java.util.ArrayList;
import java.util.List;

/**
 * Hands the sends of one gateway instance's connections to routing, one {@link SendBatch} per
 * event-loop turn (a task queued behind the work already waiting on the loop, like the
 * {@link Flusher}): under load one bus message carries many sends; when idle a send leaves at the
 * end of the turn it arrived in. Sends keep their order: within a batch, and batch after batch on
 * the bus. Confined to the instance's event loop.
 */
final class SendOutbox {
  private final Context eventLoop;
  private final EventBus bus;
  private final Handler<Void> handOver = v -> handOver();
  private List<SendRequest> pending = new ArrayList<>();

  SendOutbox(Context eventLoop, EventBus bus) {
    this.eventLoop = eventLoop;
    this.bus = bus;
  }

  void add(SendRequest send) {
    if (pending.isEmpty()) {
      eventLoop.runOnContext(handOver);
    }
    pending.add(send);
  }

  private void handOver() {
    List<SendRequest> now = pending;
    pending = new ArrayList<>(Math.max(4, now.size()));
    bus.send(Addresses.ROUTING_SEND, new SendBatch(now), Addresses.local());
  }
}
