package io.parley.storage.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.history.MessageStore;
import io.parley.history.MessageStoreContract;
import io.parley.protocol.ChatMessage;
import io.parley.routing.MessageLog.NewMessage;
import java.util.ArrayList;
import io.parley.testing.Await;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Runs {@link MessageStoreContract} against {@link CassandraMessageStore}, writing through
 * {@link CassandraMessageArchive} as routing does: each message gets its server id first (as the
 * log gives it), then is persisted.
 */
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
    List<ChatMessage> batch = new ArrayList<>(messages.size());
    for (NewMessage m : messages) {
      batch.add(new ChatMessage(m.conv(), cassandra.ids.next(), m.from(), m.msgId(), m.body(), m.media(),
          System.currentTimeMillis()));
    }
    assertThat(Await.result(cassandra.archive.persist(batch))).isEqualTo(batch);
    return batch;
  }
}
