package io.parley.history;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.ChatMessage;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.Ids;
import io.parley.protocol.ParleyException;
import io.parley.routing.MessageLog;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Contract of the {@link ConversationStore} port, run against every adapter by subclassing and
 * supplying {@link #conversations()}. Covers: group creation (owner always a member, no duplicate
 * members); DM get-or-create (idempotent, symmetric in its two users, {@code created} only the
 * first time, atomic under concurrent calls); get / members / isMember including unknown
 * conversations; addMembers (ignores existing members, fails with {@code group_too_large} past the
 * cap without adding anyone, atomic under concurrent adds, {@code not_found} for an unknown
 * conversation); removeMember true/false; listForUser; markRead only ever raising the mark;
 * setMuted for members only, mutedAmong naming exactly the members who muted, listForUser telling
 * each member whether they muted.
 * How {@code lastMessageId} follows appended messages is adapter-specific and is covered in the
 * adapters' subclasses.
 */
@ExtendWith(VertxExtension.class)
public abstract class ConversationStoreContract {
  protected static final Ids IDS = new Ids(7);

  /** The adapter under test, ready for use. */
  protected abstract ConversationStore conversations();

  /**
   * Stores one message through the write path that moves this store's {@code last_message_id} (the
   * same adapter family: the embedded message log, the cluster's archive) and returns it as stored.
   * Sending a (from, msgId) again is a retried send: it must not be stored again, and returns the
   * original.
   */
  protected abstract ChatMessage send(long conv, String from, String msgId) throws Exception;

  @Test
  void muteIsPerMemberAndOnlyForMembers() throws Exception {
    Conversation g = group("alice", "bob", "carol");
    assertThat(Await.result(conversations().mutedAmong(g.id(), List.of("alice", "bob", "carol", "zed")))).isEmpty();

    assertThat(Await.result(conversations().setMuted("bob", g.id(), true))).isTrue();
    assertThat(Await.result(conversations().setMuted("carol", g.id(), true))).isTrue();
    assertThat(Await.result(conversations().setMuted("zed", g.id(), true))).as("not a member").isFalse();
    assertThat(Await.result(conversations().mutedAmong(g.id(), List.of("alice", "bob", "carol", "zed"))))
        .containsExactlyInAnyOrder("bob", "carol");

    assertThat(Await.result(conversations().setMuted("carol", g.id(), false))).isTrue();
    assertThat(Await.result(conversations().mutedAmong(g.id(), List.of("alice", "bob", "carol")))).containsExactly("bob");
    assertThat(Await.result(conversations().listForUser("bob"))).filteredOn(uc -> uc.conversation().id() == g.id())
        .singleElement().extracting(UserConversation::muted).isEqualTo(true);
    assertThat(Await.result(conversations().listForUser("carol"))).filteredOn(uc -> uc.conversation().id() == g.id())
        .singleElement().extracting(UserConversation::muted).isEqualTo(false);
    // the mark survives a read mark moving, and another conversation is not muted by it
    Await.result(conversations().markRead("bob", g.id(), 5));
    assertThat(Await.result(conversations().mutedAmong(g.id(), List.of("bob")))).containsExactly("bob");
    Conversation other = group("alice", "bob");
    assertThat(Await.result(conversations().mutedAmong(other.id(), List.of("bob")))).isEmpty();
    // leaving forgets it
    Await.result(conversations().removeMember(g.id(), "bob"));
    assertThat(Await.result(conversations().mutedAmong(g.id(), List.of("bob")))).isEmpty();
  }

