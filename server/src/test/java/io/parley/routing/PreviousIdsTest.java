package io.parley.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.history.MessagePage;
import io.parley.history.MessageStore;
import io.parley.history.StoredMessage;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Routing's previous ids: the last routed id per conversation, forgotten for a partition whose
 * records stop following on, read from storage for a conversation not known.
 */
class PreviousIdsTest {
  private final List<String> reads = new ArrayList<>();

  /** A store whose conversation 7 has messages 100 and 200; conversation 8 has none; 9 fails. */
  private final MessageStore store = new MessageStore() {
    @Override
    public Future<Optional<StoredMessage>> get(long conv, long serverId) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<MessagePage> before(long conv, long beforeId, int limit) {
      reads.add(conv + " < " + beforeId);
      if (conv == 9) {
        return Future.failedFuture(new IllegalStateException("storage down"));
      }
      List<StoredMessage> page = new ArrayList<>();
      for (long id : conv == 7 ? new long[] {200, 100} : new long[0]) {
        if (id < beforeId && page.size() < limit) {
          page.add(new StoredMessage(conv, id, "alice", "m" + id));
        }
      }
      return Future.succeededFuture(new MessagePage(page, false));
    }

    @Override
    public Future<MessagePage> after(long conv, long afterId, int limit) {
      throw new UnsupportedOperationException();
    }
  };

  @Test
  void eachMessageNamesTheOneRoutedBeforeItInItsConversation() {
    PreviousIds p = new PreviousIds(100);
    assertThat(p.next(1, 10, 0)).as("the first one seen").isZero();
    assertThat(p.next(2, 11, 0)).isZero();
    assertThat(p.next(1, 12, 0)).isEqualTo(10);
    assertThat(p.next(1, 13, 0)).isEqualTo(12);
    assertThat(p.next(2, 14, 0)).isEqualTo(11);
    assertThat(p.next(1, 12, 0)).as("one routed again names none").isZero();
  }

  @Test
  void theLeastRecentlyRoutedConversationBeyondTheBoundIsForgotten() {
    PreviousIds p = new PreviousIds(2);
    p.next(1, 10, 0);
    p.next(2, 11, 0);
    p.next(3, 12, 0);
    assertThat(p.knows(1)).isFalse();
    assertThat(p.next(1, 13, 0)).isZero();
    assertThat(p.next(3, 14, 0)).isEqualTo(12);
  }

  @Test
  void aPartitionWhoseRecordsDoNotFollowOnIsForgotten() {
    PreviousIds p = new PreviousIds(100);
    assertThat(p.continues(0, 5)).as("first record of partition 0 seen here").isFalse();
    p.next(1, 10, 0);
    p.next(2, 11, 1);
    assertThat(p.continues(0, 6)).isTrue();
    assertThat(p.knows(1)).isTrue();
    // offsets 7..9 of partition 0 were routed elsewhere (the partition moved and came back)
    assertThat(p.continues(0, 10)).isFalse();
    assertThat(p.knows(1)).as("partition 0's conversations").isFalse();
    assertThat(p.knows(2)).as("partition 1's stay").isTrue();
    // read again from an earlier offset (a batch not committed)
    p.next(1, 20, 0);
    assertThat(p.continues(0, 8)).isFalse();
    assertThat(p.knows(1)).isFalse();
  }

  @Test
  void aConversationNotKnownHereHasItsPreviousMessageReadFromStorage() {
    PreviousIds p = new PreviousIds(100);
    p.next(6, 50, 0);
    Future<Void> done = p.lookUp(store, Map.of(6L, new long[] {60, 0}, 7L, new long[] {300, 0}, 8L, new long[] {5, 0},
        9L, new long[] {7, 0}));
    assertThat(done.succeeded()).as("never fails, even when a read does").isTrue();
    assertThat(reads).as("only conversations not known").containsExactlyInAnyOrder("7 < 300", "8 < 5", "9 < 7");
    assertThat(p.next(7, 300, 0)).isEqualTo(200);
    assertThat(p.next(8, 5, 0)).as("no message before").isZero();
    assertThat(p.next(9, 7, 0)).as("the read failed").isZero();
    assertThat(p.next(6, 60, 0)).isEqualTo(50);
  }
}
