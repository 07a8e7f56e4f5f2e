package io.parley.history;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.parley.protocol.ChatMessage;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.Ids;
import io.parley.protocol.ParleyException;
import io.parley.routing.MessageLog;
import io.vertx.core.Future;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
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
 * setMuted for members only, mutedAmong naming exactly the members who muted.
 * How {@code lastMessageId} follows appended messages is adapter-specific and is covered in the
 * adapters' subclasses.
 */
@ExtendWith(VertxExtension.class)
public abstract class ConversationStoreContract {
  protected static final Ids IDS = new Ids(7);

  /** The adapter under test, ready for use. */
  protected abstract ConversationStore conversations();

  /** The message log whose appends move this store's {@code last_message_id} (the same adapter family). */
  protected abstract MessageLog messageLog();

  private ChatMessage send(long conv, String from, String msgId) throws Exception {
    return await(messageLog().append(List.of(new MessageLog.NewMessage(from, msgId, conv, "hi", null))))
        .get(0).message();
  }

  @Test
  void muteIsPerMemberAndOnlyForMembers() throws Exception {
    Conversation g = group("alice", "bob", "carol");
    assertThat(await(conversations().mutedAmong(g.id(), List.of("alice", "bob", "carol", "zed")))).isEmpty();

    assertThat(await(conversations().setMuted("bob", g.id(), true))).isTrue();
    assertThat(await(conversations().setMuted("carol", g.id(), true))).isTrue();
    assertThat(await(conversations().setMuted("zed", g.id(), true))).as("not a member").isFalse();
    assertThat(await(conversations().mutedAmong(g.id(), List.of("alice", "bob", "carol", "zed"))))
        .containsExactlyInAnyOrder("bob", "carol");

    assertThat(await(conversations().setMuted("carol", g.id(), false))).isTrue();
    assertThat(await(conversations().mutedAmong(g.id(), List.of("alice", "bob", "carol")))).containsExactly("bob");
    // the mark survives a read mark moving, and another conversation is not muted by it
    await(conversations().markRead("bob", g.id(), 5));
    assertThat(await(conversations().mutedAmong(g.id(), List.of("bob")))).containsExactly("bob");
    Conversation other = group("alice", "bob");
    assertThat(await(conversations().mutedAmong(other.id(), List.of("bob")))).isEmpty();
    // leaving forgets it
    await(conversations().removeMember(g.id(), "bob"));
    assertThat(await(conversations().mutedAmong(g.id(), List.of("bob")))).isEmpty();
  }

  @Test
  void lastMessageIdFollowsAppends() throws Exception {
    Conversation g = group("alice", "bob");
    Conversation quiet = group("alice");
    String tag = Long.toString(g.id());
    assertThat(await(conversations().get(g.id())).orElseThrow().lastMessageId()).isZero();

    ChatMessage m1 = send(g.id(), "alice", tag + "-1");
    assertThat(await(conversations().get(g.id())).orElseThrow().lastMessageId()).isEqualTo(m1.serverId());
    ChatMessage m2 = send(g.id(), "bob", tag + "-2");
    Conversation loaded = await(conversations().get(g.id())).orElseThrow();
    assertThat(loaded.lastMessageId()).isEqualTo(m2.serverId());
    assertThat(loaded.activity()).isEqualTo(m2.serverId());

    // a duplicate does not move the mark
    send(g.id(), "alice", tag + "-1");
    assertThat(await(conversations().get(g.id())).orElseThrow().lastMessageId()).isEqualTo(m2.serverId());

    List<UserConversation> list = await(conversations().listForUser("alice"));
    assertThat(list).filteredOn(uc -> uc.conversation().id() == g.id())
        .singleElement().satisfies(uc -> assertThat(uc.conversation().lastMessageId()).isEqualTo(m2.serverId()));
    assertThat(list).filteredOn(uc -> uc.conversation().id() == quiet.id())
        .singleElement().satisfies(uc -> assertThat(uc.conversation().lastMessageId()).isZero());
  }


