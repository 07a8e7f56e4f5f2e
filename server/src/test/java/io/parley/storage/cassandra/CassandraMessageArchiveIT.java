package io.parley.storage.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.servererrors.InvalidQueryException;
import io.parley.history.Conversation;
import io.parley.history.MessagePage;
import io.parley.history.StoredMessage;
import io.parley.protocol.ChatMessage;
import io.parley.routing.LogSource;
import io.parley.routing.MessageLog.NewMessage;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntToLongFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link CassandraMessageArchive}, the cluster profile's {@link io.parley.routing.MessageArchive},
 * on a real Cassandra (read back through {@link CassandraMessageStore} and
 * the dedupe table): messages that already carry their server id are stored under it, readable in
 * id order; persisting again (a log record re-read after a crash or rebalance) is idempotent and
 * the message is its own original; the same (sender, msg id) under another id (a retried send that
 * reached the log twice, also in another conversation) gets the first message back and is not
 * stored, also inside one batch; dedupe rows hold only the key, conversation, id and ts, with the
 * TTL; {@code last_message_id} ends at the newest stored id and never goes back; a failed batch is
 * retried safely.
 */
class CassandraMessageArchiveIT {
  /** Deadline of one step against Cassandra here. */
  private static final Duration STEP = Duration.ofSeconds(30);
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

  private static CassandraMessageArchive archive() {
    return cassandra.archive;
  }

  private static CassandraMessageStore store() {
    return cassandra.messages;
  }

  private static long newConv() {
    return cassandra.ids.next();
  }

  private static Conversation group(String owner, String... members) throws Exception {
    return Await.result(cassandra.conversations.createGroup(cassandra.ids.next(), "g", owner, List.of(members),
        System.currentTimeMillis()), STEP);
  }

  private static long lastMessageId(long conv) throws Exception {
    return Await.result(cassandra.conversations.get(conv), STEP).orElseThrow().lastMessageId();
  }

  /** A message as the cluster profile reads it from the log: server id already assigned. */
  private static ChatMessage msg(long conv, String from, String body) {
    return msg(conv, cassandra.ids.next(), from, "m-" + SEQ.incrementAndGet(), body);
  }

  private static ChatMessage msg(long conv, long id, String from, String msgId, String body) {
    JsonArray media = new JsonArray().add(new JsonObject().put("url", "https://x/" + msgId + ".jpg").put("w", 10));
    return new ChatMessage(conv, id, from, msgId, body, media, System.currentTimeMillis());
  }

  /** The same send under another server id: what a retried send looks like when it reached the log twice. */
  private static ChatMessage again(ChatMessage m) {
    return new ChatMessage(m.conv(), cassandra.ids.next(), m.from(), m.msgId(), m.body() + " (retried)", m.media(), m.ts() + 1);
  }

  /** Per message, whether it is stored under its own id (its original is itself). */
  private static List<Boolean> persist(ChatMessage... batch) throws Exception {
    return storedUnderOwnId(List.of(batch), Await.result(archive().persist(List.of(batch)), STEP));
  }

  private static List<Boolean> storedUnderOwnId(List<ChatMessage> batch, List<ChatMessage> originals) {
    assertThat(originals).hasSameSizeAs(batch);
    List<Boolean> out = new ArrayList<>();
    for (int i = 0; i < batch.size(); i++) {
      out.add(originals.get(i).serverId() == batch.get(i).serverId());
    }
    return out;
  }

  private static List<ChatMessage> originals(ChatMessage... batch) throws Exception {
    return Await.result(archive().persist(List.of(batch)), STEP);
  }

  private static List<StoredMessage> history(long conv) throws Exception {
    MessagePage page = Await.result(store().after(conv, 0, 1000), STEP);
    assertThat(page.more()).isFalse();
    return page.messages();
  }

  private static List<Long> ids(List<StoredMessage> messages) {
    return messages.stream().map(StoredMessage::serverId).toList();
  }

