package io.parley.storage.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.routing.MessageLog;
import io.parley.routing.MessageLog.Appended;
import io.parley.routing.MessageLog.NewMessage;
import io.parley.routing.MessageLogContract;
import io.parley.testing.Await;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link MessageLogContract} against {@link CassandraMessageStore}, plus: a duplicate is
 * stored once; dedupe holds for a second store instance on the same keyspace (as after a restart,
 * or on another node).
 */
class CassandraMessageLogIT extends MessageLogContract {
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
  protected io.parley.history.MessageStore readBack() {
    return cassandra.messages;
  }

  @Override
  protected MessageLog log() {
    return cassandra.messages;
  }

  @Test
  void dedupeHoldsAcrossStoreInstances() throws Exception {
    long conv = newConv();
    NewMessage m = msg("alice", conv, "from node one");
    Appended original = append(m).get(0);

    CassandraMessageStore other = Await.result(CassandraMessageStore.create(cassandra.client, cassandra.names,
        new io.parley.protocol.Ids(4)));
    Appended retried = Await.result(other.append(java.util.List.of(m))).get(0);

    assertThat(retried.duplicate()).isTrue();
    assertThat(retried.message().serverId()).isEqualTo(original.message().serverId());
    assertThat(retried.frame()).isEqualTo(original.frame());
  }
}
