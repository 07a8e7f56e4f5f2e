package io.parley.routing;

import java.util.List;

/**
 * Sends to route in this order, in one event-bus message: a gateway event loop hands over
 * everything its connections sent in one turn at once, instead of one bus message per send.
 */
public record SendBatch(List<SendRequest> sends) {}
