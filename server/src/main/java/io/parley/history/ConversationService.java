package io.parley.history;

import io.parley.protocol.Addresses;
import io.parley.protocol.ClientFrame;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.Ids;
import io.parley.protocol.ParleyException;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The rules of conversations, membership and history over the store ports: who may see, change or
 * read what, and the size regimes (DM 2, small group inline, large group up to the cap). Every
 * membership change is announced on {@link Addresses#CONVERSATION_CHANGED} before it is answered,
 * so routing never delivers to a removed member once the removal was acknowledged.
 */
public final class ConversationService {
  private final ConversationStore conversations;
  private final MessageStore messages;
  private final Ids ids;
  private final EventBus bus;
  private final int largeGroupMax;

  public ConversationService(ConversationStore conversations, MessageStore messages, Ids ids, EventBus bus,
      int largeGroupMax) {
    this.conversations = conversations;
    this.messages = messages;
    this.ids = ids;
    this.bus = bus;
    this.largeGroupMax = largeGroupMax;
  }

  public Future<ConversationStore.Created> createDm(String caller, String other) {
    checkUser(other);
    if (other.equals(caller)) {
      return fail(ErrorCode.BAD_REQUEST, "a DM needs one other member");
    }
    return conversations.getOrCreateDm(ids.next(), caller, other, System.currentTimeMillis())
        .map(created -> changed(created.conversation().id(), created));
  }

  public Future<Conversation> createGroup(String caller, String name, Collection<String> members) {
    Set<String> all = new LinkedHashSet<>();
    all.add(caller);
    for (String m : members) {
      checkUser(m);
      all.add(m);
    }
    if (all.size() > largeGroupMax) {
      return fail(ErrorCode.GROUP_TOO_LARGE, "a group holds at most " + largeGroupMax + " members");
    }
    return conversations.createGroup(ids.next(), name, caller, all, System.currentTimeMillis())
        .map(c -> changed(c.id(), c));
  }

  /** The conversation, if the caller is a member. */
  public Future<Conversation> get(String caller, long conv) {
    return conversations.get(conv).compose(opt -> {
      if (opt.isEmpty()) {
        return fail(ErrorCode.NOT_FOUND, "no conversation " + conv);
      }
      Conversation c = opt.get();
      return c.members().contains(caller) ? Future.succeededFuture(c) : fail(ErrorCode.NOT_MEMBER, "not a member of " + conv);
    });
  }

  /** Whether the caller muted the conversation (false for a non-member). */
  public Future<Boolean> muted(String caller, long conv) {
    return conversations.mutedAmong(conv, List.of(caller)).map(set -> set.contains(caller));
  }

  /** The caller's conversations, newest activity first, those older than {@code cursor} (0: from the newest). */
  public Future<List<UserConversation>> list(String caller, long cursor, int limit) {
    return conversations.listForUser(caller).map(all -> all.stream()
        .filter(uc -> cursor <= 0 || uc.conversation().activity() < cursor)
        .sorted(Comparator.comparingLong((UserConversation uc) -> uc.conversation().activity()).reversed())
        .limit(limit + 1L)
        .toList());
  }

  public Future<MessagePage> history(String caller, long conv, long before, int limit) {
    return requireMember(caller, conv).compose(v -> messages.before(conv, before, limit));
  }

  /** Missed messages after {@code after}: the newest {@code limit}, oldest first. */
  public Future<MessagePage> backfill(String caller, long conv, long after, int limit) {
    return requireMember(caller, conv).compose(v -> messages.after(conv, after, limit));
  }

  public Future<Conversation> addMembers(String caller, long conv, Collection<String> users) {
    users.forEach(ConversationService::checkUser);
    return get(caller, conv).compose(c -> {
      if (c.isDm()) {
        return fail(ErrorCode.CONFLICT, "members of a DM cannot change");
      }
      return conversations.addMembers(conv, users, largeGroupMax, System.currentTimeMillis());
    }).map(c -> changed(conv, c));
  }

  public Future<Void> removeMember(String caller, long conv, String user) {
    return get(caller, conv).compose(c -> {
      if (c.isDm()) {
        return fail(ErrorCode.CONFLICT, "members of a DM cannot change");
      }
      if (!caller.equals(user) && !caller.equals(c.owner())) {
        return fail(ErrorCode.FORBIDDEN, "only the owner may remove other members");
      }
      return conversations.removeMember(conv, user).compose(removed -> removed
          ? Future.succeededFuture(changed(conv, (Void) null))
          : fail(ErrorCode.NOT_FOUND, user + " is not a member of " + conv));
    });
  }

  /** The caller's settings of a conversation (members only): {@code muted} stops its pushes to the caller. */
  public Future<Void> setMuted(String caller, long conv, boolean muted) {
    return requireMember(caller, conv).compose(v -> conversations.setMuted(caller, conv, muted)).compose(set -> set
        ? Future.succeededFuture()
        : fail(ErrorCode.NOT_MEMBER, "not a member of " + conv)); // left between the check and the write
  }

  private Future<Void> requireMember(String caller, long conv) {
    return conversations.isMember(conv, caller).compose(member -> {
      if (member) {
        return Future.succeededFuture();
      }
      return conversations.get(conv).compose(c -> c.isEmpty()
          ? fail(ErrorCode.NOT_FOUND, "no conversation " + conv)
          : fail(ErrorCode.NOT_MEMBER, "not a member of " + conv));
    });
  }

  private <T> T changed(long conv, T result) {
    bus.publish(Addresses.CONVERSATION_CHANGED, conv);
    return result;
  }

  private static void checkUser(String user) {
    if (!ClientFrame.validUser(user)) {
      throw ParleyException.of(ErrorCode.BAD_REQUEST, "user ids match [A-Za-z0-9_.-]{1,64}");
    }
  }

  private static <T> Future<T> fail(ErrorCode code, String message) {
    return Future.failedFuture(ParleyException.of(code, message));
  }
}
