package io.parley.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.history.MessagePage;
import io.parley.history.StoredMessage;
import io.parley.protocol.ClientFrame;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.Outbound;
import io.parley.protocol.ParleyException;
import io.parley.protocol.ServerFrames;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A connection's syncs, without a socket: backfills answered by hand, frames recorded. Live
 * messages of a conversation being synced wait for its backfill and then go out in id order, each
 * once; syncs and their conversations run one after the other; a full socket pauses the backfill.
 */
class SyncTest {
  private static final int HELD_BACK_MAX = 3;

  /** What the connection was sent, in order. */
  private final List<String> out = new ArrayList<>();
  /** The backfills asked for ("conv after limit") and their answers, in order. */
  private final List<String> asked = new ArrayList<>();
  private final Map<Long, Promise<MessagePage>> pages = new LinkedHashMap<>();
  private boolean closed;
  /** Why the sync closed the connection (1013), or null. */
  private String closedBehind;
  private boolean full;
  private Promise<Void> drain;

  private final Sync.Client client = new Sync.Client() {
    @Override
    public boolean closed() {
      return closed;
    }

    @Override
    public void write(String frame) {
      if (!closed) {
        out.add(frame);
      }
    }

    @Override
    public boolean writeQueueFull() {
      return full;
    }

    @Override
    public Future<Void> drained() {
      drain = Promise.promise();
      return drain.future();
    }

    @Override
    public void error(String msgId, Long conv, ErrorCode code, String message) {
      write(ServerFrames.error(msgId, conv, code, message));
    }

    @Override
    public void closeBehind(String reason) {
      closedBehind = reason;
      closed = true;
    }
  };

  private final Sync sync = new Sync("alice", "node-1-7-phone", new Sync.Settings((user, conv, after, limit) -> {
    assertThat(user).isEqualTo("alice");
    asked.add(conv + " " + after + " " + limit);
    Promise<MessagePage> page = Promise.promise();
    pages.put(conv, page);
    return page.future();
  }, 50, HELD_BACK_MAX), client);

  private static ClientFrame.Sync syncOf(long... convAfter) {
    Map<Long, Long> convs = new LinkedHashMap<>();
    for (int i = 0; i < convAfter.length; i += 2) {
      convs.put(convAfter[i], convAfter[i + 1]);
    }
    return new ClientFrame.Sync(convs);
  }

  private static MessagePage page(long conv, boolean more, long... ids) {
    List<StoredMessage> messages = new ArrayList<>();
    for (long id : ids) {
      messages.add(new StoredMessage(conv, id, "bob", "stored " + id));
    }
    return new MessagePage(messages, more);
  }

  private static Outbound live(long conv, long id) {
    return new Outbound(conv, id, "live " + id, null);
  }

  /** A live message whose previous message, as routing saw it, is {@code prev}. */
  private static Outbound live(long conv, long id, long prev) {
    return new Outbound(conv, id, "live " + id, null, prev);
  }

  /** A message this connection sent (it got the ack). */
  private static Outbound own(long conv, long id, long prev) {
    return new Outbound(conv, id, "own " + id, "node-1-7-phone", prev);
  }

