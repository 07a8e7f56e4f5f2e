package io.parley.routing;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.ChatMessage;
import io.parley.routing.MessageLog.Appended;
import io.parley.routing.MessageLog.NewMessage;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Contract of the {@link MessageLog} port, run against every adapter by subclassing and supplying
 * {@link #log()}. Covers: an append returns one result per input in batch order, each with its
 * encoded {@code msg} frame; server ids
 * strictly increase per conversation within a batch and across batches; dedupe on (sender,
 * msg_id) hands back the original message (same server id, body, media, ts and encoded frame) with
 * {@code duplicate} set, inside one batch and across batches, also under concurrent retries; a
 * different sender with the same msg_id is a new message; body and media are kept verbatim.
 * Durability across a restart is adapter-specific and lives in the adapters' subclasses.
 */
@ExtendWith(VertxExtension.class)
public abstract class MessageLogContract {
  private static final AtomicLong CONV_SEQ = new AtomicLong(1_000);
  private static final AtomicLong MSG_SEQ = new AtomicLong();

  /** The adapter under test, ready for use (subclasses set it up in their own {@code @BeforeEach}). */
  protected abstract MessageLog log();

  /** Where the adapter's appended messages can be read back (every adapter so far is both). */
  protected abstract io.parley.history.MessageStore readBack();

  @Test
  void aDuplicateIsNotStoredTwice() throws Exception {
    long conv = newConv();
    NewMessage m = msg("alice", conv, "once");
    append(m, m);
    append(m);
    io.parley.history.MessagePage page = Await.result(readBack().after(conv, 0, 10));
    assertThat(page.messages()).hasSize(1);
    assertThat(page.more()).isFalse();
  }

  protected static long newConv() {
    return CONV_SEQ.incrementAndGet();
  }

  protected static String newMsgId() {
    return "m-" + MSG_SEQ.incrementAndGet() + "-" + System.nanoTime();
  }

  protected static NewMessage msg(String from, long conv, String body) {
    return new NewMessage(from, newMsgId(), conv, body, null);
  }

  protected List<Appended> append(NewMessage... batch) throws Exception {
    return Await.result(log().append(List.of(batch)));
  }

  @Test
  void emptyBatchGivesEmptyResult() throws Exception {
    assertThat(Await.result(log().append(List.of()))).isEmpty();
  }

  @Test
  void appendReturnsResultsInBatchOrderWithIncreasingIds() throws Exception {
    long conv = newConv();
    List<NewMessage> batch = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      batch.add(msg(i % 2 == 0 ? "alice" : "bob", conv, "body " + i));
    }
    long before = System.currentTimeMillis();
    List<Appended> out = Await.result(log().append(batch));
    long after = System.currentTimeMillis();

    assertThat(out).hasSize(batch.size());
    long prev = 0;
    for (int i = 0; i < batch.size(); i++) {
      NewMessage in = batch.get(i);
      Appended a = out.get(i);
      assertThat(a.duplicate()).as("result %d duplicate", i).isFalse();
      ChatMessage m = a.message();
      assertThat(m.msgId()).isEqualTo(in.msgId());
      assertThat(m.from()).isEqualTo(in.from());
      assertThat(m.conv()).isEqualTo(conv);
      assertThat(m.body()).isEqualTo(in.body());
      assertThat(m.serverId()).as("server id of result %d", i).isGreaterThan(prev);
      assertThat(m.ts()).isBetween(before - 1_000, after + 1_000);
      assertThat(a.frame()).as("frame of result %d", i).isEqualTo(m.toFrame());
      prev = m.serverId();
    }
  }

  @Test
  void idsIncreasePerConversationInMixedBatches() throws Exception {
    long c1 = newConv();
    long c2 = newConv();
    List<NewMessage> batch = List.of(msg("alice", c1, "a"), msg("bob", c2, "b"), msg("carol", c1, "c"),
        msg("alice", c2, "d"), msg("bob", c1, "e"));
    List<Appended> out = Await.result(log().append(batch));

    assertThat(out).extracting(a -> a.message().msgId()).containsExactlyElementsOf(batch.stream().map(NewMessage::msgId).toList());
    assertThat(out).extracting(a -> a.message().conv()).containsExactly(c1, c2, c1, c2, c1);
    assertThat(idsOf(out, c1)).isSorted().doesNotHaveDuplicates().hasSize(3);
    assertThat(idsOf(out, c2)).isSorted().doesNotHaveDuplicates().hasSize(2);
  }

  @Test
  void idsIncreaseAcrossBatches() throws Exception {
    long conv = newConv();
    long prev = 0;
    for (int b = 0; b < 5; b++) {
      List<Appended> out = append(msg("alice", conv, "x" + b), msg("bob", conv, "y" + b));
      for (Appended a : out) {
        assertThat(a.message().serverId()).isGreaterThan(prev);
        prev = a.message().serverId();
      }
    }
  }

  @Test
  void overlappingAppendsGetIdsInCallOrder() throws Exception {
    long conv = newConv();
    List<Future<List<Appended>>> appends = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      // not waiting for the previous one: a sender's next message goes out before the last ack
      appends.add(log().append(List.of(msg("alice", conv, "m" + i), msg("bob", conv, "n" + i))));
    }
    List<Long> ids = new ArrayList<>();
    for (Future<List<Appended>> a : appends) {
      Await.result(a).forEach(r -> ids.add(r.message().serverId()));
    }
    assertThat(ids).hasSize(40).isSorted().doesNotHaveDuplicates();
  }

  @Test
  void duplicateWithinBatchReturnsTheOriginal() throws Exception {
    long conv = newConv();
    String id = newMsgId();
    NewMessage first = new NewMessage("alice", id, conv, "original", null);
    NewMessage retry = new NewMessage("alice", id, conv, "changed on retry", new JsonArray().add(new JsonObject()));
    NewMessage other = msg("alice", conv, "other");

    List<Appended> out = append(first, retry, other);

    assertThat(out).hasSize(3);
    assertThat(out.get(0).duplicate()).isFalse();
    assertThat(out.get(1).duplicate()).isTrue();
    assertThat(out.get(2).duplicate()).isFalse();
    ChatMessage original = out.get(0).message();
    ChatMessage dup = out.get(1).message();
    assertThat(dup.serverId()).isEqualTo(original.serverId());
    assertThat(dup.body()).isEqualTo("original");
    assertThat(dup.toFrame()).isEqualTo(original.toFrame());
    assertThat(out.get(1).frame()).isEqualTo(out.get(0).frame());
    assertThat(out.get(2).message().serverId()).isNotEqualTo(original.serverId()).isGreaterThan(original.serverId());
  }

  @Test
  void duplicateAcrossBatchesReturnsTheOriginal() throws Exception {
    long conv = newConv();
    String id = newMsgId();
    JsonArray media = new JsonArray().add(new JsonObject().put("url", "https://x/1.png"));
    Appended first = append(new NewMessage("alice", id, conv, "hello", media)).get(0);
    ChatMessage original = first.message();
    append(msg("bob", conv, "in between"));

    // a retry may even carry other fields: the stored message wins
    List<Appended> out = append(msg("carol", conv, "new"), new NewMessage("alice", id, newConv(), "hello again", null));

    assertThat(out.get(0).duplicate()).isFalse();
    Appended dup = out.get(1);
    assertThat(dup.duplicate()).isTrue();
    assertThat(dup.message().serverId()).isEqualTo(original.serverId());
    assertThat(dup.message().conv()).isEqualTo(conv);
    assertThat(dup.message().body()).isEqualTo("hello");
    assertThat(dup.message().media()).isEqualTo(media);
    assertThat(dup.message().ts()).isEqualTo(original.ts());
    assertThat(dup.message().toFrame()).isEqualTo(original.toFrame());
    assertThat(dup.frame()).isEqualTo(first.frame());
  }

  @Test
  void duplicateOfMessageWithoutMediaHasTheSameFrame() throws Exception {
    long conv = newConv();
    NewMessage m = msg("alice", conv, "no media");
    Appended first = append(m).get(0);
    ChatMessage original = first.message();
    Appended again = append(m).get(0);
    assertThat(again.duplicate()).isTrue();
    assertThat(again.message().toFrame()).isEqualTo(original.toFrame());
    assertThat(again.frame()).isEqualTo(first.frame());
  }

  @Test
  void repeatedRetriesAllReturnTheOriginal() throws Exception {
    long conv = newConv();
    NewMessage m = msg("alice", conv, "once");
    long id = append(m).get(0).message().serverId();
    for (int i = 0; i < 3; i++) {
      Appended a = append(m).get(0);
      assertThat(a.duplicate()).isTrue();
      assertThat(a.message().serverId()).isEqualTo(id);
    }
  }

  @Test
  void differentSenderWithSameMsgIdIsANewMessage() throws Exception {
    long conv = newConv();
    String id = newMsgId();
    List<Appended> sameBatch = append(new NewMessage("alice", id, conv, "from alice", null),
        new NewMessage("bob", id, conv, "from bob", null));
    assertThat(sameBatch).extracting(Appended::duplicate).containsExactly(false, false);
    assertThat(sameBatch.get(1).message().serverId()).isGreaterThan(sameBatch.get(0).message().serverId());
    assertThat(sameBatch.get(1).message().body()).isEqualTo("from bob");

    Appended carol = append(new NewMessage("carol", id, conv, "from carol", null)).get(0);
    assertThat(carol.duplicate()).isFalse();
    assertThat(carol.message().from()).isEqualTo("carol");
    assertThat(carol.message().serverId()).isGreaterThan(sameBatch.get(1).message().serverId());
  }

  @Test
  void senderWhoseIdIsAPrefixOfAnotherDoesNotCollide() throws Exception {
    long conv = newConv();
    String id = newMsgId();
    Appended a = append(new NewMessage("al", id, conv, "1", null)).get(0);
    Appended b = append(new NewMessage("ali", id, conv, "2", null)).get(0);
    Appended c = append(new NewMessage("al", "i" + id, conv, "3", null)).get(0);
    assertThat(List.of(a, b, c)).extracting(Appended::duplicate).containsOnly(false);
    assertThat(List.of(a, b, c)).extracting(x -> x.message().serverId()).doesNotHaveDuplicates();
  }

  @Test
  void bodyAndMediaAreStoredVerbatim() throws Exception {
    long conv = newConv();
    String body = "héllo \uD83D\uDE00 \"quoted\" \\ \n tab\t <b>&amp; \"from\":\"mallory\" \u0000end";
    JsonArray media = new JsonArray()
        .add(new JsonObject().put("type", "image").put("url", "https://cdn.example/a b.png?x=1&y=2")
            .put("w", 640).put("h", 480).put("ratio", 1.5).put("alt", "ünïcødé \uD83D\uDCF7"))
        .add(new JsonObject().put("type", "file").put("meta", new JsonObject().put("nested", new JsonArray().add(1).add(true).addNull())));
    NewMessage m = new NewMessage("alice", newMsgId(), conv, body, media.copy());

    ChatMessage stored = append(m).get(0).message();
    assertThat(stored.body()).isEqualTo(body);
    assertThat(stored.media()).isEqualTo(media);

    ChatMessage dup = append(m).get(0).message();
    assertThat(dup.body()).isEqualTo(body);
    assertThat(dup.media()).isEqualTo(media);
    assertThat(dup.from()).isEqualTo("alice");
  }

  @Test
  @Timeout(value = 10, timeUnit = SECONDS)
  void concurrentAppendsGetDistinctIdsAndConcurrentRetriesOneMessage(VertxTestContext ctx) {
    long conv = newConv();
    int n = 20;
    NewMessage retried = msg("alice", conv, "retried");
    Set<Long> distinctIds = ConcurrentHashMap.newKeySet();
    Map<Long, Boolean> retryIds = new ConcurrentHashMap<>();
    List<Boolean> retryFresh = java.util.Collections.synchronizedList(new ArrayList<>());
    Checkpoint done = ctx.checkpoint(2 * n);
    for (int i = 0; i < n; i++) {
      log().append(List.of(msg("u" + i, conv, "b" + i))).onComplete(ctx.succeeding(out -> ctx.verify(() -> {
        assertThat(out).hasSize(1);
        assertThat(out.get(0).duplicate()).isFalse();
        assertThat(distinctIds.add(out.get(0).message().serverId())).as("id handed out twice").isTrue();
        done.flag();
      })));
      log().append(List.of(retried)).onComplete(ctx.succeeding(out -> ctx.verify(() -> {
        retryIds.put(out.get(0).message().serverId(), true);
        retryFresh.add(!out.get(0).duplicate());
        assertThat(retryIds).as("all retries resolve to one message").hasSize(1);
        assertThat(retryFresh.stream().filter(b -> b).count()).as("stored only once").isLessThanOrEqualTo(1);
        if (retryFresh.size() == n) {
          assertThat(retryFresh).containsOnlyOnce(true);
          assertThat(distinctIds).doesNotContainAnyElementsOf(retryIds.keySet());
        }
        done.flag();
      })));
    }
  }

  protected static List<Long> idsOf(List<Appended> out, long conv) {
    List<Long> ids = new ArrayList<>();
    for (Appended a : out) {
      if (a.message().conv() == conv) {
        ids.add(a.message().serverId());
      }
    }
    return ids;
  }

  protected static Set<Long> serverIds(List<Appended> out) {
    Set<Long> ids = new HashSet<>();
    out.forEach(a -> ids.add(a.message().serverId()));
    return ids;
  }
}
