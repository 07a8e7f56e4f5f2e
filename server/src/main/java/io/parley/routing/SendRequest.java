package io.parley.routing;

import io.parley.protocol.ClientFrame;

/** A validated send from one connection of an authenticated user, and where to answer it. */
public record SendRequest(String user, String connectionId, ClientFrame.Send send, SendReplies replies) {

  void fail(io.parley.protocol.ErrorCode code, String message) {
    replies.fail(send.msgId(), send.conv(), code, message);
  }
}
