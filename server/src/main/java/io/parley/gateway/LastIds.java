package io.parley.gateway;

import java.util.Arrays;

/**
 * The last message id one connection got, per conversation, for the {@link #MAX} conversations it
 * got messages of most recently (least recently updated forgotten first). Two primitive arrays,
 * allocated on the first message and grown to {@link #MAX}: at most 544 bytes of arrays per
 * connection, nothing for a connection that never gets a message. A linear scan of a few dozen
 * longs costs less than hashing a boxed key, and a connection is rarely in more conversations
 * at once. Confined to the connection's event loop.
 */
final class LastIds {
  /** Conversations remembered per connection. */
  static final int MAX = 32;
  /** What {@link #get} answers for a conversation not remembered. */
  static final long UNKNOWN = -1;
  private static final long[] NONE = new long[0];

  /** Most recently updated first. */
  private long[] convs = NONE;
  private long[] ids = NONE;
  private int size;

  /** The last id of {@code conv} ({@code 0}: it had none when the connection synced it), or {@link #UNKNOWN}. */
  long get(long conv) {
    int i = indexOf(conv);
    return i < 0 ? UNKNOWN : ids[i];
  }

  /** Sets {@code conv}'s last id and makes it the most recent, forgetting the least recent one when full. */
  void put(long conv, long id) {
    int i = indexOf(conv);
    if (i < 0) {
      if (size == convs.length) {
        if (size == MAX) {
          size--; // the least recently updated goes
        } else {
          int grown = size == 0 ? 4 : Math.min(MAX, size * 2);
          convs = Arrays.copyOf(convs, grown);
          ids = Arrays.copyOf(ids, grown);
        }
      }
      i = size++;
    }
    System.arraycopy(convs, 0, convs, 1, i);
    System.arraycopy(ids, 0, ids, 1, i);
    convs[0] = conv;
    ids[0] = id;
  }

  int size() {
    return size;
  }

  private int indexOf(long conv) {
    for (int i = 0; i < size; i++) {
      if (convs[i] == conv) {
        return i;
      }
    }
    return -1;
  }
}
