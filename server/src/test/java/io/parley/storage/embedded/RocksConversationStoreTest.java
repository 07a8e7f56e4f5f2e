package io.parley.storage.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.history.Conversation;
import io.parley.history.ConversationStore;
import io.parley.history.ConversationStoreContract;
import io.parley.protocol.ChatMessage;
import io.parley.routing.MessageLog.NewMessage;
import io.parley.testing.Await;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@link ConversationStoreContract} against {@link RocksConversationStore}, plus the embedded
 * specifics: {@code lastMessageId} (and so activity order) follows messages appended through
 * {@link RocksMessageStore}; conversations, members, DMs and read marks survive a reopen; the id
 * floor covers conversation ids.
 */
class RocksConversationStoreTest extends ConversationStoreContract {
  @TempDir
  Path dir;
  private RocksFixture rocks;

  @BeforeEach
  void setUp() {
    rocks = new RocksFixture(dir);
  }

  @AfterEach
  void tearDown() throws Exception {
    rocks.close();
  }

  @Override
  protected ConversationStore conversations() {
    return rocks.conversations;
  }

  @Override
  protected ChatMessage send(long conv, String from, String msgId) throws Exception {
    return Await.result(rocks.messages.append(List.of(new NewMessage(from, msgId, conv, "hi", null)))).get(0).message();
  }

  @Test
  void lastMessageIdOfDm() throws Exception {
    Conversation dm = Await.result(conversations().getOrCreateDm(IDS.next(), "alice", "bob", 1L)).conversation();
    ChatMessage m = send(dm.id(), "bob", "x");
    ConversationStore.Created again = Await.result(conversations().getOrCreateDm(IDS.next(), "bob", "alice", 2L));
    assertThat(again.created()).isFalse();
    assertThat(again.conversation().lastMessageId()).isEqualTo(m.serverId());
  }

  @Test
  void conversationsSurviveReopen() throws Exception {
    Conversation g = group("alice", "bob", "carol");
    Await.result(conversations().removeMember(g.id(), "carol"));
    Await.result(conversations().markRead("bob", g.id(), 77));
    Conversation dm = Await.result(conversations().getOrCreateDm(IDS.next(), "alice", "dave", 1L)).conversation();
    ChatMessage m = send(g.id(), "alice", "m");

    rocks.reopen();

    Conversation loaded = Await.result(conversations().get(g.id())).orElseThrow();
    assertThat(loaded.members()).containsExactlyInAnyOrder("alice", "bob");
    assertThat(loaded.membersCount()).isEqualTo(2);
    assertThat(loaded.lastMessageId()).isEqualTo(m.serverId());
    assertThat(readMark("bob", g.id())).contains(77L);
    ConversationStore.Created again = Await.result(conversations().getOrCreateDm(IDS.next(), "dave", "alice", 2L));
    assertThat(again.created()).isFalse();
    assertThat(again.conversation().id()).isEqualTo(dm.id());
  }

  @Test
  void idFloorCoversConversationIds() throws Exception {
    Conversation g = group("alice");
    assertThat(rocks.storage.idFloor()).isGreaterThanOrEqualTo(g.id());
    rocks.reopen();
    assertThat(rocks.storage.idFloor()).isGreaterThanOrEqualTo(g.id());
    assertThat(rocks.ids.next()).isGreaterThan(g.id());
  }
}
