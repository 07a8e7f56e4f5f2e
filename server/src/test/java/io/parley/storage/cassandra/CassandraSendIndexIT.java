package io.parley.storage.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.parley.protocol.ChatMessage;
import io.parley.testing.Await;
import io.vertx.core.Future;
import java.time.Duration;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link CassandraSendIndex} on a real Cassandra: {@code find} returns the message a
 * (sender, msg id) was archived as, the first copy when a retried copy reached the log too, also
 * while only its dedupe row is written; empty for another sender or an unknown msg id.
 */
class CassandraSendIndexIT {
  private static final AtomicLong SEQ = new AtomicLong();
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


  private static final Duration STEP = Duration.ofSeconds(30);

  private static CassandraSendIndex index() {
    return cassandra.sendIndex;
  }

  /** A message as the cluster profile reads it from the log: server id already assigned. */
  private static ChatMessage msg(long conv, String from, String body) {
    String msgId = "m-" + SEQ.incrementAndGet();
    JsonArray media = new JsonArray().add(new JsonObject().put("url", "https://x/" + msgId + ".jpg").put("w", 10));
    return new ChatMessage(conv, cassandra.ids.next(), from, msgId, body, media, System.currentTimeMillis());
  }

  /** The same send under another server id: what a retried send looks like when it reached the log twice. */
  private static ChatMessage again(ChatMessage m) {
    return new ChatMessage(m.conv(), cassandra.ids.next(), m.from(), m.msgId(), m.body() + " (retried)", m.media(), m.ts() + 1);
  }

  private static List<Boolean> persist(ChatMessage... batch) throws Exception {
    List<ChatMessage> originals = Await.result(cassandra.archive.persist(List.of(batch)), STEP);
    return java.util.stream.IntStream.range(0, batch.length)
        .mapToObj(i -> originals.get(i).serverId() == batch[i].serverId()).toList();
  }

  @Test
  void findReturnsTheOriginalAndEmptyForUnknownSends() throws Exception {
    long conv = cassandra.ids.next();
    ChatMessage m = msg(conv, "alice", "find me \u00e9");
    assertThat(Await.result(index().find("alice", m.msgId()), STEP)).isEmpty();

    assertThat(persist(m)).containsExactly(true);
    assertThat(persist(again(m))).containsExactly(false);

    assertThat(Await.result(index().find("alice", m.msgId()), STEP)).contains(m);
    assertThat(Await.result(index().find("bob", m.msgId()), STEP)).isEmpty();
    assertThat(Await.result(index().find("alice", "never-sent-" + SEQ.incrementAndGet()), STEP)).isEmpty();
  }

  @Test
  void findReturnsTheOriginalWhileOnlyItsDedupeRowIsWritten() throws Exception {
    ChatMessage m = msg(cassandra.ids.next(), "bob", "half written");
    // an archive that died between the dedupe row and the message row
    Await.result(cassandra.client.execute(SimpleStatement.newInstance("INSERT INTO " + cassandra.names.messageDedupe()
        + " (sender, client_msg_id, conversation_id, message_id, frame) VALUES (?, ?, ?, ?, ?)",
        m.from(), m.msgId(), m.conv(), m.serverId(), m.toFrame())), STEP);
    assertThat(Await.result(cassandra.messages.get(m.conv(), m.serverId()), STEP)).isEmpty();

    assertThat(Await.result(index().find("bob", m.msgId()), STEP)).contains(m);
  }
}
