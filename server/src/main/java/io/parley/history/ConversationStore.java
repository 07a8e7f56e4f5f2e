package io.parley.history;

import io.vertx.core.Future;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Conversations and membership (with the per-user reverse index). Operations that check and change
 * (DM creation, adding members under the size cap) are atomic in every adapter.
 */
public interface ConversationStore {

  /** Creates a group with the given members (owner included). */
  Future<Conversation> createGroup(long id, String name, String owner, Collection<String> members, long now);

  /**
   * Returns the DM between {@code a} and {@code b}, creating it with id {@code newId} when none
   * exists. The boolean of the result tells whether it was created.
   */
  Future<Created> getOrCreateDm(long newId, String a, String b, long now);

  Future<Optional<Conversation>> get(long id);

  Future<List<String>> members(long conv);

  Future<Boolean> isMember(long conv, String user);

  /**
   * Adds users (already-members are ignored). Fails with {@code group_too_large} when the group
   * would exceed {@code maxMembers}; fails with {@code not_found} when it does not exist.
   */
  Future<Conversation> addMembers(long conv, Collection<String> users, int maxMembers, long now);

  /** Removes a member; false when the user was not one. */
  Future<Boolean> removeMember(long conv, String user);

  /** Every conversation of a user with the user's read mark (unordered). */
  Future<List<UserConversation>> listForUser(String user);

  /** Raises the user's read mark (never lowers it). */
  Future<Void> markRead(String user, long conv, long serverId);

  /** Sets whether the member gets pushes from the conversation; false when the user is not a member. */
  Future<Boolean> setMuted(String user, long conv, boolean muted);

  /** Those of {@code users} who muted the conversation (non-members are never in it). */
  Future<Set<String>> mutedAmong(long conv, Collection<String> users);

  record Created(Conversation conversation, boolean created) {}

  /**
   * How many of the user's conversations have messages newer than the user's read mark: a push
   * notification's badge. The default reads the whole conversation list.
   */
  default Future<Integer> unreadCount(String user) {
    return listForUser(user).map(list -> (int) list.stream()
        .filter(uc -> uc.conversation().lastMessageId() > uc.lastReadId()).count());
  }
}