  @Test
  void persistedMessagesAreReadableInIdOrder() throws Exception {
    long conv = newConv();
    ChatMessage m1 = msg(conv, "alice", "one");
    ChatMessage m2 = msg(conv, "bob", "two \uD83D\uDE00 \"q\"");
    ChatMessage m3 = msg(conv, "alice", "three");

    assertThat(persist(m2, m3, m1)).containsExactly(true, true, true);

    List<StoredMessage> oldestFirst = history(conv);
    assertThat(ids(oldestFirst)).containsExactly(m1.serverId(), m2.serverId(), m3.serverId());
    assertThat(oldestFirst).extracting(StoredMessage::frame).containsExactly(m1.toFrame(), m2.toFrame(), m3.toFrame());
    assertThat(oldestFirst).extracting(StoredMessage::from).containsExactly("alice", "bob", "alice");
    MessagePage newestFirst = Await.result(store().before(conv, Long.MAX_VALUE, 10), STEP);
    assertThat(ids(newestFirst.messages())).containsExactly(m3.serverId(), m2.serverId(), m1.serverId());
    assertThat(Await.result(store().get(conv, m2.serverId()), STEP).orElseThrow().frame()).isEqualTo(m2.toFrame());
    assertThat(ChatMessage.fromFrame(oldestFirst.get(1).frame())).isEqualTo(m2);
  }

  @Test
  void aReaderSeesABatchsNewMessagesAppearInIdOrderNeverANewerOneWithoutTheOlder() throws Exception {
    int reads = 0;
    for (int round = 0; round < 5; round++) {
      long conv = newConv();
      List<ChatMessage> batch = new ArrayList<>();
      for (int i = 0; i < 3 * CassandraMessageArchive.ROWS_PER_WRITE + 10; i++) {
        batch.add(msg(conv, i % 2 == 0 ? "alice" : "bob", "m" + i));
      }
      List<Long> all = batch.stream().map(ChatMessage::serverId).toList();
      Future<List<ChatMessage>> persisted = archive().persist(batch);
      while (true) {
        boolean done = persisted.isComplete();
        List<Long> seen = ids(history(conv));
        reads++;
        // what is readable is always the oldest part of the batch, whole
        assertThat(seen).as("round %d, read %d", round, reads).containsExactlyElementsOf(all.subList(0, seen.size()));
        if (done) {
          assertThat(seen).containsExactlyElementsOf(all);
          break;
        }
      }
      assertThat(storedUnderOwnId(batch, Await.result(persisted, STEP))).containsOnly(true);
    }
    System.out.printf("[archive] %d history reads while batches were written%n", reads);
  }

  @Test
  void persistingTheSameBatchAgainIsTrueAndStoresOnce() throws Exception {
    long conv = newConv();
    ChatMessage m1 = msg(conv, "alice", "one");
    ChatMessage m2 = msg(conv, "bob", "two");

    assertThat(persist(m1, m2)).containsExactly(true, true);
    assertThat(persist(m1, m2)).containsExactly(true, true);
    assertThat(persist(m2)).containsExactly(true);

    List<StoredMessage> stored = history(conv);
    assertThat(ids(stored)).containsExactly(m1.serverId(), m2.serverId());
    assertThat(stored).extracting(StoredMessage::frame).containsExactly(m1.toFrame(), m2.toFrame());
  }

  @Test
  void theSameBatchPersistedConcurrentlyIsTrueForBoth() throws Exception {
    // a rebalance can let two consumers work on the same records at once
    long conv = newConv();
    List<ChatMessage> batch = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      batch.add(msg(conv, i % 2 == 0 ? "alice" : "bob", "c" + i));
    }
    Future<List<ChatMessage>> one = archive().persist(batch);
    Future<List<ChatMessage>> two = archive().persist(batch);

