package io.parley.routing;

import io.parley.protocol.ChatMessage;
import io.vertx.core.Future;
import java.util.Optional;

/** Finds an already-stored message by its sender and client msg id: how a retried send gets its original ack. */
public interface SendIndex {

  Future<Optional<ChatMessage>> find(String from, String msgId);
}
