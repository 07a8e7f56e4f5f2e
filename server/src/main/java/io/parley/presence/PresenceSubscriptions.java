package io.parley.presence;

import io.parley.protocol.Addresses;
import io.parley.protocol.ServerFrames;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The presence subscriptions of one connection ({@code presence_sub}): for each subscribed user, a
 * node-local consumer of the {@code presence} frames the node's {@link PresenceVerticle}
 * republishes, so a connection never registers anything in the cluster. At most {@code max} users.
 * Confined to the connection's event loop.
 */
public final class PresenceSubscriptions {
  private final EventBus bus;
  private final ConnectionRegistry registry;
  private final int max;
  private final Consumer<String> out;
  private Map<String, MessageConsumer<String>> subs;

  /** {@code out} gets every {@code presence} frame for the connection. */
  public PresenceSubscriptions(EventBus bus, ConnectionRegistry registry, int max, Consumer<String> out) {
    this.bus = bus;
    this.registry = registry;
    this.max = max;
    this.out = out;
  }

  /**
   * Subscribes to each of {@code users} not subscribed yet, in order, and answers each with its
   * presence now. False when the limit stopped it: the users before stay subscribed, the rest not.
   */
  public boolean add(List<String> users) {
    if (subs == null) {
      subs = new HashMap<>();
    }
    for (String u : users) {
      if (subs.containsKey(u)) {
        continue;
      }
      if (subs.size() >= max) {
        return false;
      }
      subs.put(u, bus.localConsumer(Addresses.presence(u), m -> out.accept(m.body())));
      registry.presence(u).onSuccess(pr -> out.accept(ServerFrames.presence(u, pr.online(), pr.lastSeen())));
    }
    return true;
  }

  /** The most users one connection may subscribe to. */
  public int max() {
    return max;
  }

  /** Ends every subscription (the connection closed). */
  public void close() {
    if (subs != null) {
      subs.values().forEach(MessageConsumer::unregister);
      subs = null;
    }
  }
}
