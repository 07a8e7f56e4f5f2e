package io.parley.storage.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.history.Conversation;
import io.parley.history.ConversationStore;
import io.parley.history.ConversationStoreContract;
import io.parley.protocol.ChatMessage;
import io.parley.routing.MessageLog;
import io.parley.routing.MessageLog.NewMessage;
import io.parley.testing.Await;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link ConversationStoreContract} against {@link CassandraConversationStore} on a real
 * Cassandra, plus the cluster specifics: {@code lastMessageId} follows messages archived through
 * {@link CassandraMessageArchive}; the schema can be applied again; a DM pair row whose creator never
 * wrote the conversation is repaired by the next caller.
 */
class CassandraConversationStoreIT extends ConversationStoreContract {
  private static CassandraFixture cassandra;

  @BeforeAll
  static void start() throws Exception {
    cassandra = new CassandraFixture();
  }

  @AfterAll
  static void stop() throws Exception {
    if (cassandra != null) {
      cassandra.close();
    }
  }

  @BeforeEach
  void clean() throws Exception {
    cassandra.resetUsers();
  }

  @Override
  protected ConversationStore conversations() {
    return cassandra.conversations;
  }

  /** As routing stores a message read from the log: server id assigned, then archived; a retry is found, not stored. */
  @Override
  protected ChatMessage send(long conv, String from, String msgId) throws Exception {
    ChatMessage m = new ChatMessage(conv, cassandra.ids.next(), from, msgId, "hi", null, System.currentTimeMillis());
    return Await.result(cassandra.archive.persist(List.of(m))).get(0);
  }

  @Test
  void archivingToAnUnknownConversationCreatesNoConversation() throws Exception {
    long unknown = IDS.next();
    send(unknown, "alice", "u-" + unknown);
    assertThat(Await.result(conversations().get(unknown))).isEmpty();
  }

  @Test
  void applyingTheSchemaAgainChangesNothing() throws Exception {
    Conversation g = group("alice", "bob");
    Await.result(cassandra.schema.apply(cassandra.vertx, cassandra.client));
    assertThat(Await.result(conversations().get(g.id())).orElseThrow().members()).containsExactlyInAnyOrder("alice", "bob");
  }

  @Test
  void aDmPairWithoutItsConversationIsRepaired() throws Exception {
    long id = IDS.next();
    // a creator that won the pair and died before writing the conversation
    Await.result(cassandra.client.execute("INSERT INTO " + cassandra.names.dmPairs()
        + " (user_lo, user_hi, conversation_id, owner, created_at) VALUES ('gina', 'hal', " + id + ", 'hal', 42)"));

    ConversationStore.Created got = Await.result(conversations().getOrCreateDm(IDS.next(), "gina", "hal", 50L));

    assertThat(got.created()).isFalse();
    assertThat(got.conversation().id()).isEqualTo(id);
    assertThat(got.conversation().createdAt()).isEqualTo(42L);
    assertThat(got.conversation().owner()).isEqualTo("hal");
    assertThat(got.conversation().members()).containsExactlyInAnyOrder("gina", "hal");
    assertThat(Await.result(conversations().isMember(id, "gina"))).isTrue();
    assertThat(Await.result(conversations().listForUser("hal"))).extracting(uc -> uc.conversation().id()).containsExactly(id);
  }
}