  @Test
  void lastMessageIdFollowsAppends() throws Exception {
    Conversation g = group("alice", "bob");
    Conversation quiet = group("alice");
    String tag = Long.toString(g.id());
    assertThat(Await.result(conversations().get(g.id())).orElseThrow().lastMessageId()).isZero();

    ChatMessage m1 = send(g.id(), "alice", tag + "-1");
    assertThat(Await.result(conversations().get(g.id())).orElseThrow().lastMessageId()).isEqualTo(m1.serverId());
    ChatMessage m2 = send(g.id(), "bob", tag + "-2");
    Conversation loaded = Await.result(conversations().get(g.id())).orElseThrow();
    assertThat(loaded.lastMessageId()).isEqualTo(m2.serverId());
    assertThat(loaded.activity()).isEqualTo(m2.serverId());

    // a duplicate does not move the mark
    send(g.id(), "alice", tag + "-1");
    assertThat(Await.result(conversations().get(g.id())).orElseThrow().lastMessageId()).isEqualTo(m2.serverId());

    List<UserConversation> list = Await.result(conversations().listForUser("alice"));
    assertThat(list).filteredOn(uc -> uc.conversation().id() == g.id())
        .singleElement().satisfies(uc -> assertThat(uc.conversation().lastMessageId()).isEqualTo(m2.serverId()));
    assertThat(list).filteredOn(uc -> uc.conversation().id() == quiet.id())
        .singleElement().satisfies(uc -> assertThat(uc.conversation().lastMessageId()).isZero());
  }

  /** The failure of a future that must fail, unwrapped. */
  protected static Throwable failureOf(Future<?> future) {
    return Await.failure(future);
  }

  protected static ErrorCode codeOf(Future<?> future) {
    Throwable cause = failureOf(future);
    assertThat(cause).isInstanceOf(ParleyException.class);
    return ((ParleyException) cause).code();
  }

  protected Conversation group(String owner, String... members) throws Exception {
    return Await.result(conversations().createGroup(IDS.next(), "g", owner, List.of(members), System.currentTimeMillis()));
  }

  @Test
  void createGroupStoresTheGroupWithItsOwner() throws Exception {
    long id = IDS.next();
    long now = System.currentTimeMillis();
    Conversation c = Await.result(conversations().createGroup(id, "Team", "alice", List.of("bob", "carol", "alice", "bob"), now));

    assertThat(c.id()).isEqualTo(id);
    assertThat(c.type()).isEqualTo(Conversation.GROUP);
    assertThat(c.isDm()).isFalse();
    assertThat(c.name()).isEqualTo("Team");
    assertThat(c.owner()).isEqualTo("alice");
    assertThat(c.createdAt()).isEqualTo(now);
    assertThat(c.membersCount()).isEqualTo(3);
    assertThat(c.lastMessageId()).isZero();
    assertThat(c.members()).containsExactlyInAnyOrder("alice", "bob", "carol");

    Conversation loaded = Await.result(conversations().get(id)).orElseThrow();
    assertThat(loaded.id()).isEqualTo(id);
    assertThat(loaded.type()).isEqualTo(Conversation.GROUP);
    assertThat(loaded.name()).isEqualTo("Team");
    assertThat(loaded.owner()).isEqualTo("alice");
    assertThat(loaded.createdAt()).isEqualTo(now);
    assertThat(loaded.membersCount()).isEqualTo(3);
    assertThat(loaded.lastMessageId()).isZero();
    assertThat(loaded.members()).containsExactlyInAnyOrder("alice", "bob", "carol");
  }

  @Test
  void ownerIsAMemberEvenWhenNotListed() throws Exception {
    Conversation c = Await.result(conversations().createGroup(IDS.next(), "solo", "dave", List.of(), 1L));
    assertThat(c.members()).containsExactly("dave");
    assertThat(c.membersCount()).isEqualTo(1);
    assertThat(Await.result(conversations().isMember(c.id(), "dave"))).isTrue();
  }

  @Test
  void membersAndIsMember() throws Exception {
    Conversation c = group("alice", "bob");
    assertThat(Await.result(conversations().members(c.id()))).containsExactlyInAnyOrder("alice", "bob");
    assertThat(Await.result(conversations().isMember(c.id(), "alice"))).isTrue();
    assertThat(Await.result(conversations().isMember(c.id(), "bob"))).isTrue();
    assertThat(Await.result(conversations().isMember(c.id(), "carol"))).isFalse();
    assertThat(Await.result(conversations().isMember(c.id(), "bo"))).isFalse();
    assertThat(Await.result(conversations().isMember(c.id(), "bobby"))).isFalse();
    Conversation other = group("carol");
    assertThat(Await.result(conversations().isMember(other.id(), "bob"))).isFalse();
    assertThat(Await.result(conversations().members(other.id()))).containsExactly("carol");
  }