  protected static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(5, SECONDS);
  }

  /** The failure of a future that must fail, unwrapped. */
  protected static Throwable failureOf(Future<?> future) {
    Throwable t = catchThrowable(() -> await(future));
    assertThat(t).as("expected a failure").isInstanceOf(ExecutionException.class);
    return t.getCause();
  }

  protected static ErrorCode codeOf(Future<?> future) {
    Throwable cause = failureOf(future);
    assertThat(cause).isInstanceOf(ParleyException.class);
    return ((ParleyException) cause).code();
  }

  protected Conversation group(String owner, String... members) throws Exception {
    return await(conversations().createGroup(IDS.next(), "g", owner, List.of(members), System.currentTimeMillis()));
  }

  @Test
  void createGroupStoresTheGroupWithItsOwner() throws Exception {
    long id = IDS.next();
    long now = System.currentTimeMillis();
    Conversation c = await(conversations().createGroup(id, "Team", "alice", List.of("bob", "carol", "alice", "bob"), now));

    assertThat(c.id()).isEqualTo(id);
    assertThat(c.type()).isEqualTo(Conversation.GROUP);
    assertThat(c.isDm()).isFalse();
    assertThat(c.name()).isEqualTo("Team");
    assertThat(c.owner()).isEqualTo("alice");
    assertThat(c.createdAt()).isEqualTo(now);
    assertThat(c.membersCount()).isEqualTo(3);
    assertThat(c.lastMessageId()).isZero();
    assertThat(c.members()).containsExactlyInAnyOrder("alice", "bob", "carol");

    Conversation loaded = await(conversations().get(id)).orElseThrow();
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
    Conversation c = await(conversations().createGroup(IDS.next(), "solo", "dave", List.of(), 1L));
    assertThat(c.members()).containsExactly("dave");
    assertThat(c.membersCount()).isEqualTo(1);
    assertThat(await(conversations().isMember(c.id(), "dave"))).isTrue();
  }

  @Test
  void membersAndIsMember() throws Exception {
    Conversation c = group("alice", "bob");
    assertThat(await(conversations().members(c.id()))).containsExactlyInAnyOrder("alice", "bob");
    assertThat(await(conversations().isMember(c.id(), "alice"))).isTrue();
    assertThat(await(conversations().isMember(c.id(), "bob"))).isTrue();
    assertThat(await(conversations().isMember(c.id(), "carol"))).isFalse();
    assertThat(await(conversations().isMember(c.id(), "bo"))).isFalse();
    assertThat(await(conversations().isMember(c.id(), "bobby"))).isFalse();
    Conversation other = group("carol");
    assertThat(await(conversations().isMember(other.id(), "bob"))).isFalse();
    assertThat(await(conversations().members(other.id()))).containsExactly("carol");
  }

  @Test
  void unknownConversation() throws Exception {
    long unknown = IDS.next();
    assertThat(await(conversations().get(unknown))).isEmpty();
    assertThat(await(conversations().members(unknown))).isEmpty();
    assertThat(await(conversations().isMember(unknown, "alice"))).isFalse();
    assertThat(await(conversations().removeMember(unknown, "alice"))).isFalse();
  }

  @Test
  void getOrCreateDmIsIdempotentAndSymmetric() throws Exception {
    long id = IDS.next();
    ConversationStore.Created first = await(conversations().getOrCreateDm(id, "alice", "bob", 5L));
    assertThat(first.created()).isTrue();
    Conversation dm = first.conversation();
    assertThat(dm.id()).isEqualTo(id);
    assertThat(dm.isDm()).isTrue();
    assertThat(dm.type()).isEqualTo(Conversation.DM);
    assertThat(dm.membersCount()).isEqualTo(2);
    assertThat(dm.members()).containsExactlyInAnyOrder("alice", "bob");
    assertThat(dm.createdAt()).isEqualTo(5L);

    ConversationStore.Created again = await(conversations().getOrCreateDm(IDS.next(), "alice", "bob", 6L));
    assertThat(again.created()).isFalse();
    assertThat(again.conversation().id()).isEqualTo(id);
    assertThat(again.conversation().createdAt()).isEqualTo(5L);
    assertThat(again.conversation().members()).containsExactlyInAnyOrder("alice", "bob");

    ConversationStore.Created reversed = await(conversations().getOrCreateDm(IDS.next(), "bob", "alice", 7L));
    assertThat(reversed.created()).isFalse();
    assertThat(reversed.conversation().id()).isEqualTo(id);

    Conversation loaded = await(conversations().get(id)).orElseThrow();
    assertThat(loaded.isDm()).isTrue();
    assertThat(loaded.members()).containsExactlyInAnyOrder("alice", "bob");
    assertThat(await(conversations().isMember(id, "alice"))).isTrue();
    assertThat(await(conversations().isMember(id, "bob"))).isTrue();
  }

  @Test
  void distinctPairsGetDistinctDms() throws Exception {
    ConversationStore.Created ab = await(conversations().getOrCreateDm(IDS.next(), "alice", "bob", 1L));
    ConversationStore.Created ac = await(conversations().getOrCreateDm(IDS.next(), "alice", "carol", 1L));
    ConversationStore.Created bc = await(conversations().getOrCreateDm(IDS.next(), "carol", "bob", 1L));
    // pairs whose concatenations coincide must not collide
    ConversationStore.Created x1 = await(conversations().getOrCreateDm(IDS.next(), "ab", "c", 1L));
    ConversationStore.Created x2 = await(conversations().getOrCreateDm(IDS.next(), "a", "bc", 1L));
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
    Conversation after = await(conversations().addMembers(g.id(), List.of("bob", "carol", "carol", "dave"), 10, 9L));
    assertThat(after.id()).isEqualTo(g.id());
    assertThat(after.membersCount()).isEqualTo(4);
    assertThat(after.members()).containsExactlyInAnyOrder("alice", "bob", "carol", "dave");
    assertThat(await(conversations().members(g.id()))).containsExactlyInAnyOrder("alice", "bob", "carol", "dave");
    assertThat(await(conversations().isMember(g.id(), "dave"))).isTrue();
    assertThat(await(conversations().get(g.id())).orElseThrow().membersCount()).isEqualTo(4);

    Conversation same = await(conversations().addMembers(g.id(), List.of("alice", "bob"), 10, 10L));
    assertThat(same.membersCount()).isEqualTo(4);
    assertThat(same.members()).hasSize(4);
    assertThat(await(conversations().listForUser("carol"))).extracting(uc -> uc.conversation().id()).contains(g.id());
  }

  @Test
  void addMembersUpToTheCapSucceeds() throws Exception {
    Conversation g = group("alice", "bob");
    Conversation full = await(conversations().addMembers(g.id(), List.of("carol", "dave"), 4, 1L));
    assertThat(full.membersCount()).isEqualTo(4);
    // re-adding members of a full group is not growth
    Conversation still = await(conversations().addMembers(g.id(), List.of("carol"), 4, 1L));
    assertThat(still.membersCount()).isEqualTo(4);
  }

  @Test
  void addMembersPastTheCapFailsAndAddsNobody() throws Exception {
    Conversation g = group("alice", "bob", "carol");
    assertThat(codeOf(conversations().addMembers(g.id(), List.of("dave", "erin"), 4, 1L))).isEqualTo(ErrorCode.GROUP_TOO_LARGE);
    assertThat(await(conversations().members(g.id()))).containsExactlyInAnyOrder("alice", "bob", "carol");
    assertThat(await(conversations().get(g.id())).orElseThrow().membersCount()).isEqualTo(3);
    assertThat(await(conversations().isMember(g.id(), "dave"))).isFalse();
    assertThat(await(conversations().listForUser("dave"))).isEmpty();
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
    await(Future.join(all).otherwiseEmpty());
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
    assertThat(await(conversations().members(g.id()))).hasSize(cap);
    assertThat(await(conversations().get(g.id())).orElseThrow().membersCount()).isEqualTo(cap);
  }

  @Test
  void removeMember() throws Exception {
    Conversation g = group("alice", "bob", "carol");
    assertThat(await(conversations().removeMember(g.id(), "bob"))).isTrue();
    assertThat(await(conversations().removeMember(g.id(), "bob"))).isFalse();
    assertThat(await(conversations().removeMember(g.id(), "zoe"))).isFalse();
    assertThat(await(conversations().isMember(g.id(), "bob"))).isFalse();
    assertThat(await(conversations().members(g.id()))).containsExactlyInAnyOrder("alice", "carol");
    Conversation loaded = await(conversations().get(g.id())).orElseThrow();
    assertThat(loaded.membersCount()).isEqualTo(2);
    assertThat(loaded.members()).containsExactlyInAnyOrder("alice", "carol");
    assertThat(await(conversations().listForUser("bob"))).extracting(uc -> uc.conversation().id()).doesNotContain(g.id());

    // a removed member can be added back
    Conversation back = await(conversations().addMembers(g.id(), List.of("bob"), 10, 2L));
    assertThat(back.membersCount()).isEqualTo(3);
    assertThat(await(conversations().isMember(g.id(), "bob"))).isTrue();
  }

  @Test
  void removedSlotsFreeCapacity() throws Exception {
    Conversation g = group("alice", "bob", "carol");
    assertThat(await(conversations().removeMember(g.id(), "carol"))).isTrue();
    Conversation after = await(conversations().addMembers(g.id(), List.of("dave"), 3, 1L));
    assertThat(after.membersCount()).isEqualTo(3);
  }

  @Test
  void listForUser() throws Exception {
    Conversation g1 = group("alice", "bob");
    Conversation g2 = group("carol", "alice");
    Conversation g3 = group("carol", "bob");
    Conversation dm = await(conversations().getOrCreateDm(IDS.next(), "zed", "alice", 1L)).conversation();

    List<UserConversation> mine = await(conversations().listForUser("alice"));
    assertThat(mine).extracting(uc -> uc.conversation().id()).containsExactlyInAnyOrder(g1.id(), g2.id(), dm.id());
    assertThat(mine).extracting(UserConversation::lastReadId).containsOnly(0L);
    UserConversation dmEntry = mine.stream().filter(uc -> uc.conversation().id() == dm.id()).findFirst().orElseThrow();
    assertThat(dmEntry.conversation().isDm()).isTrue();
    assertThat(dmEntry.conversation().members()).containsExactlyInAnyOrder("alice", "zed");

    assertThat(await(conversations().listForUser("bob"))).extracting(uc -> uc.conversation().id())
        .containsExactlyInAnyOrder(g1.id(), g3.id());
    assertThat(await(conversations().listForUser("nobody"))).isEmpty();
    // user ids that are prefixes or extensions of a member's do not match
    assertThat(await(conversations().listForUser("ali"))).isEmpty();
    assertThat(await(conversations().listForUser("alice2"))).isEmpty();
  }

  @Test
  void markReadOnlyRaisesTheMark() throws Exception {
    Conversation g = group("alice", "bob");
    await(conversations().markRead("alice", g.id(), 100));
    assertThat(readMark("alice", g.id())).contains(100L);
    assertThat(readMark("bob", g.id())).contains(0L);

    await(conversations().markRead("alice", g.id(), 50));
    assertThat(readMark("alice", g.id())).contains(100L);
    await(conversations().markRead("alice", g.id(), 100));
    assertThat(readMark("alice", g.id())).contains(100L);
    await(conversations().markRead("alice", g.id(), 101));
    assertThat(readMark("alice", g.id())).contains(101L);
  }

  @Test
  void markReadIsPerConversation() throws Exception {
    Conversation g1 = group("alice", "bob");
    Conversation g2 = group("alice", "bob");
    await(conversations().markRead("alice", g1.id(), 10));
    assertThat(readMark("alice", g1.id())).contains(10L);
    assertThat(readMark("alice", g2.id())).contains(0L);
  }

  @Test
  void markReadByANonMemberDoesNotMakeThemOne() throws Exception {
    Conversation g = group("alice", "bob");
    await(conversations().markRead("mallory", g.id(), 10));
    assertThat(await(conversations().isMember(g.id(), "mallory"))).isFalse();
    assertThat(await(conversations().listForUser("mallory"))).isEmpty();
    assertThat(await(conversations().members(g.id()))).containsExactlyInAnyOrder("alice", "bob");
  }

  protected Optional<Long> readMark(String user, long conv) throws Exception {
    return await(conversations().listForUser(user)).stream()
        .filter(uc -> uc.conversation().id() == conv)
        .map(UserConversation::lastReadId)
        .findFirst();
  }
}
