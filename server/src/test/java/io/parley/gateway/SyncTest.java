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
  };

  private final Sync sync = new Sync("alice", new Sync.Settings((user, conv, after, limit) -> {
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
}