  @Test
  void unknownConversation() throws Exception {
    long unknown = IDS.next();
    assertThat(Await.result(conversations().get(unknown))).isEmpty();
    assertThat(Await.result(conversations().members(unknown))).isEmpty();
    assertThat(Await.result(conversations().isMember(unknown, "alice"))).isFalse();
    assertThat(Await.result(conversations().removeMember(unknown, "alice"))).isFalse();
  }

  @Test
  void getOrCreateDmIsIdempotentAndSymmetric() throws Exception {
    long id = IDS.next();
    ConversationStore.Created first = Await.result(conversations().getOrCreateDm(id, "alice", "bob", 5L));
    assertThat(first.created()).isTrue();
    Conversation dm = first.conversation();
    assertThat(dm.id()).isEqualTo(id);
    assertThat(dm.isDm()).isTrue();
    assertThat(dm.type()).isEqualTo(Conversation.DM);
    assertThat(dm.membersCount()).isEqualTo(2);
    assertThat(dm.members()).containsExactlyInAnyOrder("alice", "bob");
    assertThat(dm.createdAt()).isEqualTo(5L);

    ConversationStore.Created again = Await.result(conversations().getOrCreateDm(IDS.next(), "alice", "bob", 6L));
    assertThat(again.created()).isFalse();
    assertThat(again.conversation().id()).isEqualTo(id);
    assertThat(again.conversation().createdAt()).isEqualTo(5L);
    assertThat(again.conversation().members()).containsExactlyInAnyOrder("alice", "bob");

    ConversationStore.Created reversed = Await.result(conversations().getOrCreateDm(IDS.next(), "bob", "alice", 7L));
    assertThat(reversed.created()).isFalse();
    assertThat(reversed.conversation().id()).isEqualTo(id);

    Conversation loaded = Await.result(conversations().get(id)).orElseThrow();
    assertThat(loaded.isDm()).isTrue();
    assertThat(loaded.members()).containsExactlyInAnyOrder("alice", "bob");
    assertThat(Await.result(conversations().isMember(id, "alice"))).isTrue();
    assertThat(Await.result(conversations().isMember(id, "bob"))).isTrue();
  }

  @Test
  void distinctPairsGetDistinctDms() throws Exception {
    ConversationStore.Created ab = Await.result(conversations().getOrCreateDm(IDS.next(), "alice", "bob", 1L));
    ConversationStore.Created ac = Await.result(conversations().getOrCreateDm(IDS.next(), "alice", "carol", 1L));
    ConversationStore.Created bc = Await.result(conversations().getOrCreateDm(IDS.next(), "carol", "bob", 1L));
    // pairs whose concatenations coincide must not collide
    ConversationStore.Created x1 = Await.result(conversations().getOrCreateDm(IDS.next(), "ab", "c", 1L));
    ConversationStore.Created x2 = Await.result(conversations().getOrCreateDm(IDS.next(), "a", "bc", 1L));
    assertThat(List.of(ab, ac, bc, x1, x2)).extracting(ConversationStore.Created::created).containsOnly(true);
    assertThat(List.of(ab, ac, bc, x1, x2)).extracting(c -> c.conversation().id()).doesNotHaveDuplicates();
    assertThat(x2.conversation().members()).containsExactlyInAnyOrder("a", "bc");
  }