  @Test
  void liveMessagesOfASyncedConversationWaitForItsBackfillThenGoOutInIdOrderEachOnce() {
    assertThat(sync.running()).isFalse();
    assertThat(sync.hold(live(1, 1))).as("no sync: nothing is held").isEqualTo(Sync.Hold.PASS);

    sync.request(syncOf(1, 0, 2, 10));
    assertThat(sync.running()).isTrue();
    assertThat(asked).as("one conversation at a time").containsExactly("1 0 50");

    assertThat(sync.hold(live(1, 3))).isEqualTo(Sync.Hold.HELD);
    assertThat(sync.hold(live(1, 4))).isEqualTo(Sync.Hold.HELD);
    assertThat(sync.hold(live(2, 12))).as("a conversation still to sync").isEqualTo(Sync.Hold.HELD);
    assertThat(sync.hold(new Outbound(1, 0, "typing", null))).as("signals are not held").isEqualTo(Sync.Hold.PASS);
    assertThat(sync.hold(live(9, 5))).as("a conversation not synced").isEqualTo(Sync.Hold.PASS);
    assertThat(out).isEmpty();

    // the backfill already has 3: only 4 of the held ones follows it
    pages.get(1L).complete(page(1, false, 1, 2, 3));
    assertThat(out).containsExactly("stored 1", "stored 2", "stored 3", "live 4", ServerFrames.synced(1, false));
    assertThat(sync.hold(live(1, 5))).as("conversation 1 is done").isEqualTo(Sync.Hold.PASS);
    assertThat(sync.hold(live(2, 13))).isEqualTo(Sync.Hold.HELD);

    assertThat(asked).containsExactly("1 0 50", "2 10 50");
    out.clear();
    pages.get(2L).complete(page(2, true));
    assertThat(out).as("nothing backfilled: every held message is newer than 'after'")
        .containsExactly("live 12", "live 13", ServerFrames.synced(2, true));
    assertThat(sync.running()).isFalse();
    assertThat(sync.hold(live(2, 14))).isEqualTo(Sync.Hold.PASS);
  }

  @Test
  void oneMoreThanTheHeldBackMaximumOverflows() {
    sync.request(syncOf(1, 0));
    for (int i = 1; i <= HELD_BACK_MAX; i++) {
      assertThat(sync.hold(live(1, i))).isEqualTo(Sync.Hold.HELD);
    }
    assertThat(sync.hold(live(1, HELD_BACK_MAX + 1))).isEqualTo(Sync.Hold.OVERFLOW);
  }

  @Test
  void aSyncWaitsForTheOneBeforeIt() {
    sync.request(syncOf(1, 0));
    sync.request(syncOf(2, 5));
    assertThat(asked).containsExactly("1 0 50");
    pages.get(1L).complete(page(1, false, 1));
    assertThat(asked).containsExactly("1 0 50", "2 5 50");
    assertThat(sync.running()).as("the second sync runs").isTrue();
    pages.get(2L).complete(page(2, false, 6));
    assertThat(out).containsExactly("stored 1", ServerFrames.synced(1, false), "stored 6", ServerFrames.synced(2, false));
    assertThat(sync.running()).isFalse();
  }

  @Test
  void aFullSocketPausesTheBackfillUntilItDrains() {
    sync.request(syncOf(1, 0));
    full = true;
    pages.get(1L).complete(page(1, false, 1, 2, 3));
    assertThat(out).containsExactly("stored 1");
    full = false;
    drain.complete();
    assertThat(out).containsExactly("stored 1", "stored 2", "stored 3", ServerFrames.synced(1, false));
  }

  @Test
  void aFailedBackfillIsReportedForItsConversationAndTheNextOneStillSyncs() {
    sync.request(syncOf(1, 0, 2, 0));
    assertThat(sync.hold(live(1, 7))).isEqualTo(Sync.Hold.HELD);
    pages.get(1L).fail(new IllegalStateException("disk on fire"));
    assertThat(out).containsExactly(ServerFrames.error(null, 1L, ErrorCode.UNAVAILABLE, "history unavailable"));
    assertThat(sync.hold(live(1, 8))).as("conversation 1 is no longer held").isEqualTo(Sync.Hold.PASS);

    pages.get(2L).fail(ParleyException.of(ErrorCode.FORBIDDEN, "not a member"));
    assertThat(out).endsWith(ServerFrames.error(null, 2L, ErrorCode.FORBIDDEN, "not a member"));
    assertThat(out).as("the held message of the failed conversation is dropped (the client syncs again)")
        .doesNotContain("live 7");
    assertThat(sync.running()).isFalse();
  }

  @Test
  void aClosedConnectionStopsWritingTheBackfill() {
    sync.request(syncOf(1, 0, 2, 0));
    full = true;
    pages.get(1L).complete(page(1, false, 1, 2));
    closed = true;
    drain.complete();
    assertThat(out).containsExactly("stored 1");
    assertThat(asked).as("no further conversation is read").containsExactly("1 0 50");
  }

