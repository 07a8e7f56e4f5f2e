package io.parley.fanout;

import io.parley.presence.ConnectionRegistry;
import io.parley.protocol.Addresses;
import io.parley.protocol.Deliveries;
import io.parley.protocol.Delivery;
import io.parley.protocol.Outbound;
import io.parley.push.PushBatch;
import io.parley.push.PushRequest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns frames for many users into deliveries, a {@link FanoutBatch} at a time: looks all of the
 * batch's recipients up in the connection registry in one call, publishes one {@link Deliveries}
 * for everything going to connections on this node (each gateway instance hands it to its own
 * connections), and hands every recipient of a message but its sender to push (which decides per
 * device, so a user whose laptop is connected still gets a push on the phone). Registry
 * look-ups of consecutive batches overlap, but their deliveries leave one after another, and a
 * batch's deliveries keep its order, so every user sees frames in the order routing produced them.
 * (The cluster profile adds one event-bus message per remote node and batch here, more when the
 * batch is large, see {@link #split}; the embedded profile has only this node.) On the cluster
 * profile it also takes, at {@link Addresses#nodeFanout}, the parts of hot conversations that
 * routing on other nodes assigns to this node ({@code routing.HotFanout}), queued with this node's
 * own batches and handled alike; {@link FanoutStats} counts both.
 */
public final class FanoutVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(FanoutVerticle.class);

  private final ConnectionRegistry registry;
  private final String node;
  private final boolean clustered;
  private final int remoteBudgetChars;
  private final String clusterNodeId;
  private final FanoutStats stats;
  private EventBus bus;
  private Future<Void> tail = Future.succeededFuture();
  static final long INBOX_TIMEOUT_MS = 3_000;
  private static final DeliveryOptions INBOX_OPTIONS = new DeliveryOptions().setSendTimeout(INBOX_TIMEOUT_MS);

  /**
   * @param clustered whether other nodes exist: then recipients on other nodes get one
   *     {@link Deliveries} per node and batch through {@link Addresses#nodeInbox}, and when the
   *     registry cannot be asked the deliveries go to every node ({@link Addresses#ALL_NODES});
   *     otherwise everything is delivered on this node
   * @param remoteBudgetChars the most characters of frames and user ids in one request to another
   *     node's inbox, setting {@code fanout.remote_request_chars} (see {@link #split})
   */
  public FanoutVerticle(ConnectionRegistry registry, String node, boolean clustered, int remoteBudgetChars) {
    this(registry, node, clustered, remoteBudgetChars, null, new FanoutStats());
  }

  /**
   * @param clusterNodeId this node's id in the cluster manager: fan-out also takes the parts of hot
   *     conversations' batches routing on other nodes sends it ({@link Addresses#nodeFanout}); null:
   *     only this node's routing's
   * @param stats counts the work, answered at {@link Addresses#FANOUT_STATS}
   */
  public FanoutVerticle(ConnectionRegistry registry, String node, boolean clustered, int remoteBudgetChars,
      String clusterNodeId, FanoutStats stats) {
    if (remoteBudgetChars < 1) {
      throw new IllegalArgumentException("remoteBudgetChars must be positive: " + remoteBudgetChars);
    }
    this.registry = registry;
    this.node = node;
    this.clustered = clustered;
    this.remoteBudgetChars = remoteBudgetChars;
    this.clusterNodeId = clusterNodeId;
    this.stats = stats;
  }

  @Override
  public Future<?> start() {
    bus = vertx.eventBus();
    List<Future<?>> consumers = new ArrayList<>(3);
    consumers.add(bus.<FanoutBatch>localConsumer(Addresses.FANOUT, this::onFanout).completion());
    consumers.add(bus.localConsumer(Addresses.FANOUT_STATS, m -> m.reply(stats.toJson())).completion());
    if (clusterNodeId != null) {
      // a hot conversation's part routed on another node: queued with this node's own batches
      consumers.add(bus.<FanoutBatch>consumer(Addresses.nodeFanout(clusterNodeId), m -> {
        stats.servedForOthers.incrementAndGet();
        stats.recipientsForOthers.addAndGet(recipients(m.body()));
        onFanout(m);
      }).completion());
    }
    return Future.all(consumers);
  }

  private static long recipients(FanoutBatch batch) {
    long n = 0;
    for (Fanout f : batch.fanouts()) {
      n += f.recipients().size();
    }
    return n;
  }

  /**
   * Batches are routed one after another (so every user sees frames in routing's order); the
   * request is answered once every node that got deliveries confirmed them (or failed to within
   * {@link #INBOX_TIMEOUT_MS}: a dead node's users reconnect and sync). Routing commits the log only
   * after that answer, so a crash of this node cannot lose a delivery it had not yet handed over.
   */
  private void onFanout(Message<FanoutBatch> msg) {
    FanoutBatch batch = msg.body();
    stats.batches.incrementAndGet();
    stats.recipients.addAndGet(recipients(batch));
    Promise<Void> handedOver = Promise.promise();
    // the look-up starts now, concurrently with earlier batches' (one registry round trip at a
    // time capped fan-out near 1 / RTT); the deliveries still leave one after another, in order
    Future<Map<String, Set<String>>> online = lookUp(batch);
    tail = tail.transform(ignored -> deliver(batch, online, handedOver).onFailure(e -> {
      LOG.error("fan-out of {} frames failed", batch.fanouts().size(), e);
      handedOver.tryComplete();
    }));
    handedOver.future().onComplete(ar -> msg.reply(null));
  }

  private Future<Map<String, Set<String>>> lookUp(FanoutBatch batch) {
    try {
      List<Fanout> fanouts = batch.fanouts();
      if (fanouts.size() == 1) {
        return registry.nodesOf(fanouts.get(0).recipients());
      }
      Set<String> users = new LinkedHashSet<>();
      for (Fanout f : fanouts) {
        users.addAll(f.recipients());
      }
      return registry.nodesOf(users);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private Future<Void> deliver(FanoutBatch batch, Future<Map<String, Set<String>>> lookedUp, Promise<Void> handedOver) {
    return lookedUp.transform(ar -> {
      if (ar.failed()) {
        LOG.warn("registry unavailable, delivering to every node: {}", ar.cause().toString());
        stats.registryFallback();
        broadcast(batch);
        handedOver.tryComplete(); // a publish is not confirmed: best effort while the registry is down
      } else {
        route(batch, ar.result(), handedOver);
      }
      return Future.succeededFuture();
    });
  }

  /** Whoever holds a recipient delivers: every node in a cluster, this one otherwise. */
  private void broadcast(FanoutBatch batch) {
    List<Delivery> all = new ArrayList<>(batch.fanouts().size());
    for (Fanout f : batch.fanouts()) {
      all.add(new Delivery(List.copyOf(f.recipients()), outbound(f)));
    }
    if (clustered) {
      bus.publish(Addresses.ALL_NODES, new Deliveries(all));
    } else {
      bus.publish(Addresses.NODE_DELIVERY, new Deliveries(all), Addresses.local());
    }
  }

  /** One {@link Deliveries} per node holding recipients, in batch order; message recipients also go to push. */
  private void route(FanoutBatch batch, Map<String, Set<String>> online, Promise<Void> handedOver) {
    Map<String, List<Delivery>> byNode = new HashMap<>();
    List<PushRequest> pushes = null;
    for (Fanout f : batch.fanouts()) {
      Map<String, List<String>> usersByNode = new HashMap<>();
      List<String> push = null;
      List<String> offline = null;
      for (String user : f.recipients()) {
        Set<String> nodes = online.get(user);
        // push decides per device: a user with a connected laptop may have a phone asleep
        if (f.serverId() > 0 && !user.equals(f.from())) {
          if (push == null) {
            push = new ArrayList<>();
          }
          push.add(user);
          if (nodes == null) {
            if (offline == null) {
              offline = new ArrayList<>();
            }
            offline.add(user);
          }
        }
        if (nodes == null) {
          continue;
        }
        for (String n : nodes) {
          usersByNode.computeIfAbsent(n, k -> new ArrayList<>()).add(user);
        }
      }
      if (!usersByNode.isEmpty()) {
        Outbound out = outbound(f);
        usersByNode.forEach((n, users) -> byNode.computeIfAbsent(n, k -> new ArrayList<>()).add(new Delivery(users, out)));
      }
      if (push != null) {
        if (pushes == null) {
          pushes = new ArrayList<>();
        }
        pushes.add(new PushRequest(push, offline == null ? List.of() : offline, f.conv(), f.serverId(), f.from(),
            f.preview()));
      }
    }
    if (pushes != null) {
      bus.send(Addresses.PUSH, new PushBatch(pushes), Addresses.local());
    }
    List<Future<?>> confirmations = new ArrayList<>();
    byNode.forEach((n, deliveries) -> {
      if (n.equals(node)) {
        bus.publish(Addresses.NODE_DELIVERY, new Deliveries(deliveries), Addresses.local());
      } else if (clustered) {
        // sent one after another from this loop: the bus keeps their order to that node's inbox
        for (Deliveries d : split(deliveries, remoteBudgetChars)) {
          confirmations.add(bus.request(Addresses.nodeInbox(n), d, INBOX_OPTIONS)
              .onFailure(e -> LOG.debug("node {} did not confirm {} deliveries: {}", n, d.deliveries().size(), e.toString())));
        }
      }
    });
    Future.join(confirmations).onComplete(ar -> handedOver.tryComplete());
  }

  /**
   * The deliveries in order, cut into messages of at most {@code budgetChars} characters of
   * frames and user ids each (a delivery larger than that alone; a delivery is never cut). A
   * polled batch for a large group would otherwise be one event-bus message of megabytes (100
   * messages to 5,000 members name 500,000 recipients), serialized and sent in one piece while
   * the connection to that node carries nothing else.
   */
  static List<Deliveries> split(List<Delivery> deliveries, int budgetChars) {
    List<Deliveries> out = new ArrayList<>(1);
    List<Delivery> open = new ArrayList<>();
    long chars = 0;
    for (Delivery d : deliveries) {
      long size = d.outbound().frame().length();
      for (String user : d.users()) {
        size += user.length() + 1;
      }
      if (!open.isEmpty() && chars + size > budgetChars) {
        out.add(new Deliveries(open));
        open = new ArrayList<>();
        chars = 0;
      }
      open.add(d);
      chars += size;
    }
    if (!open.isEmpty()) {
      out.add(new Deliveries(open));
    }
    return out;
  }

  private static Outbound outbound(Fanout f) {
    return new Outbound(f.conv(), f.serverId(), f.frame(), f.skipConnection(), f.prev());
  }
}