  @Test
  @Timeout(value = 10, timeUnit = SECONDS)
  void concurrentDmCreationCreatesOne(VertxTestContext ctx) {
    int n = 10;
    List<Future<ConversationStore.Created>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(i % 2 == 0
          ? conversations().getOrCreateDm(IDS.next(), "erin", "frank", 1L)
          : conversations().getOrCreateDm(IDS.next(), "frank", "erin", 1L));
    }
    Future.all(all).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      List<ConversationStore.Created> results = all.stream().map(Future::result).toList();
      assertThat(results).filteredOn(ConversationStore.Created::created).hasSize(1);
      assertThat(results).extracting(c -> c.conversation().id()).containsOnly(results.get(0).conversation().id());
      ctx.completeNow();
    })));
  }

  @Test
  void addMembersAddsNewAndIgnoresExisting() throws Exception {
    Conversation g = group("alice", "bob");
    Conversation after = Await.result(conversations().addMembers(g.id(), List.of("bob", "carol", "carol", "dave"), 10, 9L));
    assertThat(after.id()).isEqualTo(g.id());
    assertThat(after.membersCount()).isEqualTo(4);
    assertThat(after.members()).containsExactlyInAnyOrder("alice", "bob", "carol", "dave");
    assertThat(Await.result(conversations().members(g.id()))).containsExactlyInAnyOrder("alice", "bob", "carol", "dave");
    assertThat(Await.result(conversations().isMember(g.id(), "dave"))).isTrue();
    assertThat(Await.result(conversations().get(g.id())).orElseThrow().membersCount()).isEqualTo(4);

    Conversation same = Await.result(conversations().addMembers(g.id(), List.of("alice", "bob"), 10, 10L));
    assertThat(same.membersCount()).isEqualTo(4);
    assertThat(same.members()).hasSize(4);
    assertThat(Await.result(conversations().listForUser("carol"))).extracting(uc -> uc.conversation().id()).contains(g.id());
  }

  @Test
  void addMembersUpToTheCapSucceeds() throws Exception {
    Conversation g = group("alice", "bob");
    Conversation full = Await.result(conversations().addMembers(g.id(), List.of("carol", "dave"), 4, 1L));
    assertThat(full.membersCount()).isEqualTo(4);
    // re-adding members of a full group is not growth
    Conversation still = Await.result(conversations().addMembers(g.id(), List.of("carol"), 4, 1L));
    assertThat(still.membersCount()).isEqualTo(4);
  }

  @Test
  void addMembersPastTheCapFailsAndAddsNobody() throws Exception {
    Conversation g = group("alice", "bob", "carol");
    assertThat(codeOf(conversations().addMembers(g.id(), List.of("dave", "erin"), 4, 1L))).isEqualTo(ErrorCode.GROUP_TOO_LARGE);
    assertThat(Await.result(conversations().members(g.id()))).containsExactlyInAnyOrder("alice", "bob", "carol");
    assertThat(Await.result(conversations().get(g.id())).orElseThrow().membersCount()).isEqualTo(3);
    assertThat(Await.result(conversations().isMember(g.id(), "dave"))).isFalse();
    assertThat(Await.result(conversations().listForUser("dave"))).isEmpty();
  }

  @Test
  void addMembersToUnknownConversationIsNotFound() throws Exception {
    assertThat(codeOf(conversations().addMembers(IDS.next(), List.of("bob"), 10, 1L))).isEqualTo(ErrorCode.NOT_FOUND);
  }

  @Test
  void concurrentAddsNeverExceedTheCap() throws Exception {
    Conversation g = group("owner");
    int cap = 5;
    int n = 12;
    List<Future<Conversation>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(conversations().addMembers(g.id(), List.of("user" + i), cap, 1L));
    }
    Await.result(Future.join(all).otherwiseEmpty());
    int ok = 0;
    for (Future<Conversation> f : all) {
      if (f.succeeded()) {
        assertThat(f.result().membersCount()).isLessThanOrEqualTo(cap);
        ok++;
      } else {
        assertThat(f.cause()).isInstanceOf(ParleyException.class);
        assertThat(((ParleyException) f.cause()).code()).isEqualTo(ErrorCode.GROUP_TOO_LARGE);
      }
    }
    assertThat(ok).isEqualTo(cap - 1);
    assertThat(Await.result(conversations().members(g.id()))).hasSize(cap);
    assertThat(Await.result(conversations().get(g.id())).orElseThrow().membersCount()).isEqualTo(cap);
  }

  @Test
  void removeMember() throws Exception {
    Conversation g = group("alice", "bob", "carol");
    assertThat(Await.result(conversations().removeMember(g.id(), "bob"))).isTrue();
    assertThat(Await.result(conversations().removeMember(g.id(), "bob"))).isFalse();
    assertThat(Await.result(conversations().removeMember(g.id(), "zoe"))).isFalse();
    assertThat(Await.result(conversations().isMember(g.id(), "bob"))).isFalse();
    assertThat(Await.result(conversations().members(g.id()))).containsExactlyInAnyOrder("alice", "carol");
    Conversation loaded = Await.result(conversations().get(g.id())).orElseThrow();
    assertThat(loaded.membersCount()).isEqualTo(2);
    assertThat(loaded.members()).containsExactlyInAnyOrder("alice", "carol");
    assertThat(Await.result(conversations().listForUser("bob"))).extracting(uc -> uc.conversation().id()).doesNotContain(g.id());

    // a removed member can be added back
    Conversation back = Await.result(conversations().addMembers(g.id(), List.of("bob"), 10, 2L));
    assertThat(back.membersCount()).isEqualTo(3);
    assertThat(Await.result(conversations().isMember(g.id(), "bob"))).isTrue();
  }

  @Test
  void removedSlotsFreeCapacity() throws Exception {
    Conversation g = group("alice", "bob", "carol");
    assertThat(Await.result(conversations().removeMember(g.id(), "carol"))).isTrue();
    Conversation after = Await.result(conversations().addMembers(g.id(), List.of("dave"), 3, 1L));
    assertThat(after.membersCount()).isEqualTo(3);
  }

  @Test
  void listForUser() throws Exception {
    Conversation g1 = group("alice", "bob");
    Conversation g2 = group("carol", "alice");
    Conversation g3 = group("carol", "bob");
    Conversation dm = Await.result(conversations().getOrCreateDm(IDS.next(), "zed", "alice", 1L)).conversation();

    List<UserConversation> mine = Await.result(conversations().listForUser("alice"));
    assertThat(mine).extracting(uc -> uc.conversation().id()).containsExactlyInAnyOrder(g1.id(), g2.id(), dm.id());
    assertThat(mine).extracting(UserConversation::lastReadId).containsOnly(0L);
    UserConversation dmEntry = mine.stream().filter(uc -> uc.conversation().id() == dm.id()).findFirst().orElseThrow();
    assertThat(dmEntry.conversation().isDm()).isTrue();
    assertThat(dmEntry.conversation().members()).containsExactlyInAnyOrder("alice", "zed");

    assertThat(Await.result(conversations().listForUser("bob"))).extracting(uc -> uc.conversation().id())
        .containsExactlyInAnyOrder(g1.id(), g3.id());
    assertThat(Await.result(conversations().listForUser("nobody"))).isEmpty();
    // user ids that are prefixes or extensions of a member's do not match
    assertThat(Await.result(conversations().listForUser("ali"))).isEmpty();
    assertThat(Await.result(conversations().listForUser("alice2"))).isEmpty();
  }

  @Test
  void markReadOnlyRaisesTheMark() throws Exception {
    Conversation g = group("alice", "bob");
    Await.result(conversations().markRead("alice", g.id(), 100));
    assertThat(readMark("alice", g.id())).contains(100L);
    assertThat(readMark("bob", g.id())).contains(0L);

    Await.result(conversations().markRead("alice", g.id(), 50));
    assertThat(readMark("alice", g.id())).contains(100L);
    Await.result(conversations().markRead("alice", g.id(), 100));
    assertThat(readMark("alice", g.id())).contains(100L);
    Await.result(conversations().markRead("alice", g.id(), 101));
    assertThat(readMark("alice", g.id())).contains(101L);
  }

  @Test
  void markReadIsPerConversation() throws Exception {
    Conversation g1 = group("alice", "bob");
    Conversation g2 = group("alice", "bob");
    Await.result(conversations().markRead("alice", g1.id(), 10));
    assertThat(readMark("alice", g1.id())).contains(10L);
    assertThat(readMark("alice", g2.id())).contains(0L);
  }

  @Test
  void markReadByANonMemberDoesNotMakeThemOne() throws Exception {
    Conversation g = group("alice", "bob");
    Await.result(conversations().markRead("mallory", g.id(), 10));
    assertThat(Await.result(conversations().isMember(g.id(), "mallory"))).isFalse();
    assertThat(Await.result(conversations().listForUser("mallory"))).isEmpty();
    assertThat(Await.result(conversations().members(g.id()))).containsExactlyInAnyOrder("alice", "bob");
  }

  protected Optional<Long> readMark(String user, long conv) throws Exception {
    return Await.result(conversations().listForUser(user)).stream()
        .filter(uc -> uc.conversation().id() == conv)
        .map(UserConversation::lastReadId)
        .findFirst();
  }
}
