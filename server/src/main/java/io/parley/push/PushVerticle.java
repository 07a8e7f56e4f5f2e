package io.parley.push;

import io.parley.history.ConversationStore;
import io.parley.presence.ConnectionIds;
import io.parley.presence.ConnectionRegistry;
import io.parley.protocol.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Push: decides, per device, who gets a notification, queues the notifications durably, and
 * sends them ({@link PushDispatcher}). Fan-out hands over every recipient of a message but its
 * sender ({@link PushRequest}), connected or not, one {@link PushBatch} per fan-out batch, handled
 * as one. For each recipient device with a push registration: no notification while that device
 * has a live connection (it got the message live), none when the recipient muted the
 * conversation, otherwise one job in the {@link PushQueue}, which the dispatcher of whichever node
 * consumes that user's jobs coalesces, paces and sends.
 *
 * <p>With no provider configured, the log is the only sender ({@link LogPushSender}), per user:
 * each recipient without any live connection is logged, as before devices had registrations.
 */
public final class PushVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(PushVerticle.class);
  private static final long APPEND_RETRY_MS = 1000;
  private static final int APPEND_ATTEMPTS = 3;

  private final ConnectionRegistry registry;
  private final PushSender fallback;
  private final PushRegistrations registrations;
  private final ConversationStore conversations;
  private final List<ProviderSender> senders;
  private final Set<String> providers = new java.util.HashSet<>();
  private final PushQueue queue;
  private final Supplier<PushDispatcher> dispatcherFactory;
  private final int queueMax;
  private final PushStats stats;
  private PushDispatcher dispatcher;
  /** The latest batch's decision, handed to the queue: the next batch is appended after it. */
  private Future<Void> previous = Future.succeededFuture();

  /** Only the log: no provider is configured. */
  public PushVerticle(ConnectionRegistry registry, PushSender fallback) {
    this.registry = registry;
    this.fallback = fallback;
    this.registrations = null;
    this.conversations = null;
    this.senders = List.of();
    this.queue = null;
    this.dispatcherFactory = null;
    this.queueMax = 0;
    this.stats = new PushStats();
  }

  /**
   * @param senders the configured providers, at least one
   * @param queue push's durable backlog
   * @param queueMax most jobs out of the queue at a time ({@code push.queue_max})
   */
  public PushVerticle(ConnectionRegistry registry, PushSender fallback, PushRegistrations registrations,
      ConversationStore conversations, List<ProviderSender> senders, PushQueue queue, Map<String, io.parley.config.PushDeliverySettings.Pacing> pacing,
      PushDispatcher.Settings settings, SpillOver spill, int queueMax, PushStats stats) {
    if (senders.isEmpty()) {
      throw new IllegalArgumentException("no push provider: use the log-only constructor");
    }
    this.registry = registry;
    this.fallback = fallback;
    this.registrations = registrations;
    this.conversations = conversations;
    this.senders = List.copyOf(senders);
    senders.forEach(x -> providers.add(x.provider()));
    this.queue = queue;
    this.queueMax = queueMax;
    this.stats = stats;
    this.dispatcherFactory = () -> new PushDispatcher(vertx, queue, this.senders, pacing, registrations, conversations,
        spill, settings, stats);
  }

  @Override
  public Future<?> start() {
    Future<Void> consuming = Future.succeededFuture();
    if (queue != null) {
      dispatcher = dispatcherFactory.get();
      dispatcher.start();
      consuming = queue.start(dispatcher::accept, queueMax);
    }
    return consuming.compose(v -> vertx.eventBus().<PushBatch>localConsumer(Addresses.PUSH, this::onPush).completion());
  }

  @Override
  public Future<?> stop() {
    if (dispatcher != null) {
      dispatcher.stop();
    }
    return queue == null ? Future.succeededFuture() : queue.close();
  }

  private void onPush(Message<PushBatch> msg) {
    if (queue == null) {
      msg.body().requests().forEach(this::logOffline);
    } else {
      handle(msg.body().requests());
    }
  }

  /**
   * No provider: the log, per user without any live connection. Only those fan-out found offline
   * are asked about again (one may have connected since; it then gets the message by sync), so a
   * message to users who are all online costs no registry call.
   */
  private void logOffline(PushRequest req) {
    if (req.offline().isEmpty()) {
      return;
    }
    registry.nodesOf(req.offline()).onComplete(ar -> {
      for (String user : req.offline()) {
        if (ar.succeeded() && ar.result().containsKey(user)) {
          continue;
        }
        fallback.send(new PushSender.Notification(user, req.conv(), req.serverId(), req.from(), req.preview()))
            .onFailure(e -> LOG.warn("push to {} for {} failed: {}", user, req.serverId(), e.toString()));
      }
    });
  }

  private void handle(List<PushRequest> batch) {
    Set<String> users = new LinkedHashSet<>();
    batch.forEach(r -> users.addAll(r.users()));
    long now = System.currentTimeMillis();
    Future<List<PushJob>> decided = registrations.listAll(users).compose(regs -> {
      if (regs.isEmpty()) {
        return Future.succeededFuture(List.of());
      }
      // a registry that cannot be asked counts as "nobody connected": a repeated notification is
      // harmless, a lost one is not
      Future<List<PushJob>> jobs = registry.connectionsOf(regs.keySet()).otherwise(e -> {
        LOG.warn("registry unavailable, pushing to every registered device: {}", e.toString());
        return Map.of();
      }).compose(live -> jobs(batch, regs, connectedDevices(live), now));
      return jobs;
    });
    // batches are queued in the order fan-out handed them over, whichever's look-ups answer first;
    // the stores may answer on another event loop: the queue lives on this verticle's
    // (each batch waits for the previous one's decision, not for its write: the queue group-commits)
    Future<List<PushJob>> inOrder = previous.transform(ignored -> OnContext.on(context, decided));
    inOrder.compose(j -> append(j, 1)).onFailure(e -> LOG.warn("push of {} messages failed: {}", batch.size(), e.toString()));
    previous = inOrder.<Void>mapEmpty().otherwiseEmpty(); // after the append above: listeners run in order
  }

  private Future<Void> append(List<PushJob> jobs, int attempt) {
    if (jobs.isEmpty()) {
      return Future.succeededFuture();
    }
    return queue.append(jobs).onSuccess(v -> stats.add("jobs", jobs.size())).recover(e -> {
      if (attempt >= APPEND_ATTEMPTS) {
        stats.add("queue_failed", jobs.size());
        LOG.error("{} pushes could not be queued after {} attempts: {}", jobs.size(), attempt, e.toString());
        return Future.failedFuture(e);
      }
      Promise<Void> again = Promise.promise();
      vertx.setTimer(APPEND_RETRY_MS * attempt, t -> append(jobs, attempt + 1).onComplete(again));
      return again.future();
    });
  }

  private static Map<String, Set<String>> connectedDevices(Map<String, Set<String>> connections) {
    Map<String, Set<String>> out = new HashMap<>();
    connections.forEach((user, ids) -> {
      for (String id : ids) {
        String device = ConnectionIds.device(id);
        if (device != null) {
          out.computeIfAbsent(user, u -> new java.util.HashSet<>()).add(device);
        }
      }
    });
    return out;
  }

  /** One job per (message, registered device without a connection, recipient who did not mute), in batch order. */
  private Future<List<PushJob>> jobs(List<PushRequest> batch, Map<String, List<PushRegistration>> regs,
      Map<String, Set<String>> connected, long now) {
    List<Future<List<PushJob>>> each = new ArrayList<>();
    for (PushRequest req : batch) {
      Map<String, List<PushRegistration>> targets = new LinkedHashMap<>();
      for (String user : req.users()) {
        for (PushRegistration r : regs.getOrDefault(user, List.of())) {
          if (!connected.getOrDefault(user, Set.of()).contains(r.device()) && providers.contains(r.provider())) {
            targets.computeIfAbsent(user, u -> new ArrayList<>()).add(r);
          }
        }
      }
      if (targets.isEmpty()) {
        continue;
      }
      each.add(conversations.mutedAmong(req.conv(), targets.keySet()).map(muted -> {
        List<PushJob> jobs = new ArrayList<>();
        targets.forEach((user, devices) -> {
          if (!muted.contains(user)) {
            devices.forEach(r -> jobs.add(new PushJob(r, req.conv(), req.serverId(), req.from(), req.preview(), now)));
          }
        });
        return jobs;
      }));
    }
    return Future.all(each).map(all -> {
      List<PushJob> out = new ArrayList<>();
      each.forEach(f -> out.addAll(f.result()));
      return out;
    });
  }
}
