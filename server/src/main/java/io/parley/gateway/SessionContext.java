package io.parley.gateway;

import io.parley.config.ParleyConfig;
import io.parley.history.ConversationService;
import io.parley.limits.RateLimiter;
import io.parley.presence.ConnectionRegistry;
import io.parley.protocol.ClientFrame;
import io.parley.routing.SendRequest;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.vertx.core.Context;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What every session of one gateway instance shares; one per instance, so one per event loop. The
 * session set and the user index are confined to that event loop.
 */
record SessionContext(
    ParleyConfig config,
    Context eventLoop,
    ClientFrame.Limits limits,
    EventBus bus,
    ConnectionRegistry registry,
    RateLimiter limiter,
    ConversationService conversations,
    String node,
    Set<Session> sessions,
    Map<String, List<Session>> byUser,
    DeliveryOptions requestOptions,
    TurnBatch<Session> flusher,
    TurnBatch<SendRequest> sends,
    WebSocketDecoderConfig wsDecoder) {

  void add(Session s) {
    sessions.add(s);
    byUser.computeIfAbsent(s.user, u -> new ArrayList<>(2)).add(s);
  }

  void remove(Session s) {
    sessions.remove(s);
    List<Session> list = byUser.get(s.user);
    if (list != null && list.remove(s) && list.isEmpty()) {
      byUser.remove(s.user);
    }
  }
}
