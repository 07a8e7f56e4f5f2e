package io.parley.history;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.ChatMessage;
import io.parley.routing.MessageLog.NewMessage;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Contract of the {@link MessageStore} port (the read side of messages), run against every adapter
 * by subclassing and supplying {@link #store()} and {@link #write(List)} (however that adapter's
 * messages get stored). Covers: {@code get} by (conv, server id) with the exact stored frame;
 * {@code before} newest-first pagination, strictly below the cursor, with {@code more} only while
 * older messages remain; {@code after} returning the newest {@code limit} messages above the cursor
 * oldest-first with {@code more} when older ones were left out; isolation between conversations
 * (including numerically adjacent ids); empty and unknown conversations; paging, sync and
 * {@code get} across time (an adapter that partitions messages by time, see {@link #passTime},
 * gets runs of messages in buckets far apart, with empty buckets between).
 */
public abstract class MessageStoreContract {
  private static final AtomicLong CONV_SEQ = new AtomicLong(50_000);
  private static final AtomicLong MSG_SEQ = new AtomicLong();

  /** The adapter under test, ready for use. */
  protected abstract MessageStore store();

  /**
   * Stores the messages through the adapter's write path and returns them as stored (server ids
   * assigned), in input order. Returns once they are readable through {@link #store()}.
   */
  protected abstract List<ChatMessage> write(List<NewMessage> messages) throws Exception;

  /**
   * Lets {@code d} pass for the messages written next (their ts). Adapters that partition messages
   * by time override it (with buckets shorter than the gaps the tests use, hours to weeks); by
   * default nothing happens and the cases still check ordinary paging.
   */
  protected void passTime(Duration d) throws Exception {}

  protected static long newConv() {
    return CONV_SEQ.addAndGet(4);
  }

  /** Writes {@code n} messages to {@code conv} (one per batch) and returns their server ids, oldest first. */
  protected List<Long> seed(long conv, int n) throws Exception {
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ChatMessage m = write(List.of(new NewMessage(i % 2 == 0 ? "alice" : "bob", "s-" + MSG_SEQ.incrementAndGet(),
          conv, "message " + i, null))).get(0);
      ids.add(m.serverId());
    }
    return ids;
  }

  private static List<Long> ids(MessagePage page) {
    return page.messages().stream().map(StoredMessage::serverId).toList();
  }

  /**
   * Runs of 1–3 messages with gaps between them (3 days, 40 days, 25 hours, 2 hours, repeating;
   * 1 minute before the last run): eleven runs, so an adapter with time buckets has at least ten
   * non-empty buckets with many empty ones between.
   */
  private List<Long> seedAcrossTime(long conv) throws Exception {
    int[] runs = {1, 3, 2, 1, 1, 2, 1, 1, 1, 2, 1};
    Duration[] gaps = {Duration.ofDays(3), Duration.ofDays(40), Duration.ofHours(25), Duration.ofHours(2)};
    List<Long> all = new ArrayList<>();
    for (int r = 0; r < runs.length; r++) {
      all.addAll(seed(conv, runs[r]));
      passTime(r == runs.length - 2 ? Duration.ofMinutes(1) : gaps[r % gaps.length]);
    }
    return all;
  }

  @Test
  void historyPagesCrossTimeWithEmptyStretchesBetween() throws Exception {
    long conv = newConv();
    seed(conv - 1, 1);
    List<Long> all = seedAcrossTime(conv);
    seed(conv + 1, 1);
    List<Long> newestFirst = new ArrayList<>(all);
    Collections.reverse(newestFirst);

    // every page size walks back through everything, newest first, in order, with more until the end
    for (int limit : new int[] {1, 2, 3, 5, 16, 100}) {
      List<Long> walked = new ArrayList<>();
      long cursor = Long.MAX_VALUE;
      while (true) {
        MessagePage page = Await.result(store().before(conv, cursor, limit));
        walked.addAll(ids(page));
        assertThat(page.messages()).as("page of %d", limit).hasSizeLessThanOrEqualTo(limit);
        if (!page.more()) {
          break;
        }
        assertThat(page.messages()).hasSize(limit);
        cursor = page.messages().get(page.messages().size() - 1).serverId();
      }
      assertThat(walked).as("walk with pages of %d", limit).containsExactlyElementsOf(newestFirst);
    }
    // from every cursor: exactly the older ones
    for (int k = 0; k < all.size(); k++) {
      MessagePage older = Await.result(store().before(conv, all.get(k), 100));
      assertThat(ids(older)).containsExactlyElementsOf(newestFirst.subList(all.size() - k, all.size()));
      assertThat(older.more()).isFalse();
      assertThat(Await.result(store().get(conv, all.get(k)))).get().extracting(StoredMessage::serverId).isEqualTo(all.get(k));
    }
  }

  @Test
  void syncCrossesTimeWithEmptyStretchesBetween() throws Exception {
    long conv = newConv();
    List<Long> all = seedAcrossTime(conv);
    int n = all.size();
    for (int k = 0; k < n; k++) {
      MessagePage everything = Await.result(store().after(conv, all.get(k), 100));
      assertThat(ids(everything)).as("after #%d", k).containsExactlyElementsOf(all.subList(k + 1, n));
      assertThat(everything.more()).isFalse();
      for (int limit : new int[] {1, 4}) {
        MessagePage newest = Await.result(store().after(conv, all.get(k), limit));
        int from = Math.max(k + 1, n - limit);
        assertThat(ids(newest)).as("after #%d, limit %d", k, limit).containsExactlyElementsOf(all.subList(from, n));
        assertThat(newest.more()).isEqualTo(from > k + 1);
      }
    }
    MessagePage fromStart = Await.result(store().after(conv, 0, 5));
    assertThat(ids(fromStart)).containsExactlyElementsOf(all.subList(n - 5, n));
    assertThat(fromStart.more()).isTrue();
    // a cursor between two messages far apart in time
    long between = all.get(3) + 1;
    List<Long> above = all.stream().filter(id -> id > between).toList();
    List<Long> below = newestFirstOf(all.stream().filter(id -> id < between).toList());
    assertThat(ids(Await.result(store().after(conv, between, 100)))).containsExactlyElementsOf(above);
    assertThat(ids(Await.result(store().before(conv, between, 2)))).containsExactlyElementsOf(below.subList(0, 2));
  }

  private static List<Long> newestFirstOf(List<Long> oldestFirst) {
    List<Long> out = new ArrayList<>(oldestFirst);
    Collections.reverse(out);
    return out;
  }

  @Test
  void getReturnsTheStoredFrame() throws Exception {
    long conv = newConv();
    JsonArray media = new JsonArray().add(new JsonObject().put("url", "https://x/y.jpg").put("w", 10));
    ChatMessage written = write(List.of(new NewMessage("alice", "g-" + MSG_SEQ.incrementAndGet(), conv,
        "héllo \uD83D\uDE00 \"q\"", media))).get(0);

    Optional<StoredMessage> got = Await.result(store().get(conv, written.serverId()));

    assertThat(got).isPresent();
    StoredMessage s = got.get();
    assertThat(s.conv()).isEqualTo(conv);
    assertThat(s.serverId()).isEqualTo(written.serverId());
    assertThat(s.from()).isEqualTo("alice");
    assertThat(s.frame()).isEqualTo(written.toFrame());
    ChatMessage parsed = ChatMessage.fromFrame(s.frame());
    assertThat(parsed.body()).isEqualTo("héllo \uD83D\uDE00 \"q\"");
    assertThat(parsed.media()).isEqualTo(media);
    assertThat(parsed.msgId()).isEqualTo(written.msgId());
  }

  @Test
  void getReadsTheSenderEvenWhenTheBodyMentionsAnother() throws Exception {
    long conv = newConv();
    ChatMessage written = write(List.of(new NewMessage("bob", "f-" + MSG_SEQ.incrementAndGet(), conv,
        "\"from\":\"mallory\"", null))).get(0);
    assertThat(Await.result(store().get(conv, written.serverId()))).get().extracting(StoredMessage::from).isEqualTo("bob");
  }

  @Test
  void getOfUnknownIdOrWrongConversationIsEmpty() throws Exception {
    long conv = newConv();
    long id = seed(conv, 1).get(0);
    assertThat(Await.result(store().get(conv, id + 1))).isEmpty();
    assertThat(Await.result(store().get(conv, id - 1))).isEmpty();
    assertThat(Await.result(store().get(conv + 1, id))).isEmpty();
    assertThat(Await.result(store().get(conv - 1, id))).isEmpty();
  }

  @Test
  void beforePagesNewestFirstWithMore() throws Exception {
    long conv = newConv();
    List<Long> all = seed(conv, 7);

    MessagePage p1 = Await.result(store().before(conv, Long.MAX_VALUE, 3));
    assertThat(ids(p1)).containsExactly(all.get(6), all.get(5), all.get(4));
    assertThat(p1.more()).isTrue();

    MessagePage p2 = Await.result(store().before(conv, all.get(4), 3));
    assertThat(ids(p2)).containsExactly(all.get(3), all.get(2), all.get(1));
    assertThat(p2.more()).isTrue();

    MessagePage p3 = Await.result(store().before(conv, all.get(1), 3));
    assertThat(ids(p3)).containsExactly(all.get(0));
    assertThat(p3.more()).isFalse();

    assertThat(p1.messages()).allSatisfy(m -> assertThat(m.conv()).isEqualTo(conv));
    assertThat(p1.messages().get(0).frame()).contains("\"body\":\"message 6\"");
  }

  @Test
  void beforeHasNoMoreWhenExactlyLimitRemain() throws Exception {
    long conv = newConv();
    List<Long> all = seed(conv, 6);
    MessagePage p1 = Await.result(store().before(conv, Long.MAX_VALUE, 3));
    assertThat(p1.more()).isTrue();
    MessagePage p2 = Await.result(store().before(conv, all.get(3), 3));
    assertThat(ids(p2)).containsExactly(all.get(2), all.get(1), all.get(0));
    assertThat(p2.more()).isFalse();

    MessagePage whole = Await.result(store().before(conv, Long.MAX_VALUE, 6));
    assertThat(ids(whole)).hasSize(6).isSortedAccordingTo((a, b) -> Long.compare(b, a));
    assertThat(whole.more()).isFalse();
  }

  @Test
  void beforeIsStrictlyBelowTheCursor() throws Exception {
    long conv = newConv();
    List<Long> all = seed(conv, 4);
    assertThat(ids(Await.result(store().before(conv, all.get(2), 10)))).containsExactly(all.get(1), all.get(0));
    // a cursor between two ids
    assertThat(ids(Await.result(store().before(conv, all.get(2) + 1, 10)))).containsExactly(all.get(2), all.get(1), all.get(0));
    assertThat(ids(Await.result(store().before(conv, all.get(0), 10)))).isEmpty();
    assertThat(Await.result(store().before(conv, all.get(0), 10)).more()).isFalse();
    assertThat(ids(Await.result(store().before(conv, 1, 10)))).isEmpty();
  }

  @Test
  void beforeZeroReturnsNothing() throws Exception {
    long conv = newConv();
    seed(conv, 3);
    MessagePage page = Await.result(store().before(conv, 0, 10));
    assertThat(ids(page)).as("messages with id < 0").isEmpty();
    assertThat(page.more()).isFalse();
  }

  @Test
  void afterReturnsEverythingAboveTheCursorOldestFirst() throws Exception {
    long conv = newConv();
    List<Long> all = seed(conv, 5);

    MessagePage fromStart = Await.result(store().after(conv, 0, 10));
    assertThat(ids(fromStart)).containsExactlyElementsOf(all);
    assertThat(fromStart.more()).isFalse();

    MessagePage tail = Await.result(store().after(conv, all.get(1), 10));
    assertThat(ids(tail)).containsExactly(all.get(2), all.get(3), all.get(4));
    assertThat(tail.more()).isFalse();
  }

  @Test
  void afterReturnsTheNewestLimitWithMoreWhenOlderWereLeftOut() throws Exception {
    long conv = newConv();
    List<Long> all = seed(conv, 7);

    MessagePage page = Await.result(store().after(conv, 0, 3));
    assertThat(ids(page)).containsExactly(all.get(4), all.get(5), all.get(6));
    assertThat(page.more()).isTrue();

    MessagePage fromMiddle = Await.result(store().after(conv, all.get(2), 3));
    assertThat(ids(fromMiddle)).containsExactly(all.get(4), all.get(5), all.get(6));
    assertThat(fromMiddle.more()).isTrue();

    MessagePage exact = Await.result(store().after(conv, all.get(3), 3));
    assertThat(ids(exact)).containsExactly(all.get(4), all.get(5), all.get(6));
    assertThat(exact.more()).isFalse();
  }

  @Test
  void afterTheNewestIsEmpty() throws Exception {
    long conv = newConv();
    List<Long> all = seed(conv, 3);
    MessagePage page = Await.result(store().after(conv, all.get(2), 10));
    assertThat(page.messages()).isEmpty();
    assertThat(page.more()).isFalse();
    assertThat(Await.result(store().after(conv, Long.MAX_VALUE, 10)).messages()).isEmpty();
  }

  @Test
  void conversationsAreIsolatedIncludingAdjacentIds() throws Exception {
    long conv = newConv();
    long next = conv + 1;
    long prev = conv - 1;
    List<Long> mine = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      seed(prev, 1);
      mine.addAll(seed(conv, 1));
      seed(next, 1);
    }
    assertThat(ids(Await.result(store().before(conv, Long.MAX_VALUE, 10)))).containsExactly(mine.get(2), mine.get(1), mine.get(0));
    assertThat(Await.result(store().before(conv, Long.MAX_VALUE, 10)).more()).isFalse();
    assertThat(ids(Await.result(store().after(conv, 0, 10)))).containsExactlyElementsOf(mine);
    assertThat(Await.result(store().after(conv, 0, 10)).more()).isFalse();
    assertThat(ids(Await.result(store().before(conv, mine.get(0), 10)))).isEmpty();
    assertThat(ids(Await.result(store().after(conv, mine.get(2), 10)))).isEmpty();
  }

  @Test
  void emptyAndUnknownConversations() throws Exception {
    long conv = newConv();
    seed(conv - 1, 2);
    seed(conv + 1, 2);
    assertThat(Await.result(store().get(conv, 1))).isEmpty();
    MessagePage before = Await.result(store().before(conv, Long.MAX_VALUE, 10));
    assertThat(before.messages()).isEmpty();
    assertThat(before.more()).isFalse();
    MessagePage after = Await.result(store().after(conv, 0, 10));
    assertThat(after.messages()).isEmpty();
    assertThat(after.more()).isFalse();

    long nowhere = newConv() + 1_000_000;
    assertThat(Await.result(store().before(nowhere, Long.MAX_VALUE, 10)).messages()).isEmpty();
    assertThat(Await.result(store().after(nowhere, 0, 10)).messages()).isEmpty();
  }

  /**
   * Takedown: the message is gone from {@code get}, history and sync, its neighbours are not; the
   * tombstone keeps its ids, sender and time and no body; taking it down again returns the same
   * tombstone; an unknown message or conversation has none. A page holds no tombstone, and paging
   * past one still reaches every older message.
   */
  @Test
  void takedownRemovesAMessageFromGetHistoryAndSyncAndKeepsATombstone() throws Exception {
    long conv = newConv();
    List<Long> ids = seed(conv, 5);
    long gone = ids.get(2);
    ChatMessage original = ChatMessage.fromFrame(Await.result(store().get(conv, gone)).orElseThrow().frame());

    Optional<String> tombstone = Await.result(store().takedown(conv, gone));
    assertThat(tombstone).isPresent();
    assertThat(Tombstones.is(tombstone.get())).isTrue();
    JsonObject t = new JsonObject(tombstone.get());
    assertThat(t.getString("op")).isEqualTo("deleted");
    assertThat(t.getString("conv")).isEqualTo(Long.toString(conv));
    assertThat(t.getString("server_id")).isEqualTo(Long.toString(gone));
    assertThat(t.getString("from")).isEqualTo(original.from());
    assertThat(t.getString("msg_id")).isEqualTo(original.msgId());
    assertThat(t.getLong("ts")).isEqualTo(original.ts());
    assertThat(t.containsKey("body")).as("no body kept").isFalse();
    assertThat(Tombstones.message(tombstone.get()).serverId()).isEqualTo(gone);

    assertThat(Await.result(store().get(conv, gone))).as("get").isEmpty();
    assertThat(Await.result(store().get(conv, ids.get(1)))).as("a neighbour").isPresent();
    List<Long> kept = List.of(ids.get(0), ids.get(1), ids.get(3), ids.get(4));
    assertThat(ids(Await.result(store().after(conv, 0, 10)))).as("sync").isEqualTo(kept);
    List<Long> newestFirst = new ArrayList<>(kept);
    Collections.reverse(newestFirst);
    assertThat(ids(Await.result(store().before(conv, Long.MAX_VALUE, 10)))).as("history").isEqualTo(newestFirst);
    // page through in twos: every kept message once, the tombstone never
    List<Long> paged = new ArrayList<>();
    long cursor = Long.MAX_VALUE;
    for (int i = 0; i < 10; i++) {
      MessagePage page = Await.result(store().before(conv, cursor, 2));
      paged.addAll(ids(page));
      if (!page.more()) {
        break;
      }
      assertThat(page.messages()).as("a page with more after it has messages (the next cursor)").isNotEmpty();
      cursor = page.messages().get(page.messages().size() - 1).serverId();
    }
    assertThat(paged).as("paged history").isEqualTo(newestFirst);

    assertThat(Await.result(store().takedown(conv, gone))).as("again: the same tombstone").isEqualTo(tombstone);
    assertThat(Await.result(store().takedown(conv, ids.get(4) + 1_000_000))).as("unknown message").isEmpty();
    assertThat(Await.result(store().takedown(newConv(), gone))).as("unknown conversation").isEmpty();
  }

  /**
   * Taken-down messages are not part of a page: a page whose rows are all tombstones still reaches
   * the live messages past them, so paging and sync neither stop nor loop there.
   */
  @Test
  void pagesSkipRunsOfTombstonesWithoutEndingThePaging() throws Exception {
    long conv = newConv();
    List<Long> ids = seed(conv, 7);
    for (int i = 3; i < 7; i++) {
      assertThat(Await.result(store().takedown(conv, ids.get(i)))).isPresent();
    }
    MessagePage newest = Await.result(store().before(conv, Long.MAX_VALUE, 2));
    assertThat(ids(newest)).as("the newest live page, behind four tombstones").isEqualTo(List.of(ids.get(2), ids.get(1)));
    assertThat(newest.more()).isTrue();
    MessagePage rest = Await.result(store().before(conv, ids.get(1), 2));
    assertThat(ids(rest)).isEqualTo(List.of(ids.get(0)));
    assertThat(rest.more()).isFalse();

    long other = newConv();
    List<Long> synced = seed(other, 6);
    for (int i = 2; i < 6; i++) {
      assertThat(Await.result(store().takedown(other, synced.get(i)))).isPresent();
    }
    // sync answers the newest messages above its cursor, and says whether there are more
    MessagePage after = Await.result(store().after(other, 0, 1));
    assertThat(ids(after)).as("sync's page, behind four tombstones").isEqualTo(List.of(synced.get(1)));
    assertThat(after.more()).isTrue();
    MessagePage all = Await.result(store().after(other, 0, 10));
    assertThat(ids(all)).isEqualTo(List.of(synced.get(0), synced.get(1)));
    assertThat(all.more()).isFalse();
  }
}
