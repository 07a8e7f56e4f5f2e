package io.parley.routing;

import io.parley.protocol.ErrorCode;

/**
 * Where routing answers a send: the encoded ack once the message is durable, or a typed failure.
 * Called on routing's event loop; an implementation hops to its own (a gateway session runs the
 * write on its connection's event loop). This replaces an event-bus request/reply per send, which
 * cost a reply registration and a timer each (see docs/benchmarks.md); every path through routing
 * answers exactly once.
 */
public interface SendReplies {

  void ack(String ackFrame);

  void fail(String msgId, long conv, ErrorCode code, String message);
}
