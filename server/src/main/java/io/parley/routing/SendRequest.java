package io.parley.routing;

import io.parley.protocol.ClientFrame;

/**
 * A validated send from one connection of an authenticated user, and where to answer it.
 *
 * @param maybeRetry the connection is young: clients resend what they had pending right after
 *     they reconnect, so the send may repeat one made on an earlier connection, perhaps through
 *     another node (see {@link MessageLog.NewMessage#maybeRetry})
 */
public record SendRequest(String user, String connectionId, ClientFrame.Send send, SendReplies replies,
    boolean maybeRetry) {

  void fail(io.parley.protocol.ErrorCode code, String message) {
    replies.fail(send.msgId(), send.conv(), code, message);
  }
}
