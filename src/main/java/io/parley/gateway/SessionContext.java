package io.parley.gateway;

import io.parley.config.ParleyConfig;
import io.parley.history.ConversationService;
import io.parley.presence.ConnectionRegistry;
import io.parley.protocol.ClientFrame;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import java.util.Set;

/** What every session of one gateway instance shares; one per instance, so one per event loop. */
record SessionContext(
    ParleyConfig config,
    ClientFrame.Limits limits,
    EventBus bus,
    ConnectionRegistry registry,
    ConversationService conversations,
    String node,
    Set<Session> sessions,
    DeliveryOptions requestOptions) {}
