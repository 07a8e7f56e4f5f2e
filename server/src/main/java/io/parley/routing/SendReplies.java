package io.parley.routing;

import io.parley.protocol.ErrorCode;
import io.vertx.core.Context;

/**
 * Where routing answers a send: the encoded ack once the message is durable, or a typed failure.
 * Acks are called on {@link #replyContext()}, or on routing's event loop when there is none;
 * failures always on routing's, and an implementation hops to its own (a gateway session runs the
 * write on its connection's event loop). This replaces an event-bus request/reply per send, which
 * cost a reply registration and a timer each (see docs/benchmarks.md); every path through routing
 * answers exactly once.
 */
public interface SendReplies {

  /** Answers a durable send; called on {@link #replyContext()} when it is not null. */
  void ack(String ackFrame);

  /**
   * The context acks are called on, or null (then on routing's). Routing hands all acks of one
   * append that go to the same context over in one task, instead of one hop per ack.
   */
  default Context replyContext() {
    return null;
  }

  void fail(String msgId, long conv, ErrorCode code, String message);
}
