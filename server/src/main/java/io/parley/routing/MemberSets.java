package io.parley.routing;

import io.parley.history.ConversationStore;
import io.vertx.core.Future;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A bounded LRU cache of conversations' member sets, owned by one verticle (not thread-safe).
 * Concurrent look-ups of one conversation share a single load; a membership change announced
 * while a load is in flight discards that load's result, so a stale set is never cached.
 */
final class MemberSets {
  private final ConversationStore conversations;
  private final int max;
  private final Map<Long, Set<String>> cache;
  private final Map<Long, Future<Set<String>>> loading = new HashMap<>();
  private final Set<Long> changedWhileLoading = new HashSet<>();

  MemberSets(ConversationStore conversations, int max) {
    this.conversations = conversations;
    this.max = max;
    this.cache = new LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, Set<String>> eldest) {
        return size() > MemberSets.this.max;
      }
    };
  }

  /** The cached set, or null. */
  Set<String> cached(long conv) {
    return cache.get(conv);
  }

  /** The member set of a conversation (empty when it does not exist), from the cache or the store. */
  Future<Set<String>> get(long conv) {
    Set<String> cached = cache.get(conv);
    if (cached != null) {
      return Future.succeededFuture(cached);
    }
    Future<Set<String>> pending = loading.get(conv);
    if (pending != null) {
      return pending;
    }
    Future<Set<String>> load = conversations.get(conv)
        .map(opt -> opt.<Set<String>>map(conversation -> Set.copyOf(conversation.members())).orElse(Set.of()));
    loading.put(conv, load);
    return load.andThen(ar -> {
      loading.remove(conv);
      if (changedWhileLoading.remove(conv)) {
        return; // a membership change raced the load: the next use loads again
      }
      if (ar.succeeded()) {
        cache.put(conv, ar.result());
      }
    });
  }

  void invalidate(long conv) {
    cache.remove(conv);
    if (loading.containsKey(conv)) {
      changedWhileLoading.add(conv);
    }
  }
}
