package io.parley.presence;

import io.vertx.core.Future;
import java.util.Collection;
import java.util.Map;
import java.util.Set;

/**
 * Who is connected where: user → set of (node, connection). Not durable; rebuilt from live
 * connections. Also keeps each user's last-seen time for presence.
 */
public interface ConnectionRegistry {

  /** Registers a connection; true when it is the user's first live connection (user came online). */
  Future<Boolean> register(String user, String node, String connectionId);

  /** Unregisters a connection; true when it was the user's last one (user went offline). */
  Future<Boolean> unregister(String user, String node, String connectionId, long lastSeen);

  /**
   * Heartbeat of a live connection: keeps it registered. False when the registry does not know it
   * (it lapsed, or the registry lost its state): the caller registers it again.
   */
  Future<Boolean> refresh(String user, String node, String connectionId);

  /** For each of {@code users}, the nodes holding at least one of its live connections (absent when none). */
  Future<Map<String, Set<String>>> nodesOf(Collection<String> users);

  /**
   * For each of {@code users}, the ids of its live connections (absent when none). Push asks it
   * which devices are connected ({@link ConnectionIds#device}).
   */
  Future<Map<String, Set<String>>> connectionsOf(Collection<String> users);

  /** Presence of one user. */
  Future<Presence> presence(String user);

  record Presence(boolean online, long lastSeen) {}
}
