package io.parley.storage.cassandra;

import io.parley.history.MessageStore;
import io.parley.history.MessageStoreContract;
import io.parley.protocol.ChatMessage;
import io.parley.routing.MessageLog.Appended;
import io.parley.routing.MessageLog.NewMessage;
import io.parley.testing.Await;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Runs {@link MessageStoreContract} against {@link CassandraMessageStore}, writing through its log side. */
class CassandraMessageStoreIT extends MessageStoreContract {
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

  @Override
  protected MessageStore store() {
    return cassandra.messages;
  }

  @Override
  protected List<ChatMessage> write(List<NewMessage> messages) throws Exception {
    return Await.result(cassandra.messages.append(messages)).stream().map(Appended::message).toList();
  }
}
