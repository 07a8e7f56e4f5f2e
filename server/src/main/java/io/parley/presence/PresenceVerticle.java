package io.parley.presence;

import io.parley.protocol.Addresses;
import io.parley.protocol.ServerFrames;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;

/**
 * Presence on one gateway node: takes the {@link PresenceChange}s published by any node (one
 * clustered consumer per node) and republishes each, encoded once as a {@code presence} frame, on
 * the node-local address of its user, where the {@link PresenceSubscriptions} of this node's
 * connections listen. Connections only ever register local consumers, so a reconnect storm causes
 * no cluster-wide subscription churn.
 */
public final class PresenceVerticle extends VerticleBase {

  @Override
  public Future<?> start() {
    EventBus bus = vertx.eventBus();
    return bus.<PresenceChange>consumer(Addresses.PRESENCE_CHANGED, m -> {
      PresenceChange c = m.body();
      bus.publish(Addresses.presence(c.user()), ServerFrames.presence(c.user(), c.online(), c.lastSeen()), Addresses.local());
    }).completion();
  }
}
