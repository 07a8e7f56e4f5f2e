package io.parley.gateway;

import io.parley.metrics.NodeMetrics;
import io.parley.presence.ConnectionIds;
import io.parley.protocol.Deliveries;
import io.parley.protocol.Delivery;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The sessions of one gateway instance, indexed by user. Confined to the instance's event loop.
 */
final class Sessions {
  private final Set<Session> all = new HashSet<>();
  private final Map<String, List<Session>> byUser = new HashMap<>();
  /** Open connections and connected devices of this instance, added to the node's gauges. */
  private final NodeMetrics metrics;

  Sessions() {
    this(NodeMetrics.none());
  }

  Sessions(NodeMetrics metrics) {
    this.metrics = metrics;
  }

  void add(Session s) {
    if (!all.add(s)) {
      return;
    }
    List<Session> list = byUser.computeIfAbsent(s.user, u -> new ArrayList<>(2));
    metrics.connectionOpened();
    if (!hasDevice(list, s)) {
      metrics.deviceConnected();
    }
    list.add(s);
  }

  void remove(Session s) {
    if (!all.remove(s)) {
      return;
    }
    metrics.connectionClosed();
    List<Session> list = byUser.get(s.user);
    if (list != null && list.remove(s)) {
      if (!hasDevice(list, s)) {
        metrics.deviceDisconnected();
      }
      if (list.isEmpty()) {
        byUser.remove(s.user);
      }
    }
  }

  /** Whether {@code list} (one user's sessions) holds another connection of the device of {@code s}. */
  private static boolean hasDevice(List<Session> list, Session s) {
    String device = ConnectionIds.device(s.id);
    for (int i = 0; i < list.size(); i++) {
      Session other = list.get(i);
      if (other != s && java.util.Objects.equals(ConnectionIds.device(other.id), device)) {
        return true;
      }
    }
    return false;
  }

  /** Hands deliveries, in order, to this instance's connections of their users. */
  void deliver(Deliveries all) {
    List<Delivery> list = all.deliveries();
    for (int k = 0; k < list.size(); k++) {
      Delivery d = list.get(k);
      for (String user : d.users()) {
        List<Session> sessions = byUser.get(user);
        if (sessions != null) {
          for (int i = sessions.size() - 1; i >= 0; i--) {
            sessions.get(i).deliver(d.outbound());
          }
        }
      }
    }
  }

  /** Keeps every connection live in the registry ({@link Session#heartbeat()}). */
  void heartbeat() {
    new ArrayList<>(all).forEach(Session::heartbeat);
  }

  /**
   * Closes the connections silent for longer than {@code idleTimeoutMs} (1001) and those whose
   * token has expired (1008): a token is checked at the handshake, and this keeps a connection from
   * outliving it.
   */
  void sweepIdle(long idleTimeoutMs) {
    long now = System.currentTimeMillis();
    long cutoff = now - idleTimeoutMs;
    List<Session> idle = all.stream().filter(s -> s.lastActivity < cutoff || s.expiresAt <= now).toList();
    idle.forEach(s -> {
      if (s.expiresAt <= now) {
        s.close(Session.CLOSE_POLICY, "token expired");
      } else {
        s.close(Session.CLOSE_IDLE, "idle timeout");
      }
    });
  }

  int size() {
    return all.size();
  }

  /** The connections, in an order of {@code random}'s choosing (who a drain lets go first). */
  List<Session> shuffled(Random random) {
    List<Session> list = new ArrayList<>(all);
    Collections.shuffle(list, random);
    return list;
  }

  /** Closes every connection with {@code code}. */
  void closeAll(short code, String reason) {
    for (Session s : new ArrayList<>(all)) {
      s.close(code, reason);
    }
  }

  /** Closes every connection of {@code user} with {@code code}. */
  void closeUser(String user, short code, String reason) {
    List<Session> list = byUser.get(user);
    if (list != null) {
      for (Session s : new ArrayList<>(list)) {
        s.close(code, reason);
      }
    }
  }
}
