package io.parley.gateway;

import io.parley.history.MessagePage;
import io.parley.history.StoredMessage;
import io.parley.protocol.ClientFrame;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.Outbound;
import io.parley.protocol.ParleyException;
import io.parley.protocol.ServerFrames;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code sync} frames of one connection, and the order of the live messages it gets. Each sync
 * backfills its conversations one after the other (and a sync waits for the one before it), writing
 * the missed messages, then {@code synced}. While a sync runs, the live messages of the
 * conversations it has yet to finish are held back, and after a conversation's backfill those newer
 * than its last backfilled message are sent, so the device sees backfill and live traffic in id
 * order, each message once. Confined to the connection's event loop.
 *
 * <p>Live order: for the conversations this connection got messages of most recently
 * ({@link LastIds}), the last id it got, live or by a sync. A live message not above it is a repeat
 * (a partition's new owner routing again what the old one delivered) and is dropped. A live message
 * whose previous id ({@link Outbound#prev()}, routing's) is above it means that a message never
 * reached this connection (a node that lost touch with the cluster for a moment): the server syncs
 * the conversation for the connection from its last id on its own, holding the live one back, so
 * the lost messages arrive first and in order, as {@code msg} frames without a {@code synced}. When
 * more are missing than one backfill brings ({@code sync.max_messages}), or the backfill fails, the
 * connection is closed (1013): the client reconnects and syncs from its last id, as after any drop.
 * A client's own sync sets the conversation's last id to the newest message it wrote, or to the
 * client's {@code after} when none is newer or the sync failed (the client says it has that one).
 * The connection's own messages (it gets their ack) count as got.
 */
final class Sync {

  /** Where a sync reads missed messages: {@code ConversationService::backfill}. */
  interface History {
    Future<MessagePage> backfill(String user, long conv, long after, int limit);
  }

  /** The connection, as a sync sees it (its {@link Session}). */
  interface Client {
    boolean closed();

    /** Writes a frame (nothing once closed). */
    void write(String frame);

    /** Whether the socket holds more than it should (see {@link WsChannel#writeQueueFull()}). */
    boolean writeQueueFull();

    /** Completes once the socket can take more, or the connection closed. */
    Future<Void> drained();

    void error(String msgId, Long conv, ErrorCode code, String message);

    /** Closes the connection (1013) because the server cannot fill a gap in it: the client reconnects and syncs. */
    void closeBehind(String reason);

    /** Writes a live message that was held back during a sync (counted as delivered, not replayed). */
    default void writeLive(Outbound o) {
      write(o.frame());
    }

    /** One message of a backfill written ({@code parley_sync_messages_replayed_total}). */
    default void replayed() {}
  }

  /**
   * What the syncs of every connection of a gateway instance share.
   *
   * @param maxMessages backfill bound per conversation ({@code sync.max_messages})
   * @param heldBackMax live messages held back per conversation being synced; {@link #hold} answers
   *     {@link Hold#OVERFLOW} for the one after
   */
  record Settings(History history, int maxMessages, int heldBackMax) {}

  /** What {@link #hold} did with a live frame. */
  enum Hold {
    /** Not held: write it now. */
    PASS,
    /** Held back until its conversation's backfill is written. */
    HELD,
    /** Not to be written: a repeat of a message the connection got, or its own (it got the ack). */
    DROP,
    /** Too many held back: the connection is too far behind (close it; it reconnects and syncs). */
    OVERFLOW
  }

  private final String user;
  private final String connection;
  private final Settings settings;
  private final Client client;
  private final LastIds last = new LastIds();
  /** The live messages held back per conversation a sync has yet to finish; null when none. */
  private Map<Long, List<Outbound>> holding;
  /** Syncs requested and not finished. */
  private int running;
  private Future<Void> tail = Future.succeededFuture();

  /** @param connection this connection's id: its own messages are not written to it */
  Sync(String user, String connection, Settings settings, Client client) {
    this.user = user;
    this.connection = connection;
    this.settings = settings;
    this.client = client;
  }

  /** Runs {@code s} once the syncs before it are done. */
  void request(ClientFrame.Sync s) {
    running++;
    tail = tail.transform(v -> sync(s)).andThen(v -> running--);
  }

  /** Whether a sync is running or waiting (its socket may then be full by design). */
  boolean running() {
    return running > 0;
  }

  /** The last id this connection got of {@code conv} ({@link LastIds#UNKNOWN}: not remembered). */
  long lastId(long conv) {
    return last.get(conv);
  }

  /**
   * Decides about a live frame: signals pass; a message is dropped when this connection already
   * has it, held back while its conversation is being synced, held back behind a sync of its own
   * when it shows a gap, and otherwise passes (and is taken as got).
   */
  Hold hold(Outbound o) {
    boolean own = connection.equals(o.skipConnection());
    if (!o.isMessage()) {
      return own ? Hold.DROP : Hold.PASS;
    }
    long conv = o.conv();
    long got = last.get(conv);
    List<Outbound> held = holding == null ? null : holding.get(conv);
    if (held != null) {
      if (got != LastIds.UNKNOWN && o.serverId() <= got) {
        return Hold.DROP;
      }
      if (held.size() >= settings.heldBackMax()) {
        return Hold.OVERFLOW;
      }
      held.add(o);
      return Hold.HELD;
    }
    if (got != LastIds.UNKNOWN) {
      if (o.serverId() <= got) {
        return Hold.DROP;
      }
      if (o.prev() > got) {
        List<Outbound> wait = new ArrayList<>(2);
        wait.add(o);
        fillGap(conv, got, wait);
        return Hold.HELD;
      }
    }
    last.put(conv, o.serverId());
    return own ? Hold.DROP : Hold.PASS;
  }

  /** Holds {@code held} back and syncs {@code conv} from {@code after} once the syncs before are done. */
  private void fillGap(long conv, long after, List<Outbound> held) {
    if (holding == null) {
      holding = new HashMap<>();
    }
    holding.put(conv, held);
    running++;
    tail = tail.transform(v -> syncOne(conv, after, true)).andThen(v -> running--);
  }

  private Future<Void> sync(ClientFrame.Sync s) {
    if (client.closed()) {
      return Future.succeededFuture();
    }
    if (holding == null) {
      holding = new HashMap<>();
    }
    s.convs().keySet().forEach(conv -> holding.putIfAbsent(conv, new ArrayList<>()));
    Future<Void> chain = Future.succeededFuture();
    for (Map.Entry<Long, Long> e : s.convs().entrySet()) {
      chain = chain.transform(v -> syncOne(e.getKey(), e.getValue(), false));
    }
    return chain;
  }

  /**
   * Backfills one conversation, then sends what was held back of it. {@code gap}: the server's own
   * sync of a gap, from the connection's last id (or {@code after}, whichever is higher), with no
   * {@code synced}; a failure or a gap too large for one backfill closes the connection.
   */
  private Future<Void> syncOne(long conv, long after, boolean gap) {
    if (client.closed() || gap && (holding == null || !holding.containsKey(conv))) {
      return Future.succeededFuture(); // (a client's sync of the conversation filled the gap meanwhile)
    }
    long from = gap ? Math.max(after, last.get(conv)) : after;
    return settings.history().backfill(user, conv, from, settings.maxMessages())
        .compose(page -> {
          if (gap && page.more()) {
            release(conv);
            client.closeBehind("too many messages missed: reconnect and sync");
            return Future.succeededFuture();
          }
          return writeAll(page.messages(), 0).map(v -> {
            long newest = page.messages().isEmpty() ? from : page.messages().get(page.messages().size() - 1).serverId();
            long got = last.get(conv);
            last.put(conv, Math.max(got, newest));
            List<Outbound> held = release(conv);
            // a gap sync that brought nothing new does not start another: the held ones go out as they are
            sendHeld(conv, held, !gap || newest > from);
            if (!gap) {
              client.write(ServerFrames.synced(conv, page.more()));
            }
            return (Void) null;
          });
        })
        .recover(t -> {
          release(conv);
          if (!gap) {
            // the client says it has `after`: live messages from now on are checked against it, so one
            // that shows a gap (the held ones dropped here, or older ones) is backfilled, not skipped
            last.put(conv, Math.max(last.get(conv), after));
          }
          if (gap) {
            client.closeBehind("history unavailable: reconnect and sync");
          } else {
            ParleyException e = t instanceof ParleyException pe ? pe : ParleyException.of(ErrorCode.UNAVAILABLE, "history unavailable");
            client.error(null, conv, e.code(), e.getMessage());
          }
          return Future.succeededFuture();
        });
  }

  /** Stops holding {@code conv}; returns what was held of it (null: nothing). */
  private List<Outbound> release(long conv) {
    if (holding == null) {
      return null;
    }
    List<Outbound> held = holding.remove(conv);
    if (holding.isEmpty()) {
      holding = null;
    }
    return held;
  }

  /**
   * Sends the held-back messages newer than the last id, in order; one that shows a gap again
   * (its previous message was routed after the backfill read) holds the rest behind another gap
   * sync when {@code mayFillGap}.
   */
  private void sendHeld(long conv, List<Outbound> held, boolean mayFillGap) {
    if (held == null) {
      return;
    }
    for (int i = 0; i < held.size(); i++) {
      Outbound o = held.get(i);
      long got = last.get(conv);
      if (got != LastIds.UNKNOWN && o.serverId() <= got) {
        continue;
      }
      if (mayFillGap && got != LastIds.UNKNOWN && o.prev() > got) {
        fillGap(conv, got, new ArrayList<>(held.subList(i, held.size())));
        return;
      }
      last.put(conv, o.serverId());
      if (!connection.equals(o.skipConnection())) {
        client.writeLive(o);
      }
    }
  }

  /** Writes backfill frames, waiting for the socket to drain when its queue is full. */
  private Future<Void> writeAll(List<StoredMessage> messages, int from) {
    for (int i = from; i < messages.size(); i++) {
      if (client.closed()) {
        return Future.succeededFuture();
      }
      client.write(messages.get(i).frame());
      client.replayed();
      if (client.writeQueueFull() && i + 1 < messages.size()) {
        int next = i + 1;
        return client.drained().compose(v -> writeAll(messages, next));
      }
    }
    return Future.succeededFuture();
  }
}
