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
 * The {@code sync} frames of one connection: each backfills its conversations one after the other
 * (and a sync waits for the one before it), writing the missed messages, then {@code synced}. While
 * a sync runs, the live messages of the conversations it has yet to finish are held back, and
 * after a conversation's backfill those newer than its last backfilled message are sent, so the
 * device sees backfill and live traffic in id order, each message once. Confined to the
 * connection's event loop.
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
    /** Too many held back: the connection is too far behind (close it; it reconnects and syncs). */
    OVERFLOW
  }

  private final String user;
  private final Settings settings;
  private final Client client;
  /** While a sync runs: the live messages held back per conversation it has yet to finish. */
  private Map<Long, List<Outbound>> syncing;
  private Future<Void> tail = Future.succeededFuture();

  Sync(String user, Settings settings, Client client) {
    this.user = user;
    this.settings = settings;
    this.client = client;
  }

  /** Runs {@code s} once the syncs before it are done. */
  void request(ClientFrame.Sync s) {
    tail = tail.transform(v -> sync(s));
  }

  /** Whether a sync is running (its socket may then be full by design). */
  boolean running() {
    return syncing != null;
  }

  /** Holds back a live message of a conversation the running sync has yet to finish. */
  Hold hold(Outbound o) {
    if (syncing == null || !o.isMessage()) {
      return Hold.PASS;
    }
    List<Outbound> held = syncing.get(o.conv());
    if (held == null) {
      return Hold.PASS;
    }
    if (held.size() >= settings.heldBackMax()) {
      return Hold.OVERFLOW;
    }
    held.add(o);
    return Hold.HELD;
  }

  private Future<Void> sync(ClientFrame.Sync s) {
    if (client.closed()) {
      return Future.succeededFuture();
    }
    if (syncing == null) {
      syncing = new HashMap<>();
    }
    s.convs().keySet().forEach(conv -> syncing.putIfAbsent(conv, new ArrayList<>()));
    Future<Void> chain = Future.succeededFuture();
    for (Map.Entry<Long, Long> e : s.convs().entrySet()) {
      chain = chain.transform(v -> syncOne(e.getKey(), e.getValue()));
    }
    return chain.andThen(v -> syncing = null);
  }

  private Future<Void> syncOne(long conv, long after) {
    if (client.closed()) {
      return Future.succeededFuture();
    }
    return settings.history().backfill(user, conv, after, settings.maxMessages())
        .compose(page -> writeAll(page.messages(), 0).map(v -> {
          long newest = page.messages().isEmpty() ? after : page.messages().get(page.messages().size() - 1).serverId();
          List<Outbound> held = syncing.remove(conv);
          if (held != null) {
            for (Outbound o : held) {
              if (o.serverId() > newest) {
                client.write(o.frame());
              }
            }
          }
          client.write(ServerFrames.synced(conv, page.more()));
          return (Void) null;
        }))
        .recover(t -> {
          syncing.remove(conv);
          ParleyException e = t instanceof ParleyException pe ? pe : ParleyException.of(ErrorCode.UNAVAILABLE, "history unavailable");
          client.error(null, conv, e.code(), e.getMessage());
          return Future.succeededFuture();
        });
  }

  /** Writes backfill frames, waiting for the socket to drain when its queue is full. */
  private Future<Void> writeAll(List<StoredMessage> messages, int from) {
    for (int i = from; i < messages.size(); i++) {
      if (client.closed()) {
        return Future.succeededFuture();
      }
      client.write(messages.get(i).frame());
      if (client.writeQueueFull() && i + 1 < messages.size()) {
        int next = i + 1;
        return client.drained().compose(v -> writeAll(messages, next));
      }
    }
    return Future.succeededFuture();
  }
}