  // --- live order: repeats and gaps -------------------------------------------------------------

  @Test
  void aMessageTheConnectionAlreadyGotIsDroppedAsARepeat() {
    assertThat(sync.hold(live(1, 5))).isEqualTo(Sync.Hold.PASS);
    assertThat(sync.hold(live(1, 5))).as("the same again").isEqualTo(Sync.Hold.DROP);
    assertThat(sync.hold(live(1, 3))).as("an older one, routed again").isEqualTo(Sync.Hold.DROP);
    assertThat(sync.hold(live(1, 6, 5))).isEqualTo(Sync.Hold.PASS);
    assertThat(sync.lastId(1)).isEqualTo(6);
    assertThat(asked).as("no backfill for repeats").isEmpty();
  }

  @Test
  void aLiveMessageAfterAGapWaitsUntilTheServerBackfilledTheMissingOnesInOrder() {
    assertThat(sync.hold(live(1, 5))).isEqualTo(Sync.Hold.PASS);
    // 7 never reached this connection: 9 names it as its previous message
    assertThat(sync.hold(live(1, 9, 7))).isEqualTo(Sync.Hold.HELD);
    assertThat(asked).as("the server syncs from the last id the connection got").containsExactly("1 5 50");
    assertThat(sync.running()).isTrue();
    assertThat(sync.hold(live(1, 10, 9))).as("newer ones wait behind the backfill").isEqualTo(Sync.Hold.HELD);
    assertThat(sync.hold(live(2, 4, 3))).as("other conversations are not held").isEqualTo(Sync.Hold.PASS);

    pages.get(1L).complete(page(1, false, 7, 9));
    assertThat(out).as("the missing one first, each once, and no synced: the client did not ask")
        .containsExactly("stored 7", "stored 9", "live 10");
    assertThat(sync.running()).isFalse();
    assertThat(sync.lastId(1)).isEqualTo(10);
    assertThat(sync.hold(live(1, 11, 10))).isEqualTo(Sync.Hold.PASS);
  }

  @Test
  void aPreviousIdThatIsUnknownOrAlreadyGotIsNoGap() {
    assertThat(sync.hold(live(1, 5))).isEqualTo(Sync.Hold.PASS);
    assertThat(sync.hold(live(1, 8, 0))).as("routing did not know the previous one").isEqualTo(Sync.Hold.PASS);
    assertThat(sync.hold(live(1, 9, 8))).isEqualTo(Sync.Hold.PASS);
    assertThat(sync.hold(live(1, 12, 4))).as("an older previous id (routing's was stale)").isEqualTo(Sync.Hold.PASS);
    assertThat(asked).isEmpty();
  }

  @Test
  void aConversationNotGotBeforeIsTakenAsItComes() {
    assertThat(sync.hold(live(1, 9, 7))).as("nothing to compare with").isEqualTo(Sync.Hold.PASS);
    assertThat(sync.hold(live(1, 12, 11))).as("from now on it is checked").isEqualTo(Sync.Hold.HELD);
    assertThat(asked).containsExactly("1 9 50");
  }

  @Test
  void theLeastRecentConversationBeyondTheBoundIsForgottenAndNoLongerChecked() {
    sync.hold(live(1, 5));
    for (long conv = 2; conv <= LastIds.MAX + 1; conv++) {
      sync.hold(live(conv, 100));
    }
    assertThat(sync.lastId(1)).as("evicted").isEqualTo(LastIds.UNKNOWN);
    assertThat(sync.lastId(2)).isEqualTo(100);
    assertThat(sync.hold(live(1, 9, 7))).as("a gap in a forgotten conversation is not seen").isEqualTo(Sync.Hold.PASS);
    assertThat(sync.hold(live(1, 3))).as("and is remembered again").isEqualTo(Sync.Hold.DROP);
    assertThat(asked).isEmpty();
  }

