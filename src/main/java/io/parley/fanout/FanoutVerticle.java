package io.parley.fanout;

import io.parley.presence.ConnectionRegistry;
import io.parley.protocol.Addresses;
import io.parley.protocol.Delivery;
import io.parley.protocol.Outbound;
import io.parley.push.PushRequest;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one frame for many users into deliveries: looks the recipients up in the connection
 * registry in one call, publishes one {@link Delivery} for all recipients connected to this node
 * (each gateway instance hands it to its own connections), and hands message recipients without
 * any live connection to push. Fan-outs are handled one after another, so
 * every user sees frames in the order routing produced them. (The cluster profile adds one
 * event-bus message per remote node here; the embedded profile has only this node.)
 */
public final class FanoutVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(FanoutVerticle.class);

  private final ConnectionRegistry registry;
  private final String node;
  private EventBus bus;
  private Future<Void> tail = Future.succeededFuture();

  public FanoutVerticle(ConnectionRegistry registry, String node) {
    this.registry = registry;
    this.node = node;
  }

  @Override
  public Future<?> start() {
    bus = vertx.eventBus();
    return bus.<Fanout>localConsumer(Addresses.FANOUT, this::onFanout).completion();
  }

  private void onFanout(Message<Fanout> msg) {
    Fanout f = msg.body();
    tail = tail.transform(ignored -> deliver(f));
  }

  private Future<Void> deliver(Fanout f) {
    return registry.nodesOf(f.recipients()).transform(ar -> {
      Map<String, Set<String>> online = ar.succeeded() ? ar.result() : Map.of();
      if (ar.failed()) {
        LOG.warn("registry unavailable, delivering locally only: {}", ar.cause().toString());
      }
      Outbound out = new Outbound(f.conv(), f.serverId(), f.frame(), f.skipConnection());
      List<String> offline = f.serverId() > 0 ? new ArrayList<>() : null;
      List<String> local = new ArrayList<>(online.size());
      for (String user : f.recipients()) {
        Set<String> nodes = online.get(user);
        if (nodes != null && nodes.contains(node) || ar.failed()) {
          local.add(user);
        } else if (offline != null && nodes == null && !user.equals(f.from())) {
          offline.add(user);
        }
      }
      if (!local.isEmpty()) {
        bus.publish(Addresses.NODE_DELIVERY, new Delivery(local, out));
      }
      if (offline != null && !offline.isEmpty()) {
        bus.send(Addresses.PUSH, new PushRequest(offline, f.conv(), f.serverId(), f.from(), f.preview()));
      }
      return Future.succeededFuture();
    });
  }
}
