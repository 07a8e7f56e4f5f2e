package io.parley.protocol;

/** Every event-bus address Parley uses is built here, and only here. */
public final class Addresses {
  private Addresses() {}

  /** Routing: client sends, in arrival order. */
  public static final String ROUTING_SEND = "parley.routing.send";
  /** Routing: best-effort signals (delivered, read, typing). */
  public static final String ROUTING_SIGNAL = "parley.routing.signal";
  /** Fan-out: appended messages to deliver. */
  public static final String FANOUT = "parley.fanout";
  /** Push: recipients without a live connection. */
  public static final String PUSH = "parley.push";
  /** Membership of a conversation changed (body: conversation id as Long). */
  public static final String CONVERSATION_CHANGED = "parley.conversation.changed";

  /**
   * Live deliveries on this node: one {@code Delivery} (a frame and the user ids it is for) is
   * published here per fan-out, and every gateway instance hands it to its connections of those
   * users. One bus message per node per fan-out instead of one per recipient.
   */
  public static final String NODE_DELIVERY = "parley.node.delivery";

  /** Presence changes of a user, for subscribed connections on this node. */
  public static String presence(String userId) {
    return "parley.presence." + userId;
  }
}