    assertThat(Await.result(one, STEP)).containsExactlyElementsOf(batch);
    assertThat(Await.result(two, STEP)).containsExactlyElementsOf(batch);
    assertThat(ids(history(conv))).containsExactlyElementsOf(batch.stream().map(ChatMessage::serverId).toList());
  }

  @Test
  void theSameSendUnderAnotherIdIsFalseAndNotStored() throws Exception {
    long conv = newConv();
    ChatMessage original = msg(conv, "alice", "original");
    assertThat(persist(original)).containsExactly(true);

    ChatMessage retried = again(original);
    ChatMessage other = msg(conv, "bob", "unrelated");
    // the retry's original comes back whole: the first id, body, media and ts
    assertThat(originals(retried, other)).containsExactly(original, other);
    // and it stays rejected when that batch is read again
    assertThat(persist(retried, other)).containsExactly(false, true);

    assertThat(ids(history(conv))).containsExactly(original.serverId(), other.serverId());
    assertThat(history(conv).get(0).frame()).isEqualTo(original.toFrame());
    assertThat(Await.result(store().get(conv, retried.serverId()), STEP)).isEmpty();
  }

  @Test
  void aRetryInAnotherConversationGetsTheOriginalOfTheFirst() throws Exception {
    // a client reusing its msg id in another conversation: the first one's message is the original
    ChatMessage original = msg(newConv(), "carol", "first conversation");
    assertThat(persist(original)).containsExactly(true);
    ChatMessage elsewhere = new ChatMessage(newConv(), cassandra.ids.next(), "carol", original.msgId(), "second", null,
        System.currentTimeMillis());

    assertThat(originals(elsewhere)).containsExactly(original);
    assertThat(history(elsewhere.conv())).isEmpty();
  }

  @Test
  void dedupeRowsAreSlimAndExpire() throws Exception {
    ChatMessage m = msg(newConv(), "dave", "slim");
    assertThat(persist(m)).containsExactly(true);

    var rows = Await.result(cassandra.client.executeWithFullFetch(SimpleStatement.newInstance(
        "SELECT conversation_id, message_id, ts, TTL(ts) AS ttl FROM " + cassandra.names.messageOriginals()
            + " WHERE sender = ? AND client_msg_id = ?", "dave", m.msgId())), STEP);
    assertThat(rows).hasSize(1);
    assertThat(rows.get(0).getLong("conversation_id")).isEqualTo(m.conv());
    assertThat(rows.get(0).getLong("message_id")).isEqualTo(m.serverId());
    assertThat(rows.get(0).getLong("ts")).isEqualTo(m.ts());
    assertThat(rows.get(0).getInt("ttl")).isBetween(CassandraMessageArchive.DEFAULT_DEDUPE_TTL_S - 60,
        CassandraMessageArchive.DEFAULT_DEDUPE_TTL_S);
    assertThat(rows.get(0).getColumnDefinitions().size()).as("key, conversation, id, ts only").isEqualTo(4);
  }

  @Test
  void aDifferentSenderWithTheSameMsgIdIsAnotherMessage() throws Exception {
    long conv = newConv();
    ChatMessage a = msg(conv, cassandra.ids.next(), "alice", "same-" + SEQ.incrementAndGet(), "from alice");
    ChatMessage b = msg(conv, cassandra.ids.next(), "bob", a.msgId(), "from bob");

    assertThat(persist(a, b)).containsExactly(true, true);
    assertThat(ids(history(conv))).containsExactly(a.serverId(), b.serverId());
  }

  @Test
  void inBatchDuplicatesResolveToTheFirstOccurrence() throws Exception {
    long conv = newConv();
    ChatMessage m = msg(conv, "alice", "first");
    ChatMessage retried = again(m);
    ChatMessage n = msg(conv, "bob", "next");

    // the second copy of the same record is true, the retried send under another id is false
    assertThat(persist(m, retried, m, n, retried)).containsExactly(true, false, true, true, false);
    assertThat(ids(history(conv))).containsExactly(m.serverId(), n.serverId());
    assertThat(history(conv).get(0).frame()).isEqualTo(m.toFrame());
  }

  @Test
  void aLaterOccurrenceWithTheStoredIdIsTrueWhenTheFirstIsRejected() throws Exception {
    long conv = newConv();
    ChatMessage m = msg(conv, "alice", "stored earlier");
    assertThat(persist(m)).containsExactly(true);
    ChatMessage retried = again(m);

    assertThat(persist(retried, m)).containsExactly(false, true);
    assertThat(ids(history(conv))).containsExactly(m.serverId());
  }

  /** A writer that died between the dedupe row and the message row. */
  private static void writeDedupeRowOnly(ChatMessage m) throws Exception {
    Await.result(cassandra.client.execute(SimpleStatement.newInstance("INSERT INTO " + cassandra.names.messageOriginals()
        + " (sender, client_msg_id, conversation_id, message_id, ts) VALUES (?, ?, ?, ?, ?)",
        m.from(), m.msgId(), m.conv(), m.serverId(), m.ts())), STEP);
  }

  @Test
  void aMissingMessageRowIsRepairedByPersistingAgain() throws Exception {
    long conv = newConv();
    ChatMessage m = msg(conv, "alice", "half written");
    writeDedupeRowOnly(m);
    assertThat(history(conv)).isEmpty();

    assertThat(persist(m)).containsExactly(true);

    assertThat(ids(history(conv))).containsExactly(m.serverId());
    assertThat(history(conv).get(0).frame()).isEqualTo(m.toFrame());
  }

  @Test
  void aMissingMessageRowIsRepairedAlsoBehindARejectedCopyInTheBatch() throws Exception {
    long conv = newConv();
    ChatMessage m = msg(conv, "alice", "half written");
    writeDedupeRowOnly(m);

    assertThat(persist(again(m), m)).containsExactly(false, true);

    assertThat(ids(history(conv))).containsExactly(m.serverId());
    assertThat(history(conv).get(0).frame()).isEqualTo(m.toFrame());
  }

  @Test
  void lastMessageIdEndsAtTheNewestStoredIdAndNeverGoesBack() throws Exception {
    Conversation g = group("alice", "bob");
    Conversation h = group("bob", "carol");
    ChatMessage older = msg(g.id(), "alice", "older, persisted late");
    ChatMessage g1 = msg(g.id(), "alice", "g1");
    ChatMessage h1 = msg(h.id(), "bob", "h1");
    ChatMessage g2 = msg(g.id(), "bob", "g2");
    ChatMessage h2 = msg(h.id(), "carol", "h2");
    assertThat(lastMessageId(g.id())).isZero();

    assertThat(persist(g2, h1, g1, h2)).containsExactly(true, true, true, true);
    assertThat(lastMessageId(g.id())).isEqualTo(g2.serverId());
    assertThat(lastMessageId(h.id())).isEqualTo(h2.serverId());

    // an older batch persisted later (another partition lagging behind) does not move it back
    assertThat(persist(older)).containsExactly(true);
    assertThat(lastMessageId(g.id())).isEqualTo(g2.serverId());
    assertThat(ids(history(g.id()))).containsExactly(older.serverId(), g1.serverId(), g2.serverId());

    // a rejected duplicate with a newer id does not move it either
    ChatMessage retried = again(g1);
    assertThat(retried.serverId()).isGreaterThan(g2.serverId());
    assertThat(persist(retried)).containsExactly(false);
    assertThat(lastMessageId(g.id())).isEqualTo(g2.serverId());

    // persisting the same batch again changes nothing
    assertThat(persist(g2, h1, g1, h2)).containsExactly(true, true, true, true);
    assertThat(lastMessageId(g.id())).isEqualTo(g2.serverId());
    assertThat(lastMessageId(h.id())).isEqualTo(h2.serverId());
  }

  @Test
  void aBatchLargerThanTheWriteWindowIsStoredWhole() throws Exception {
    Conversation[] convs = {group("alice"), group("bob"), group("carol")};
    List<ChatMessage> batch = new ArrayList<>();
    int n = CassandraMessageArchive.MAX_IN_FLIGHT * 3 + 7;
    for (int i = 0; i < n; i++) {
      batch.add(msg(convs[i % 3].id(), "u" + (i % 5), "bulk " + i));
    }
    // a retried send near the end resolves against its first occurrence in an earlier chunk
    batch.add(again(batch.get(1)));
    batch.add(batch.get(2));

    List<Boolean> result = storedUnderOwnId(batch, Await.result(archive().persist(batch), STEP));

    List<Boolean> expected = new ArrayList<>(Collections.nCopies(n, true));
    expected.add(false);
    expected.add(true);
    assertThat(result).containsExactlyElementsOf(expected);
    for (Conversation c : convs) {
      List<Long> want = batch.subList(0, n).stream().filter(m -> m.conv() == c.id()).map(ChatMessage::serverId).toList();
      assertThat(ids(history(c.id()))).containsExactlyElementsOf(want);
      assertThat(lastMessageId(c.id())).isEqualTo(want.get(want.size() - 1));
    }
  }

  @Test
  void aBatchOverManyConversationsWithLongAndShortMessagesIsStoredWholeAndDeduplicated() throws Exception {
    // more conversations than one packed write holds, and messages too long to share one
    List<Conversation> convs = new ArrayList<>();
    for (int i = 0; i < WriteBatches.MAX_PARTITIONS * 2 + 3; i++) {
      convs.add(group("alice"));
    }
    String longBody = "x".repeat(WriteBatches.MAX_BYTES + 100);
    List<ChatMessage> batch = new ArrayList<>();
    for (int i = 0; i < convs.size() * 3; i++) {
      batch.add(msg(convs.get(i % convs.size()).id(), "u" + (i % 7), i % 5 == 0 ? longBody + i : "short " + i));
    }
    assertThat(storedUnderOwnId(batch, Await.result(archive().persist(batch), STEP))).doesNotContain(false);

    for (Conversation c : convs) {
      List<ChatMessage> want = batch.stream().filter(m -> m.conv() == c.id()).toList();
      List<StoredMessage> got = history(c.id());
      assertThat(ids(got)).containsExactlyElementsOf(want.stream().map(ChatMessage::serverId).toList());
      assertThat(got.stream().map(StoredMessage::frame).toList())
          .containsExactlyElementsOf(want.stream().map(ChatMessage::toFrame).toList());
      assertThat(lastMessageId(c.id())).isEqualTo(want.get(want.size() - 1).serverId());
    }
    // every dedupe row was written: each retry, in a later batch, gets its original back
    List<ChatMessage> retries = batch.stream().map(CassandraMessageArchiveIT::again).toList();
    List<ChatMessage> originals = Await.result(archive().persist(retries), STEP);
    assertThat(originals.stream().map(ChatMessage::serverId).toList())
        .containsExactlyElementsOf(batch.stream().map(ChatMessage::serverId).toList());
  }

  @Test
  void aFailedBatchFailsWholeAndItsRetryIsIdempotent() throws Exception {
    Conversation g = group("alice");
    ChatMessage good = msg(g.id(), "alice", "good");
    // a null partition key makes the server reject this message's dedupe write
    ChatMessage bad = new ChatMessage(g.id(), cassandra.ids.next(), null, "bad-" + SEQ.incrementAndGet(), "bad", null, 1L);

    Throwable t = catchThrowable(() -> Await.result(archive().persist(List.of(good, bad)), STEP));
    assertThat(t).isInstanceOf(CompletionException.class).hasCauseInstanceOf(InvalidQueryException.class);
    assertThat(lastMessageId(g.id())).as("marks are raised only once every message is written").isZero();

    assertThat(persist(good)).containsExactly(true);
    assertThat(ids(history(g.id()))).containsExactly(good.serverId());
    assertThat(lastMessageId(g.id())).isEqualTo(good.serverId());
  }

  // ---- first attempts ("first": true) and retries stored ahead of them ----

  private static final AtomicInteger LOG_PARTITIONS = new AtomicInteger(100);

  private static LogSource.Logged logged(int partition, ChatMessage m, Boolean first) {
    return new LogSource.Logged(partition, m.serverId(), m, null, null, first);
  }

  /** Each record's stored original, as routing persists them: with the log's partitions and flags. */
  private static List<ChatMessage> persistLogged(CassandraMessageArchive archive, IntToLongFunction ownership,
      LogSource.Logged... records) throws Exception {
    return Await.result(archive.persistLogged(List.of(records), ownership), STEP);
  }

  private static List<Row> aheadRows(int partition) throws Exception {
    return Await.result(cassandra.client.executeWithFullFetch(SimpleStatement.newInstance("SELECT sender, client_msg_id, "
        + "conversation_id, TTL(conversation_id) AS ttl FROM " + cassandra.names.messageAhead() + " WHERE log_partition = ?",
        partition)), STEP);
  }

  @Test
  void aFirstAttemptIsNotLookedUpUnlessARetryOfItWasStoredAheadOfIt() throws Exception {
    int p = LOG_PARTITIONS.incrementAndGet();
    IntToLongFunction owned = q -> 1;
    CassandraMessageArchive node = Await.result(CassandraMessageArchive.create(cassandra.client, cassandra.names), STEP);
    long conv = newConv();

    // not looked up: a first attempt whose msg_id was stored before without a flag (against the
    // protocol) is stored under its own id. With the read it would have resolved to that message.
    ChatMessage unflagged = msg(conv, "alice", "no flag");
    assertThat(persist(unflagged)).containsExactly(true);
    ChatMessage flaggedAgain = again(unflagged);
    assertThat(persistLogged(node, owned, logged(p, flaggedAgain, true))).containsExactly(flaggedAgain);

    // a retry stored ahead of its first attempt: recorded, and the late first attempt resolves to it
    ChatMessage retry = msg(conv, "alice", "retry first");
    ChatMessage late = again(retry);
    assertThat(persistLogged(node, owned, logged(p, retry, false))).containsExactly(retry);
    assertThat(persistLogged(node, owned, logged(p, late, true))).containsExactly(retry);
    // in one batch, either way round
    ChatMessage r2 = msg(conv, "bob", "retry and first in one batch");
    ChatMessage f2 = again(r2);
    assertThat(persistLogged(node, owned, logged(p, r2, false), logged(p, f2, true))).containsExactly(r2, r2);
    ChatMessage f3 = msg(conv, "bob", "first and retry in one batch");
    ChatMessage r3 = again(f3);
    assertThat(persistLogged(node, owned, logged(p, f3, true), logged(p, r3, false))).containsExactly(f3, f3);
    // a retry of a first attempt stored before is looked up and resolves to it (not recorded)
    ChatMessage f4 = msg(conv, "carol", "first, then a retry");
    ChatMessage r4 = again(f4);
    assertThat(persistLogged(node, owned, logged(p, f4, true))).containsExactly(f4);
    assertThat(persistLogged(node, owned, logged(p, r4, false))).containsExactly(f4);

    assertThat(ids(history(conv))).containsExactly(unflagged.serverId(), flaggedAgain.serverId(), retry.serverId(),
        r2.serverId(), f3.serverId(), f4.serverId());
    List<Row> rows = aheadRows(p);
    assertThat(rows).extracting(r -> r.getString("sender") + "/" + r.getString("client_msg_id"))
        .containsExactlyInAnyOrder("alice/" + retry.msgId(), "bob/" + r2.msgId());
    assertThat(rows).allSatisfy(r -> {
      assertThat(r.getLong("conversation_id")).isEqualTo(conv);
      assertThat(r.getInt("ttl")).isBetween(CassandraMessageArchive.DEFAULT_DEDUPE_TTL_S - 300,
          CassandraMessageArchive.DEFAULT_DEDUPE_TTL_S);
    });
  }

  @Test
  void aNewOwnerOfTheLogPartitionLoadsItsRetriesStoredAheadAndSoDoesAnOwnerThatGetsItBack() throws Exception {
    int p = LOG_PARTITIONS.incrementAndGet();
    CassandraMessageArchive a = Await.result(CassandraMessageArchive.create(cassandra.client, cassandra.names), STEP);
    CassandraMessageArchive b = Await.result(CassandraMessageArchive.create(cassandra.client, cassandra.names), STEP);
    long conv = newConv();

    // a routes the partition (and loads its keys, none yet), a retry gets ahead of its first attempt there
    ChatMessage warm = msg(conv, "alice", "a first attempt on a");
    assertThat(persistLogged(a, q -> 1, logged(p, warm, true))).containsExactly(warm);
    ChatMessage retry = msg(conv, "alice", "retry on a");
    assertThat(persistLogged(a, q -> 1, logged(p, retry, false))).containsExactly(retry);
    // b gets the partition: it loads the key before routing the late first attempt
    ChatMessage late = again(retry);
    assertThat(persistLogged(b, q -> 1, logged(p, late, true))).containsExactly(retry);

    // b records another retry ahead; a, given the partition back (a new ownership), loads it again
    ChatMessage retry2 = msg(conv, "bob", "retry on b");
    assertThat(persistLogged(b, q -> 1, logged(p, retry2, false))).containsExactly(retry2);
    ChatMessage late2 = again(retry2);
    assertThat(persistLogged(a, q -> 2, logged(p, late2, true))).containsExactly(retry2);

    // a partition this node does not own (any more) is looked up in full
    ChatMessage r3 = msg(conv, "carol", "retry, unowned");
    assertThat(persistLogged(b, q -> -1, logged(p, r3, false))).containsExactly(r3);
    ChatMessage late3 = again(r3);
    assertThat(persistLogged(b, q -> -1, logged(p, late3, true))).containsExactly(r3);

    assertThat(ids(history(conv))).containsExactly(warm.serverId(), retry.serverId(), retry2.serverId(), r3.serverId());
  }
}
