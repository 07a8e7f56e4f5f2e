package io.parley.gateway;

import io.parley.presence.ConnectionIds;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * The fields of a connection's or request's log lines: {@code user}, {@code device} and {@code node}
 * as slf4j key-value pairs on the call itself ({@code log.format=json} puts them in each line's
 * {@code kvpList}; the text pattern prints them after the message). Explicit rather than MDC: MDC
 * is per thread, and one event loop serves thousands of connections in turn.
 */
final class ConnectionLog {
  private ConnectionLog() {}

  /** {@code event} with the fields of connection {@code connectionId} (its device is in the id). */
  static LoggingEventBuilder connection(LoggingEventBuilder event, String node, String user, String connectionId) {
    return fields(event, node, user, ConnectionIds.device(connectionId));
  }

  /** {@code event} with the fields known (a null one is left out: a request has no device). */
  static LoggingEventBuilder fields(LoggingEventBuilder event, String node, String user, String device) {
    if (user != null) {
      event = event.addKeyValue("user", user);
    }
    if (device != null) {
      event = event.addKeyValue("device", device);
    }
    return node == null ? event : event.addKeyValue("node", node);
  }
}
