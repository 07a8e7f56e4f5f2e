package io.parley.routing;

import io.parley.protocol.ClientFrame;

/**
 * A validated send from one connection of an authenticated user, and where to answer it; or, with
 * {@link #SYSTEM} as the user and no connection, an operator's system message (the bridge's
 * {@code parley.bridge.post}), which is taken into any existing conversation without a member check.
 */
public record SendRequest(String user, String connectionId, ClientFrame.Send send, SendReplies replies) {
  /**
   * The sender of system messages. Not a valid user id (user ids match {@code [A-Za-z0-9_.-]{1,64}}),
   * so no token, and no member, can ever be it.
   */
  public static final String SYSTEM = "parley:system";

  /** A system message into {@code send.conv()}. */
  public static SendRequest system(ClientFrame.Send send, SendReplies replies) {
    return new SendRequest(SYSTEM, null, send, replies);
  }

  /** Whether this is a system message (see {@link #SYSTEM}). */
  public boolean isSystem() {
    return SYSTEM.equals(user);
  }

  void fail(io.parley.protocol.ErrorCode code, String message) {
    replies.fail(send.msgId(), send.conv(), code, message);
  }
}
