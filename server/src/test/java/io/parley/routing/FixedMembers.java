package io.parley.routing;

import io.parley.history.Conversation;
import io.parley.history.ConversationStore;
import io.vertx.core.Future;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Optional;

/** Routing tests' conversation store: every conversation exists, with these members (only get is used). */
final class FixedMembers {
  private FixedMembers() {
  }

  static ConversationStore of(String... users) {
    return (ConversationStore) Proxy.newProxyInstance(ConversationStore.class.getClassLoader(),
        new Class<?>[] {ConversationStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("get")) {
            long id = (Long) args[0];
            return Future.succeededFuture(Optional.of(
                new Conversation(id, Conversation.DM, null, null, 0, users.length, 0, List.of(users))));
          }
          throw new UnsupportedOperationException(method.getName());
        });
  }
}
