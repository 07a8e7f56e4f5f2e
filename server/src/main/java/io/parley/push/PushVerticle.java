package io.parley.push;

import io.parley.history.ConversationStore;
import io.parley.presence.ConnectionIds;
import io.parley.presence.ConnectionRegistry;
import io.parley.protocol.Addresses;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides, per device, who gets a notification. Fan-out hands over every recipient of a message
 * but its sender ({@link PushRequest}), connected or not, one {@link PushBatch} per fan-out batch,
 * handled as one. For each recipient device with a push registration: no notification while
 * that device has a live connection (it got the message live), none when the recipient muted the
 * conversation, otherwise one through the {@link ProviderSender} of its registration. A provider
 * answering that the registration is gone (Web Push 404/410, FCM UNREGISTERED) gets it removed.
 *
 * <p>With no provider configured, the log is the only sender ({@link LogPushSender}), per user:
 * each recipient without any live connection is logged, as before devices had registrations.
 */
public final class PushVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(PushVerticle.class);

  private final ConnectionRegistry registry;
  private final PushSender fallback;
  private final PushRegistrations registrations;
  private final ConversationStore conversations;
  private final Map<String, ProviderSender> senders = new HashMap<>();
  private final int previewChars;

  /** Only the log: no provider is configured. */
  public PushVerticle(ConnectionRegistry registry, PushSender fallback) {
    this(registry, fallback, null, null, List.of(), 0);
  }

  /**
   * @param senders the configured providers; none: the log only (registrations and conversations
   *     are then not used and may be null)
   * @param previewChars {@code push.preview_chars}
   */
  public PushVerticle(ConnectionRegistry registry, PushSender fallback, PushRegistrations registrations,
      ConversationStore conversations, Collection<ProviderSender> senders, int previewChars) {
    this.registry = registry;
    this.fallback = fallback;
    this.registrations = registrations;
    this.conversations = conversations;
    senders.forEach(s -> this.senders.put(s.provider(), s));
    this.previewChars = previewChars;
  }

  @Override
  public Future<?> start() {
    return vertx.eventBus().<PushBatch>localConsumer(Addresses.PUSH, this::onPush).completion();
  }

  private void onPush(Message<PushBatch> msg) {
    if (senders.isEmpty()) {
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
    registrations.listAll(users).compose(regs -> {
      if (regs.isEmpty()) {
        return Future.succeededFuture();
      }
      // a registry that cannot be asked counts as "nobody connected": a repeated notification is
      // harmless, a lost one is not
      return registry.connectionsOf(regs.keySet()).otherwise(e -> {
        LOG.warn("registry unavailable, pushing to every registered device: {}", e.toString());
        return Map.of();
      }).compose(live -> notifyOffline(batch, regs, connectedDevices(live)));
    }).onFailure(e -> LOG.warn("push of {} messages failed: {}", batch.size(), e.toString()));
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

  private Future<Void> notifyOffline(List<PushRequest> batch, Map<String, List<PushRegistration>> regs,
      Map<String, Set<String>> connected) {
    List<Future<?>> all = new ArrayList<>();
    for (PushRequest req : batch) {
      Map<String, List<PushRegistration>> targets = new HashMap<>();
      for (String user : req.users()) {
        for (PushRegistration r : regs.getOrDefault(user, List.of())) {
          if (!connected.getOrDefault(user, Set.of()).contains(r.device()) && senders.containsKey(r.provider())) {
            targets.computeIfAbsent(user, u -> new ArrayList<>()).add(r);
          }
        }
      }
      if (targets.isEmpty()) {
        continue;
      }
      all.add(conversations.mutedAmong(req.conv(), targets.keySet()).onSuccess(muted -> {
        String payload = PushPayload.of(new PushSender.Notification(null, req.conv(), req.serverId(), req.from(), req.preview()),
            previewChars);
        targets.forEach((user, devices) -> {
          if (!muted.contains(user)) {
            devices.forEach(r -> send(r, req, payload));
          }
        });
      }));
    }
    return Future.join(all).mapEmpty();
  }

  private void send(PushRegistration r, PushRequest req, String payload) {
    senders.get(r.provider()).send(r, req.conv(), payload).onComplete(ar -> {
      if (ar.failed()) {
        LOG.warn("{} push to {}/{} for {} failed: {}", r.provider(), r.user(), r.device(), req.serverId(), ar.cause().toString());
      } else if (ar.result().is(ProviderSender.Kind.GONE)) {
        LOG.info("{} registration of {}/{} is gone: removed", r.provider(), r.user(), r.device());
        registrations.removeAddress(r.provider(), r.address())
            .onFailure(e -> LOG.warn("removing the {} registration of {}/{} failed: {}", r.provider(), r.user(), r.device(), e.toString()));
      } else if (!ar.result().is(ProviderSender.Kind.ACCEPTED)) {
        LOG.warn("{} refused the push to {}/{} for {}", r.provider(), r.user(), r.device(), req.serverId());
      }
    });
  }
}
