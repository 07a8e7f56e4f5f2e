package io.parley.bridge;

import io.parley.config.BridgeSettings;
import io.parley.history.ConversationStore;
import io.parley.history.MessageStore;
import io.parley.presence.ConnectionRegistry;
import io.parley.presence.PresenceChange;
import io.parley.protocol.Addresses;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TCP event-bus bridge for internal tools (issue 19): on {@code admin.host}:{@code bridge.port},
 * speaking the wire protocol of vertx-tcp-eventbus-bridge ({@link BridgeFrames}), with Parley's
 * own listener instead of that library's, because the library buffers a frame of any announced
 * length, drops malformed JSON silently and writes to a subscriber without bound. Deny by default:
 * requests only to {@link #INBOUND} ({@link BridgeOps}), subscriptions only to {@link #OUTBOUND},
 * and every frame carries the admin token ({@link BridgeConnection}). Never a bridge to Parley's
 * internal addresses.
 *
 * <p>Streams are followed only while a client follows them: the first follower of a stream
 * registers this verticle's consumer (and, for messages, announces interest to every node's
 * {@link BridgeTap}), the last one leaving unregisters it. Membership events ride the
 * {@code parley.conversation.changed} notices every membership change already publishes (each
 * looked up once here), presence events the {@code parley.presence.changed} ones. Each event is
 * written to every follower on this node, each socket with its own bound.
 */
public final class BridgeVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(BridgeVerticle.class);

  /** Addresses a client may send requests to. */
  static final Set<String> INBOUND = Set.of(Addresses.BRIDGE_POST, Addresses.BRIDGE_DISCONNECT,
      Addresses.BRIDGE_CONVERSATION, Addresses.BRIDGE_DEVICES, Addresses.BRIDGE_TAKEDOWN);
  /** Addresses a client may register for (follow). */
  static final Set<String> OUTBOUND = Set.of(Addresses.BRIDGE_MESSAGE_EVENTS, Addresses.BRIDGE_MEMBERSHIP_EVENTS,
      Addresses.BRIDGE_PRESENCE_EVENTS);

  private final BridgeSettings settings;
  private final BridgeTap tap;
  private final ConversationStore conversations;
  private final MessageStore messages;
  private final ConnectionRegistry registry;
  private final int bodyMaxBytes;
  private final Map<String, Set<BridgeConnection>> followers = new HashMap<>();
  private final Map<String, MessageConsumer<?>> consumers = new HashMap<>();
  private final AtomicLong slowClosed = new AtomicLong();
  private EventBus bus;
  private NetServer server;
  private long announcer = -1;

  /**
   * @param tap this node's tap (told of message-stream interest at once; other nodes' by announcement)
   * @param bodyMaxBytes {@code limits.body_max_bytes}: the longest system message
   */
  public BridgeVerticle(BridgeSettings settings, BridgeTap tap, ConversationStore conversations, MessageStore messages,
      ConnectionRegistry registry, int bodyMaxBytes) {
    this.settings = settings;
    this.tap = tap;
    this.conversations = conversations;
    this.messages = messages;
    this.registry = registry;
    this.bodyMaxBytes = bodyMaxBytes;
  }

  @Override
  public Future<?> start() {
    bus = vertx.eventBus();
    byte[] token = settings.token().getBytes(StandardCharsets.UTF_8);
    server = vertx.createNetServer(new NetServerOptions().setHost(settings.host()).setPort(settings.port()));
    server.connectHandler(socket -> new BridgeConnection(socket, this, token, bus, settings.writeQueueMaxBytes()));
    return new BridgeOps(bus, conversations, messages, registry, bodyMaxBytes).register()
        .compose(v -> server.listen())
        // not "listening on": tests and scripts wait for the node's own line with those words
        .onSuccess(s -> LOG.info("event-bus bridge open on {}:{} (token required on every frame)",
            settings.host(), s.actualPort()));
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  /** The port the bridge listens on (once started). */
  public int actualPort() {
    return server.actualPort();
  }

  /** Connections closed as slow consumers since start. */
  public long slowConsumersClosed() {
    return slowClosed.get();
  }

  void slowConsumerClosed() {
    slowClosed.incrementAndGet();
  }

  /** A client follows a stream (again: no change). */
  void follow(BridgeConnection c, String stream) {
    Set<BridgeConnection> set = followers.computeIfAbsent(stream, k -> new LinkedHashSet<>());
    if (set.add(c) && set.size() == 1) {
      consumers.put(stream, consumer(stream));
      if (stream.equals(Addresses.BRIDGE_MESSAGE_EVENTS)) {
        announce();
        announcer = vertx.setPeriodic(BridgeTap.ANNOUNCE_MS, id -> announce());
      }
    }
  }

  void unfollow(BridgeConnection c, String stream) {
    Set<BridgeConnection> set = followers.get(stream);
    if (set != null && set.remove(c) && set.isEmpty()) {
      followers.remove(stream);
      MessageConsumer<?> consumer = consumers.remove(stream);
      if (consumer != null) {
        consumer.unregister();
      }
      if (stream.equals(Addresses.BRIDGE_MESSAGE_EVENTS) && announcer >= 0) {
        vertx.cancelTimer(announcer);
        announcer = -1; // the taps stop publishing within their interest's TTL
      }
    }
  }

  /** A connection closed: it follows nothing any more. */
  void gone(BridgeConnection c) {
    for (String stream : new ArrayList<>(c.streams)) {
      unfollow(c, stream);
    }
    c.streams.clear();
  }

  /** Tells this node's tap at once, and every node's by the bus, that message events are wanted. */
  private void announce() {
    tap.interest(BridgeTap.INTEREST_TTL_MS);
    bus.publish(Addresses.BRIDGE_INTEREST, new JsonObject().put("stream", Addresses.BRIDGE_MESSAGE_EVENTS)
        .put("ttl_ms", BridgeTap.INTEREST_TTL_MS));
  }

  /** The consumer feeding one stream's followers. */
  private MessageConsumer<?> consumer(String stream) {
    return switch (stream) {
      case Addresses.BRIDGE_MESSAGE_EVENTS -> bus.<JsonObject>consumer(stream, m -> emit(stream, m.body()));
      case Addresses.BRIDGE_PRESENCE_EVENTS -> bus.<PresenceChange>consumer(Addresses.PRESENCE_CHANGED, m -> {
        PresenceChange p = m.body();
        emit(stream, new JsonObject().put("event", "presence").put("user", p.user()).put("online", p.online())
            .put("last_seen", p.online() ? null : p.lastSeen()));
      });
      case Addresses.BRIDGE_MEMBERSHIP_EVENTS -> bus.<Long>consumer(Addresses.CONVERSATION_CHANGED, m -> {
        long conv = m.body();
        conversations.get(conv).onComplete(ar -> {
          JsonObject e = new JsonObject().put("event", "membership").put("conv", Long.toString(conv));
          if (ar.succeeded() && ar.result().isPresent()) {
            var c = ar.result().get();
            e.put("type", c.type()).put("members_count", c.membersCount())
                .put("members", new io.vertx.core.json.JsonArray(List.copyOf(c.members())));
          } else {
            e.put("members", null); // unknown now: the tool asks parley.bridge.conversation later
          }
          emit(stream, e);
        });
      });
      default -> throw new IllegalArgumentException(stream);
    };
  }

  private void emit(String stream, JsonObject event) {
    Set<BridgeConnection> set = followers.get(stream);
    if (set == null) {
      return;
    }
    for (BridgeConnection c : new ArrayList<>(set)) {
      c.event(stream, event);
    }
  }
}