  @Test
  void theConnectionsOwnMessagesAreNotWrittenButCountAsGot() {
    assertThat(sync.hold(live(1, 5))).isEqualTo(Sync.Hold.PASS);
    assertThat(sync.hold(own(1, 6, 5))).as("it got the ack instead").isEqualTo(Sync.Hold.DROP);
    assertThat(sync.hold(live(1, 7, 6))).as("its own message is no gap").isEqualTo(Sync.Hold.PASS);
    assertThat(sync.hold(new Outbound(1, 0, "typing", "node-1-7-phone"))).isEqualTo(Sync.Hold.DROP);
    assertThat(asked).isEmpty();
  }

  /**
   * Issue 20's duplicate: a message stored before the backfill read it, whose live delivery reaches
   * the connection only after the conversation's {@code synced} (fan-out slower than the read). The
   * sync's last id drops it; a conversation forgotten by {@link LastIds} (more than
   * {@link LastIds#MAX} synced or active since) still lets it through, which clients hide by
   * deduplicating on server_id (docs/protocol.md, "Delivery semantics").
   */
  @Test
  void aMessageOfTheBackfillArrivingLiveAfterSyncedIsDroppedWhileItsConversationIsRemembered() {
    sync.request(syncOf(1, 0));
    pages.get(1L).complete(page(1, false, 1, 2, 3));
    assertThat(out).containsExactly("stored 1", "stored 2", "stored 3", ServerFrames.synced(1, false));
    assertThat(sync.hold(live(1, 3, 2))).as("its live copy after synced").isEqualTo(Sync.Hold.DROP);
    assertThat(sync.hold(live(1, 4, 3))).isEqualTo(Sync.Hold.PASS);

    long[] many = new long[2 * (LastIds.MAX + 1)];
    for (int i = 0; i <= LastIds.MAX; i++) {
      many[2 * i] = 100 + i;
      many[2 * i + 1] = 0;
    }
    sync.request(syncOf(many));
    for (int i = 0; i <= LastIds.MAX; i++) {
      pages.get(100L + i).complete(page(100 + i, false, 7));
    }
    assertThat(sync.hold(live(100, 7, 6))).as("the first of 33 synced conversations is forgotten: the repeat passes")
        .isEqualTo(Sync.Hold.PASS);
    assertThat(sync.hold(live(100 + LastIds.MAX, 7, 6))).as("the last one is remembered").isEqualTo(Sync.Hold.DROP);
  }

  @Test
  void aClientsSyncSetsTheLastIdToWhatItWroteOrToItsAfter() {
    sync.request(syncOf(1, 20, 2, 0));
    pages.get(1L).complete(page(1, false));
    assertThat(sync.lastId(1)).as("nothing newer: the client has 20").isEqualTo(20);
    pages.get(2L).complete(page(2, false, 3, 4));
    assertThat(sync.lastId(2)).isEqualTo(4);
    asked.clear();
    assertThat(sync.hold(live(1, 22, 21))).isEqualTo(Sync.Hold.HELD);
    assertThat(asked).containsExactly("1 20 50");
  }

  @Test
  void aGapDuringAClientsSyncOfTheConversationIsLeftToThatSync() {
    sync.hold(live(1, 5));
    sync.request(syncOf(1, 5));
    assertThat(sync.hold(live(1, 9, 7))).isEqualTo(Sync.Hold.HELD);
    assertThat(asked).as("no second backfill").containsExactly("1 5 50");
    pages.get(1L).complete(page(1, false, 7, 9));
    assertThat(out).containsExactly("stored 7", "stored 9", ServerFrames.synced(1, false));
    assertThat(asked).containsExactly("1 5 50");
  }

