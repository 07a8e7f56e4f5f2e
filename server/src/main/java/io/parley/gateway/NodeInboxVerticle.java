package io.parley.gateway;

import io.parley.protocol.Addresses;
import io.parley.protocol.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;

/**
 * The node's door to the cluster, one instance per gateway node: takes deliveries addressed to
 * this node (and those broadcast to all nodes) and republishes them on the node-local address the
 * gateway instances listen on. Two clustered registrations per node (presence changes take a third,
 * in {@code presence.PresenceVerticle}); sessions only ever register local consumers, so a
 * reconnect storm causes no cluster-wide subscription churn.
 */
public final class NodeInboxVerticle extends VerticleBase {
  private final String node;

  public NodeInboxVerticle(String node) {
    this.node = node;
  }

  @Override
  public Future<?> start() {
    EventBus bus = vertx.eventBus();
    return Future.all(
        bus.<Deliveries>consumer(Addresses.nodeInbox(node), m -> {
          bus.publish(Addresses.NODE_DELIVERY, m.body(), Addresses.local());
          m.reply(null); // fan-out (and so routing's commit) waits for this confirmation
        }).completion(),
        bus.<Deliveries>consumer(Addresses.ALL_NODES, m -> bus.publish(Addresses.NODE_DELIVERY, m.body(), Addresses.local())).completion());
  }
}
