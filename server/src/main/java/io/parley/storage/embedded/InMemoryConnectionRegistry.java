package io.parley.storage.embedded;

import io.parley.presence.ConnectionRegistry;
import io.vertx.core.Future;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The embedded profile's connection registry: one node, so the process's own memory is the truth
 * (the registry is never durable anyway). Safe for the several gateway event loops that share it.
 * Last-seen times are kept for at most {@code maxLastSeen} users; beyond that the oldest are dropped.
 */
public final class InMemoryConnectionRegistry implements ConnectionRegistry {
  private final Map<String, Map<String, String>> live = new ConcurrentHashMap<>();
  private final Map<String, Long> lastSeen = new ConcurrentHashMap<>();
  private final int maxLastSeen;

  public InMemoryConnectionRegistry(int maxLastSeen) {
    this.maxLastSeen = maxLastSeen;
  }

  @Override
  public Future<Boolean> register(String user, String node, String connectionId) {
    boolean[] first = new boolean[1];
    live.compute(user, (u, conns) -> {
      if (conns == null) {
        conns = new ConcurrentHashMap<>(4);
      }
      first[0] = conns.isEmpty();
      conns.put(connectionId, node);
      return conns;
    });
    return Future.succeededFuture(first[0]);
  }

  @Override
  public Future<Boolean> unregister(String user, String node, String connectionId, long seen) {
    boolean[] last = new boolean[1];
    live.computeIfPresent(user, (u, conns) -> {
      if (conns.remove(connectionId) != null && conns.isEmpty()) {
        last[0] = true;
        return null;
      }
      return conns.isEmpty() ? null : conns;
    });
    if (last[0]) {
      if (lastSeen.size() >= maxLastSeen && !lastSeen.containsKey(user)) {
        lastSeen.entrySet().stream().min(Map.Entry.comparingByValue())
            .ifPresent(oldest -> lastSeen.remove(oldest.getKey(), oldest.getValue()));
      }
      lastSeen.put(user, seen);
    }
    return Future.succeededFuture(last[0]);
  }

  @Override
  public Future<Boolean> refresh(String user, String node, String connectionId) {
    Map<String, String> conns = live.get(user);
    return Future.succeededFuture(conns != null && conns.containsKey(connectionId));
  }

  @Override
  public Future<Map<String, Set<String>>> nodesOf(Collection<String> users) {
    Map<String, Set<String>> out = new HashMap<>();
    for (String u : users) {
      Map<String, String> conns = live.get(u);
      if (conns != null && !conns.isEmpty()) {
        out.put(u, distinct(conns.values()));
      }
    }
    return Future.succeededFuture(out);
  }

  /**
   * The distinct node ids of a user's connections. Usually every one is on the same node (always on
   * the embedded profile): then one singleton, not a copied set per user and message.
   */
  private static Set<String> distinct(Collection<String> nodes) {
    String only = null;
    for (String n : nodes) {
      if (only == null) {
        only = n;
      } else if (!only.equals(n)) {
        return Set.copyOf(nodes);
      }
    }
    return only == null ? Set.of() : Set.of(only);
  }

  @Override
  public Future<Map<String, Set<String>>> connectionsOf(Collection<String> users) {
    Map<String, Set<String>> out = new HashMap<>();
    for (String u : users) {
      Map<String, String> conns = live.get(u);
      if (conns != null && !conns.isEmpty()) {
        Set<String> ids = Set.copyOf(conns.keySet());
        if (!ids.isEmpty()) {
          out.put(u, ids);
        }
      }
    }
    return Future.succeededFuture(out);
  }

  @Override
  public Future<Presence> presence(String user) {
    Map<String, String> conns = live.get(user);
    boolean online = conns != null && !conns.isEmpty();
    return Future.succeededFuture(new Presence(online, online ? 0 : lastSeen.getOrDefault(user, 0L)));
  }
}