  @Test
  void aGapInAnotherConversationIsFilledAfterTheRunningSyncAndItsLiveMessagesWaitMeanwhile() {
    sync.hold(live(2, 5));
    sync.request(syncOf(1, 0));
    assertThat(sync.hold(live(2, 9, 7))).isEqualTo(Sync.Hold.HELD);
    assertThat(sync.hold(live(2, 10, 9))).isEqualTo(Sync.Hold.HELD);
    assertThat(asked).as("one backfill at a time").containsExactly("1 0 50");
    pages.get(1L).complete(page(1, false, 1));
    assertThat(asked).containsExactly("1 0 50", "2 5 50");
    pages.get(2L).complete(page(2, false, 7, 9));
    assertThat(out).containsExactly("stored 1", ServerFrames.synced(1, false), "stored 7", "stored 9", "live 10");
    assertThat(sync.running()).isFalse();
  }

  @Test
  void aGapShownAgainAfterTheBackfillIsFilledAgain() {
    sync.hold(live(1, 5));
    sync.hold(live(1, 9, 7));
    assertThat(sync.hold(live(1, 14, 12))).isEqualTo(Sync.Hold.HELD);
    // the backfill was read before 12 was stored
    pages.get(1L).complete(page(1, false, 7, 9));
    assertThat(asked).containsExactly("1 5 50", "1 9 50");
    assertThat(out).containsExactly("stored 7", "stored 9");
    pages.get(1L).complete(page(1, false, 12, 14));
    assertThat(out).containsExactly("stored 7", "stored 9", "stored 12", "stored 14");
    assertThat(sync.lastId(1)).isEqualTo(14);
  }

  @Test
  void aGapBackfillThatBringsNothingLetsTheHeldMessagesGoRatherThanLoop() {
    sync.hold(live(1, 5));
    sync.hold(live(1, 9, 7));
    pages.get(1L).complete(page(1, false));
    assertThat(out).containsExactly("live 9");
    assertThat(asked).containsExactly("1 5 50");
    assertThat(sync.running()).isFalse();
  }

  @Test
  void aGapLargerThanOneBackfillClosesTheConnectionForTheClientToSync() {
    sync.hold(live(1, 5));
    sync.hold(live(1, 900, 899));
    pages.get(1L).complete(page(1, true, 850, 899, 900));
    assertThat(closedBehind).contains("reconnect and sync");
    assertThat(out).as("nothing half: the client syncs from its last id").isEmpty();
  }

  @Test
  void aFailedGapBackfillClosesTheConnectionForTheClientToSync() {
    sync.hold(live(1, 5));
    sync.hold(live(1, 9, 7));
    pages.get(1L).fail(new IllegalStateException("disk on fire"));
    assertThat(closedBehind).contains("reconnect and sync");
    assertThat(out).isEmpty();
  }

  @Test
  void aHeldMessageAlreadyGotIsDroppedWhileTheConversationIsSynced() {
    sync.hold(live(1, 5));
    sync.request(syncOf(1, 2));
    assertThat(sync.hold(live(1, 4))).isEqualTo(Sync.Hold.DROP);
    assertThat(sync.hold(live(1, 6, 5))).isEqualTo(Sync.Hold.HELD);
    pages.get(1L).complete(page(1, false, 3, 4, 5));
    assertThat(out).containsExactly("stored 3", "stored 4", "stored 5", "live 6", ServerFrames.synced(1, false));
  }

  @Test
  void aFailedClientSyncStillTakesTheClientsAfterSoTheNextLiveMessageShowsTheGap() {
    sync.request(syncOf(1, 20));
    assertThat(sync.hold(live(1, 24, 22))).isEqualTo(Sync.Hold.HELD);
    pages.get(1L).fail(new IllegalStateException("storage overloaded"));
    assertThat(out).containsExactly(ServerFrames.error(null, 1L, ErrorCode.UNAVAILABLE, "history unavailable"));
    assertThat(sync.lastId(1)).isEqualTo(20);
    // the held 24 was dropped with the failed sync; 25 names it: both come back by a backfill from 20
    assertThat(sync.hold(live(1, 25, 24))).isEqualTo(Sync.Hold.HELD);
    assertThat(asked).containsExactly("1 20 50", "1 20 50");
    pages.get(1L).complete(page(1, false, 22, 24, 25));
    assertThat(out).endsWith("stored 22", "stored 24", "stored 25");
  }
}
