package io.parley.storage.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.parley.history.MessagePage;
import io.parley.history.StoredMessage;
import io.parley.protocol.ChatMessage;
import io.parley.protocol.Ids;
import io.parley.testing.Await;
import io.vertx.cassandra.CassandraClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link CassandraSchema}'s versioned migrations on a real Cassandra, each test in a keyspace of
 * its own: a keyspace with the first release's tables (created with the version 1 statements, no
 * version table, as every deployment before versioning) and data written as that release wrote
 * it, migrated by two starters at once and then once more, reads back through the new store and
 * archive — history pages across buckets, sync, a retry finding its original, slim dedupe rows
 * with the TTL — while the old tables stay in place; a claim whose owner died is taken over.
 */
class CassandraSchemaMigrationIT {
  private static final Duration STEP = Duration.ofSeconds(60);
  private static final long DAY = Duration.ofDays(1).toMillis();
  private final Ids ids = new Ids(5);
  private Vertx vertx;
  private CassandraClient client;
  private CassandraClient second;
  private CassandraNames names;
  private CassandraSchema schema;

  @BeforeEach
  void open() {
    String contact = env("PARLEY_CASSANDRA_CONTACT", "127.0.0.1:9042");
    String dc = env("PARLEY_CASSANDRA_DC", "datacenter1");
    int colon = contact.lastIndexOf(':');
    vertx = Vertx.vertx();
    client = CassandraClient.create(vertx, CassandraSchema.clientOptions(contact.substring(0, colon),
        Integer.parseInt(contact.substring(colon + 1)), dc, 20_000, 1));
    second = CassandraClient.create(vertx, CassandraSchema.clientOptions(contact.substring(0, colon),
        Integer.parseInt(contact.substring(colon + 1)), dc, 20_000, 1));
    names = new CassandraNames("parley_mig_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16));
    schema = new CassandraSchema(names);
  }

  @AfterEach
  void close() throws Exception {
    try {
      Await.result(schema.drop(client), STEP);
    } finally {
      Await.result(Future.join(client.close(), second.close()), STEP);
      Await.result(vertx.close(), STEP);
    }
  }

  private static String env(String name, String dflt) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? dflt : v;
  }

  private void exec(String cql, Object... values) throws Exception {
    Await.result(client.execute(SimpleStatement.newInstance(cql, values)), STEP);
  }

  /** The first release's schema, as it was created before versioning: keyspace and tables, no version table. */
  private void createVersion1() throws Exception {
    exec(schema.bootstrapStatements().get(0));
    for (String cql : schema.v1Statements()) {
      exec(cql);
    }
  }

  /** A message as the first release's archive stored it: message row and dedupe row, both with the frame. */
  private ChatMessage writeV1(long conv, String from, long ts) throws Exception {
    ChatMessage m = new ChatMessage(conv, ids.next(), from, "v1-" + UUID.randomUUID(), "body at " + ts, new JsonArray(), ts);
    exec("INSERT INTO " + names.messages() + " (conversation_id, message_id, sender, client_msg_id, frame) VALUES (?, ?, ?, ?, ?)",
        conv, m.serverId(), from, m.msgId(), m.toFrame());
    exec("INSERT INTO " + names.messageDedupe() + " (sender, client_msg_id, conversation_id, message_id, frame) VALUES (?, ?, ?, ?, ?)",
        from, m.msgId(), conv, m.serverId(), m.toFrame());
    return m;
  }

  private static List<Long> ids(List<StoredMessage> messages) {
    return messages.stream().map(StoredMessage::serverId).toList();
  }

