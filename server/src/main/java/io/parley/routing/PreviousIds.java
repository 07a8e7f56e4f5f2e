package io.parley.routing;

import io.parley.history.MessageStore;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each conversation's last routed message id, as one routing verticle saw it: what a fan-out
 * carries as {@code prev}, so that a gateway can tell a connection that missed a live message (the
 * next one names an id the connection never got) and backfill it. A bounded LRU owned by one
 * verticle (not thread-safe); a conversation it does not know has no previous id (0), which only
 * means that a gateway cannot check that one message.
 *
 * <p>On the cluster profile the ids are only right while this verticle routed every record of the
 * conversation's partition since: {@link #continues} forgets a partition's conversations when its
 * records do not follow on from the last one routed here (another node routed the partition
 * meanwhile, or a batch is read again), and {@link #lookUp} may then read a conversation's previous
 * message from storage. A stale id would still be a real, older message of the conversation, so it
 * could hide a gap but never invent one.
 */
final class PreviousIds {
  private static final Logger LOG = LoggerFactory.getLogger(PreviousIds.class);

  /** A conversation's last routed id and the log partition it lives in (-1: no partitions). */
  private record Last(long id, int partition) {}

  private final int max;
  private final Map<Long, Last> last;
  /** Per partition, the offset that follows the last record routed here. */
  private final Map<Integer, Long> nextOffset = new HashMap<>();

  PreviousIds(int max) {
    this.max = max;
    this.last = new LinkedHashMap<>(256, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, Last> eldest) {
        return size() > PreviousIds.this.max;
      }
    };
  }

  /**
   * The id of the message routed before {@code id} in {@code conv} (0: not known), and remembers
   * {@code id} as the conversation's last. An id not above the last one (a batch read again) has
   * no previous id known here.
   */
  long next(long conv, long id, int partition) {
    Last before = last.put(conv, new Last(id, partition));
    return before == null || before.id() >= id ? 0 : before.id();
  }

  /**
   * Whether a record at {@code offset} of {@code partition} follows on from the last one routed
   * here; when it does not, the partition's conversations are forgotten (somebody else may have
   * routed newer messages of them). Call for every record handed on, in log order.
   */
  boolean continues(int partition, long offset) {
    Long expected = nextOffset.put(partition, offset + 1);
    if (expected != null && expected == offset) {
      return true;
    }
    if (expected != null) {
      last.values().removeIf(l -> l.partition() == partition);
    }
    return false;
  }

  /** Whether a conversation's last routed id is known here. */
  boolean knows(long conv) {
    return last.containsKey(conv);
  }

  /**
   * Reads, for each conversation of {@code firstIds} (its first message in a batch about to be
   * routed) that is not known here, the message stored just before that one, and remembers it as
   * the conversation's last. Never fails: a conversation whose read failed stays unknown.
   */
  Future<Void> lookUp(MessageStore store, Map<Long, long[]> firstIds) {
    List<Future<?>> reads = new ArrayList<>();
    firstIds.forEach((conv, first) -> {
      if (last.containsKey(conv)) {
        return;
      }
      long firstId = first[0];
      int partition = (int) first[1];
      reads.add(store.before(conv, firstId, 1).onComplete(ar -> {
        if (ar.failed()) {
          LOG.debug("previous message of conversation {} not read: {}", conv, ar.cause().toString());
        } else if (!ar.result().messages().isEmpty() && !last.containsKey(conv)) {
          long id = ar.result().messages().get(0).serverId();
          if (id < firstId) {
            last.put(conv, new Last(id, partition));
          }
        }
      }));
    });
    return Future.join(reads).<Void>mapEmpty().otherwiseEmpty();
  }
}
