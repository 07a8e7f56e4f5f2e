package io.parley.bridge;

import io.parley.protocol.Addresses;
import io.parley.protocol.ChatMessage;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Where routing hands stored messages to the bridge's {@code parley.bridge.events.messages}
 * stream, on every node that routes (embedded: the node; cluster: routing nodes), whether or not
 * it runs a bridge itself. It builds and publishes an event only while some bridge, on any node,
 * has a client following the stream: a bridge announces that on {@link Addresses#BRIDGE_INTEREST}
 * (every {@link #ANNOUNCE_MS} ms, each announcement good for {@link #INTEREST_TTL_MS} ms) and
 * tells its own node's tap at once. With nobody following, {@link #stored} costs a volatile read
 * and a clock read per message.
 */
public final class BridgeTap {
  /** How often a bridge with followers of the message stream announces its interest. */
  static final long ANNOUNCE_MS = 5_000;
  /** How long one announcement keeps a node publishing message events. */
  static final long INTEREST_TTL_MS = 15_000;
  /** A tap that never publishes (tests, and nodes without routing). */
  public static final BridgeTap OFF = new BridgeTap(null, false);

  private final EventBus bus;
  private final boolean includeBodies;
  /** System.nanoTime() until which message events are wanted; 0: never announced. */
  private volatile long wantedUntil;

  /**
   * @param includeBodies {@code bridge.include_bodies}: events carry the message body
   */
  public BridgeTap(EventBus bus, boolean includeBodies) {
    this.bus = bus;
    this.includeBodies = includeBodies;
  }

  /** Listens for the bridges' announcements (from every node: a clustered consumer). */
  public Future<Void> listen() {
    return bus.<JsonObject>consumer(Addresses.BRIDGE_INTEREST, m -> {
      Long ttl = m.body() == null ? null : m.body().getLong("ttl_ms");
      if (ttl != null) {
        interest(ttl);
      }
    }).completion();
  }

  /** Message events are wanted for the next {@code ttlMs} ms (at most {@link #INTEREST_TTL_MS}). */
  void interest(long ttlMs) {
    if (this == OFF) {
      return;
    }
    wantedUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.min(Math.max(ttlMs, 0), INTEREST_TTL_MS));
  }

  /** Whether some bridge follows the message stream now. */
  public boolean wanted() {
    long until = wantedUntil;
    return until != 0 && System.nanoTime() - until < 0;
  }

  /** A message was stored (a new one, not a duplicate): published when {@link #wanted()}. */
  public void stored(ChatMessage m) {
    if (!wanted()) {
      return;
    }
    bus.publish(Addresses.BRIDGE_MESSAGE_EVENTS, event(m, includeBodies));
  }

  /**
   * A message-stored event: ids and metadata ({@code size}: the body's length in UTF-8 bytes,
   * {@code media}: the number of attachments), the body only when asked for.
   */
  static JsonObject event(ChatMessage m, boolean includeBodies) {
    String body = m.body() == null ? "" : m.body();
    JsonObject e = new JsonObject().put("event", "message_stored").put("conv", Long.toString(m.conv()))
        .put("server_id", Long.toString(m.serverId())).put("from", m.from()).put("msg_id", m.msgId())
        .put("ts", m.ts()).put("size", body.getBytes(StandardCharsets.UTF_8).length)
        .put("media", m.media() == null ? 0 : m.media().size());
    if (includeBodies) {
      e.put("body", body);
      if (m.media() != null && !m.media().isEmpty()) {
        e.put("media_items", m.media().copy());
      }
    }
    return e;
  }
}