  @Test
  void version1DataIsMigratedByTwoStartersAtOnceAndReadsBackThroughTheNewAdapters() throws Exception {
    createVersion1();
    long busy = ids.next();
    long quiet = ids.next();
    long t0 = System.currentTimeMillis() - 60 * DAY;
    // busy: runs of messages days apart (empty days between), more than a page of history;
    // quiet: two messages a month apart
    List<ChatMessage> busyMessages = new ArrayList<>();
    long[] offsets = {0, 1_000, 2_000, 3 * DAY, 3 * DAY + 10, 9 * DAY, 20 * DAY, 20 * DAY + 5, 20 * DAY + 6, 41 * DAY};
    for (int i = 0; i < offsets.length; i++) {
      busyMessages.add(writeV1(busy, i % 2 == 0 ? "alice" : "bob", t0 + offsets[i]));
    }
    ChatMessage q1 = writeV1(quiet, "carol", t0 + 5 * DAY);
    ChatMessage q2 = writeV1(quiet, "dave", t0 + 35 * DAY);

    // two nodes starting at once, then one starting later
    CassandraSchema other = new CassandraSchema(names);
    Await.result(Future.all(schema.apply(vertx, client), other.apply(vertx, second)), STEP);
    Await.result(schema.apply(vertx, client), STEP);
    assertThat(Await.result(schema.doneVersions(client), STEP)).containsExactly(1, 2, 3);

    CassandraMessageStore store = Await.result(CassandraMessageStore.create(client, names), STEP);
    List<Long> busyIds = busyMessages.stream().map(ChatMessage::serverId).toList();
    List<Long> newestFirst = new ArrayList<>(busyIds);
    Collections.reverse(newestFirst);

    // history, newest first in pages of 3, across the buckets
    List<StoredMessage> walked = new ArrayList<>();
    long cursor = Long.MAX_VALUE;
    MessagePage page;
    do {
      page = Await.result(store.before(busy, cursor, 3), STEP);
      walked.addAll(page.messages());
      if (!page.messages().isEmpty()) {
        cursor = page.messages().get(page.messages().size() - 1).serverId();
      }
    } while (page.more());
    assertThat(ids(walked)).containsExactlyElementsOf(newestFirst);
    assertThat(walked.get(0).frame()).isEqualTo(busyMessages.get(busyMessages.size() - 1).toFrame());
    assertThat(walked).extracting(StoredMessage::from).contains("alice", "bob");

    // sync from a message in the middle
    MessagePage sync = Await.result(store.after(busy, busyIds.get(4), 100), STEP);
    assertThat(ids(sync.messages())).containsExactlyElementsOf(busyIds.subList(5, busyIds.size()));
    assertThat(ids(Await.result(store.after(quiet, 0, 10), STEP).messages())).containsExactly(q1.serverId(), q2.serverId());
    assertThat(Await.result(store.get(quiet, q1.serverId()), STEP)).get().extracting(StoredMessage::frame).isEqualTo(q1.toFrame());

    // one bucket per day that had messages: 0, 3, 9, 20, 41 (the first and 20th-day runs share theirs)
    List<Row> segments = Await.result(client.executeWithFullFetch(SimpleStatement.newInstance(
        "SELECT bucket FROM " + names.messageBuckets() + " WHERE conversation_id = ?", busy)), STEP);
    List<Long> expectedBuckets = new ArrayList<>();
    for (ChatMessage m : busyMessages) {
      long b = CassandraMessageArchive.bucketOf(m.ts(), CassandraMessageArchive.DEFAULT_BUCKET_MS);
      if (expectedBuckets.isEmpty() || expectedBuckets.get(expectedBuckets.size() - 1) != b) {
        expectedBuckets.add(b);
      }
    }
    Collections.reverse(expectedBuckets);
    assertThat(segments).extracting(r -> r.getLong("bucket")).containsExactlyElementsOf(expectedBuckets);

    // a retry of a version 1 send finds its original; a new message lands after the migrated ones
    CassandraMessageArchive archive = Await.result(CassandraMessageArchive.create(client, names), STEP);
    ChatMessage original = busyMessages.get(2);
    ChatMessage retry = new ChatMessage(busy, ids.next(), original.from(), original.msgId(), "retried", null,
        System.currentTimeMillis());
    ChatMessage fresh = new ChatMessage(busy, ids.next(), "alice", "after-migration", "new", null, System.currentTimeMillis());
    assertThat(Await.result(archive.persist(List.of(retry, fresh)), STEP)).containsExactly(original, fresh);
    MessagePage newest = Await.result(store.before(busy, Long.MAX_VALUE, 2), STEP);
    assertThat(ids(newest.messages())).containsExactly(fresh.serverId(), busyIds.get(busyIds.size() - 1));

    // slim dedupe rows with the TTL; the old tables are still there
    List<Row> dedupe = Await.result(client.executeWithFullFetch(SimpleStatement.newInstance(
        "SELECT conversation_id, message_id, ts, TTL(ts) AS ttl FROM " + names.messageOriginals()
            + " WHERE sender = ? AND client_msg_id = ?", q2.from(), q2.msgId())), STEP);
    assertThat(dedupe).hasSize(1);
    assertThat(dedupe.get(0).getLong("message_id")).isEqualTo(q2.serverId());
    assertThat(dedupe.get(0).getLong("ts")).isEqualTo(q2.ts());
    assertThat(dedupe.get(0).getInt("ttl")).isBetween(CassandraMessageArchive.DEFAULT_DEDUPE_TTL_S - 300,
        CassandraMessageArchive.DEFAULT_DEDUPE_TTL_S);
    assertThat(Await.result(client.executeWithFullFetch("SELECT COUNT(*) AS n FROM " + names.messageOriginals()), STEP)
        .get(0).getLong("n")).isEqualTo(busyMessages.size() + 2 + 1);
    assertThat(Await.result(client.executeWithFullFetch("SELECT COUNT(*) AS n FROM " + names.messages()), STEP)
        .get(0).getLong("n")).as("version 1's table left in place").isEqualTo(busyMessages.size() + 2);
  }

  @Test
  void aNewKeyspaceGetsEveryVersionAndAClaimWhoseOwnerDiedIsTakenOver() throws Exception {
    Await.result(schema.apply(vertx, client), STEP);
    assertThat(Await.result(schema.doneVersions(client), STEP)).containsExactly(1, 2, 3);

    // a starter claimed version 2 long ago and died before marking it done
    exec("UPDATE " + names.schemaVersion() + " SET owner = ?, claimed_at = ?, done_at = null WHERE version = 2",
        "dead-node", System.currentTimeMillis() - 2 * CassandraSchema.LEASE_MS);
    assertThat(Await.result(schema.doneVersions(client), STEP)).containsExactly(1, 3);

    Await.result(new CassandraSchema(names).apply(vertx, second), STEP);

    assertThat(Await.result(schema.doneVersions(client), STEP)).containsExactly(1, 2, 3);
    Row row = Await.result(client.executeWithFullFetch(SimpleStatement.newInstance(
        "SELECT owner FROM " + names.schemaVersion() + " WHERE version = 2")), STEP).get(0);
    assertThat(row.getString("owner")).isNotEqualTo("dead-node");
  }
}
