package io.parley.fanout;

import io.parley.presence.ConnectionRegistry;
import io.parley.protocol.Addresses;
import io.parley.protocol.Delivery;
import io.parley.protocol.Outbound;
import io.parley.push.PushRequest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
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
 * any live connection to push. Registry look-ups of consecutive fan-outs overlap, but their
 * deliveries leave one after another, so every user sees frames in the order routing produced
 * them. (The cluster profile adds one
 * event-bus message per remote node here; the embedded profile has only this node.)
 */
public final class FanoutVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(FanoutVerticle.class);

  private final ConnectionRegistry registry;
  private final String node;
  private final boolean clustered;
  private EventBus bus;
  private Future<Void> tail = Future.succeededFuture();
  static final long INBOX_TIMEOUT_MS = 3_000;
  private static final DeliveryOptions INBOX_OPTIONS = new DeliveryOptions().setSendTimeout(INBOX_TIMEOUT_MS);

  /**
   * @param clustered whether other nodes exist: then recipients on other nodes get one
   *     {@link Delivery} per node through {@link Addresses#nodeInbox}, and when the registry cannot
   *     be asked the delivery goes to every node ({@link Addresses#ALL_NODES}); otherwise
   *     everything is delivered on this node
   */
  public FanoutVerticle(ConnectionRegistry registry, String node, boolean clustered) {
    this.registry = registry;
    this.node = node;
    this.clustered = clustered;
  }

  @Override
  public Future<?> start() {
    bus = vertx.eventBus();
    return bus.<Fanout>localConsumer(Addresses.FANOUT, this::onFanout).completion();
  }

  /** One delivery per node holding recipients; recipients without a live connection are returned. */
  private void route(Fanout f, Outbound out, Map<String, Set<String>> online, List<String> offline,
      Promise<Void> handedOver) {
    Map<String, List<String>> byNode = new java.util.HashMap<>();
    for (String user : f.recipients()) {
      Set<String> nodes = online.get(user);
      if (nodes == null) {
        if (offline != null && !user.equals(f.from())) {
          offline.add(user);
        }
        continue;
      }
      for (String n : nodes) {
        byNode.computeIfAbsent(n, k -> new ArrayList<>()).add(user);
      }
    }
    List<Future<?>> confirmations = new ArrayList<>();
    byNode.forEach((n, users) -> {
      Delivery d = new Delivery(users, out);
      if (n.equals(node)) {
        bus.publish(Addresses.NODE_DELIVERY, d, Addresses.local());
      } else if (clustered) {
        confirmations.add(bus.request(Addresses.nodeInbox(n), d, INBOX_OPTIONS)
            .onFailure(e -> LOG.debug("node {} did not confirm a delivery: {}", n, e.toString())));
      }
    });
    Future.join(confirmations).onComplete(ar -> handedOver.tryComplete());
  }

  /**
   * Fan-outs are routed one after another (so every user sees frames in routing's order); the
   * request is answered once every node that got a delivery confirmed it (or failed to within
   * {@link #INBOX_TIMEOUT_MS}: a dead node's users reconnect and sync). Routing commits the log only
   * after that answer, so a crash of this node cannot lose a delivery it had not yet handed over.
   */
  private void onFanout(Message<Fanout> msg) {
    Fanout f = msg.body();
    Promise<Void> handedOver = Promise.promise();
    // the look-up starts now, concurrently with earlier fan-outs' (one registry round trip at a
    // time capped fan-out near 1 / RTT); the deliveries still leave one after another, in order
    Future<Map<String, Set<String>>> online = lookUp(f);
    tail = tail.transform(ignored -> deliver(f, online, handedOver).onFailure(e -> {
      LOG.error("fan-out of {} in {} failed", f.serverId(), f.conv(), e);
      handedOver.tryComplete();
    }));
    handedOver.future().onComplete(ar -> msg.reply(null));
  }

  private Future<Map<String, Set<String>>> lookUp(Fanout f) {
    try {
      return registry.nodesOf(f.recipients());
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private Future<Void> deliver(Fanout f, Future<Map<String, Set<String>>> lookedUp, Promise<Void> handedOver) {
    return lookedUp.transform(ar -> {
      Map<String, Set<String>> online = ar.succeeded() ? ar.result() : Map.of();
      if (ar.failed()) {
        LOG.warn("registry unavailable, delivering locally only: {}", ar.cause().toString());
      }
      Outbound out = new Outbound(f.conv(), f.serverId(), f.frame(), f.skipConnection());
      List<String> offline = f.serverId() > 0 ? new ArrayList<>() : null;
      if (ar.failed()) {
        // whoever holds a recipient delivers: every node in a cluster, this one otherwise
        Delivery all = new Delivery(List.copyOf(f.recipients()), out);
        if (clustered) {
          bus.publish(Addresses.ALL_NODES, all);
        } else {
          bus.publish(Addresses.NODE_DELIVERY, all, Addresses.local());
        }
        handedOver.tryComplete(); // a publish is not confirmed: best effort while the registry is down
      } else {
        route(f, out, online, offline, handedOver);
      }
      if (offline != null && !offline.isEmpty()) {
        bus.send(Addresses.PUSH, new PushRequest(offline, f.conv(), f.serverId(), f.from(), f.preview()), Addresses.local());
      }
      return Future.succeededFuture();
    });
  }
}
