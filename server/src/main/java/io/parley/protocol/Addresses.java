package io.parley.protocol;

import io.vertx.core.eventbus.DeliveryOptions;

/** Every event-bus address Parley uses is built here, and only here. */
public final class Addresses {
  private Addresses() {}

  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  /**
   * Options for node-local traffic (records passed by reference): never looked up in, or sent
   * across, the cluster. Shared; do not modify.
   */
  public static DeliveryOptions local() {
    return LOCAL;
  }

  /** Routing: client sends, in arrival order, a {@code SendBatch} per gateway event-loop turn. */
  public static final String ROUTING_SEND = "parley.routing.send";
  /** Routing: best-effort signals (delivered, read, typing). */
  public static final String ROUTING_SIGNAL = "parley.routing.signal";
  /** Fan-out: appended messages (and signals) to deliver, a {@code FanoutBatch} per append. */
  public static final String FANOUT = "parley.fanout";
  /**
   * A node's fan-out for other nodes (cluster profile): routing sends here, as a {@code FanoutBatch},
   * the part of a hot conversation's batch whose recipients fall in the sub-partitions that node
   * fans out (see {@code routing.HotFanout}). Named by the node's cluster-manager id, as the live
   * node list names it. One clustered consumer per node, registered at start by its fan-out.
   */
  public static String nodeFanout(String clusterNodeId) {
    return "parley.fanout.node." + clusterNodeId;
  }

  /** Fan-out's counters on this node (a {@code JsonObject} reply; node-local, for {@code /health/fanout}). */
  public static final String FANOUT_STATS = "parley.fanout.stats";
  /** Push: recipients without a live connection. */
  public static final String PUSH = "parley.push";
  /** Membership of a conversation changed (body: conversation id as Long). */
  public static final String CONVERSATION_CHANGED = "parley.conversation.changed";

  /**
   * Live deliveries on this node: one {@code Deliveries} (frames, each with the user ids it is for)
   * is published here per fan-out batch, and every gateway instance hands them, in order, to its
   * connections of those users. One bus message per node per batch instead of one per recipient or
   * per message.
   */
  public static final String NODE_DELIVERY = "parley.node.delivery";

  /**
   * A node's inbox (cluster profile): fan-out sends one {@code Deliveries} here per batch for the
   * recipients connected to that node; the node's {@code NodeInboxVerticle} republishes it on
   * {@link #NODE_DELIVERY}. One clustered consumer per node, registered once at start: connections
   * coming and going never touch the cluster's subscription map.
   */
  public static String nodeInbox(String node) {
    return "parley.inbox." + node;
  }

  /**
   * A node's send intake (cluster profile): routing sends here, per persisted batch, the verdict on
   * every record this node's intake wrote — the stored original of its (sender, msg id), which is
   * what the sender is acked with (a {@code JsonArray} of encoded {@code msg} frames). One clustered
   * consumer per node, registered at start by its message log.
   */
  public static String intakeVerdicts(String node) {
    return "parley.verdicts." + node;
  }

  /**
   * Every node's inbox at once: where fan-out publishes when the connection registry cannot be
   * asked (each node delivers to whichever recipients it holds).
   */
  public static final String ALL_NODES = "parley.inbox.all";

  /**
   * Presence changes of any user (body: a {@code presence.PresenceChange}), to every node; each
   * gateway node's {@code PresenceVerticle} republishes them on {@link #presence}.
   */
  public static final String PRESENCE_CHANGED = "parley.presence.changed";

  /** Presence changes of a user (body: the encoded {@code presence} frame), for subscribed connections on this node. */
  public static String presence(String userId) {
    return "parley.presence." + userId;
  }

  /**
   * Close every connection of a user on every node (body: the user id as a String), published by
   * the bridge's {@link #BRIDGE_DISCONNECT}; each gateway instance closes its own with 4003.
   */
  public static final String DISCONNECT_USER = "parley.gateway.disconnect";

  // The TCP event-bus bridge's addresses (io.parley.bridge): the only ones a bridge client may name.
  /** Bridge, inbound request: post a system message into a conversation. */
  public static final String BRIDGE_POST = "parley.bridge.post";
  /** Bridge, inbound request: close a user's devices on every node. */
  public static final String BRIDGE_DISCONNECT = "parley.bridge.disconnect";
  /** Bridge, inbound request: a conversation and all its members. */
  public static final String BRIDGE_CONVERSATION = "parley.bridge.conversation";
  /** Bridge, inbound request: a user's connected devices. */
  public static final String BRIDGE_DEVICES = "parley.bridge.devices";
  /** Bridge, inbound request: take a message down (gone from history and sync, a tombstone kept). */
  public static final String BRIDGE_TAKEDOWN = "parley.bridge.takedown";
  /** Bridge, outbound stream: a message was stored (ids and metadata; the body when configured). */
  public static final String BRIDGE_MESSAGE_EVENTS = "parley.bridge.events.messages";
  /** Bridge, outbound stream: a conversation's membership changed. */
  public static final String BRIDGE_MEMBERSHIP_EVENTS = "parley.bridge.events.membership";
  /** Bridge, outbound stream: a user came online or went offline. */
  public static final String BRIDGE_PRESENCE_EVENTS = "parley.bridge.events.presence";
  /**
   * Bridge interest (body: a JsonObject {@code {"stream":…,"ttl_ms":…}}), published to every node by a
   * bridge while a client follows a stream: nodes build that stream's events only while some bridge
   * wants them ({@code bridge.BridgeTap}).
   */
  public static final String BRIDGE_INTEREST = "parley.bridge.interest";
}
