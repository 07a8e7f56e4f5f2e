package io.parley.storage.embedded;

import io.parley.history.MessageStore;
import io.parley.history.MessageStoreContract;
import io.parley.protocol.ChatMessage;
import io.parley.routing.MessageLog.Appended;
import io.parley.routing.MessageLog.NewMessage;
import io.parley.testing.Await;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@link MessageStoreContract} against {@link RocksMessageStore}, writing through its log side. */
class RocksMessageStoreTest extends MessageStoreContract {
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
  protected MessageStore store() {
    return rocks.messages;
  }

  @Override
  protected List<ChatMessage> write(List<NewMessage> messages) throws Exception {
    return Await.result(rocks.messages.append(messages)).stream().map(Appended::message).toList();
  }
}
