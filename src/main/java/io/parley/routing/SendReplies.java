package io.parley.routing;

import io.parley.protocol.ErrorCode;
import io.vertx.core.Context;

/**
 * Where routing answers a send: the encoded ack once the message is durable, or a typed failure.
 * Called on routing's event loop; an implementation hops to its own (a gateway session runs the
 * write on its connection's event loop). This replaces an event-bus request/reply per send, which
 * cost a reply registration and a timer each (see docs/benchmarks.md); every path through routing
 * answers exactly once.
 */
public interface SendReplies {

  void ack(String ackFrame);

  /**
   * The context acks are written on, or null. Routing then hands all acks of one append that go
   * to the same context over in one task, and calls {@link #ackOnContext} there, instead of one hop
   * per ack.
   */
  default Context replyContext() {
    return null;
  }

  /** Writes the ack; called on {@link #replyContext()}. */
  default void ackOnContext(String ackFrame) {
    ack(ackFrame);
  }

  void fail(String msgId, long conv, ErrorCode code, String message);
}
