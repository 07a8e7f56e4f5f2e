package io.parley.e2e;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One test device of a user on one cluster node: a {@link WsClient} that keeps every frame it
 * received. Waiting for one kind of frame (an ack, a synced) leaves the others in place, and every
 * {@code msg} frame is also kept in arrival order per conversation, so a test can wait for what it
 * needs and still check everything the device got, duplicates included.
 */
final class Device {
  static final Duration FRAME_WAIT = Duration.ofSeconds(Long.getLong("parley.it.frame_s", 30));

  final String user;
  final String name;
  final int node;
  final WsClient ws;
  /** Every frame received, in arrival order. */
  final List<JsonObject> frames = new ArrayList<>();
  private final Set<Integer> consumed = new HashSet<>();
  private final long connectedAt = System.nanoTime();
  /** When this device last sent a frame: long waits send a ping, as clients do, before the idle timeout. */
  private long lastSentAt = System.nanoTime();
  static final long KEEPALIVE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(20);

  private Device(String user, String name, int node, WsClient ws) {
    this.user = user;
    this.name = name;
    this.node = node;
    this.ws = ws;
  }

  /**
   * Connects {@code user}'s device {@code name} to node {@code node} and completes a ping round trip.
   * As a real client's, the socket is kept alive by a WebSocket ping every 20 s, also while the test
   * waits on other devices (a node restarting on a loaded machine can take longer than the server's
   * idle timeout).
   */
  static Device connect(ClusterNodes cluster, int node, String user, String token, String name) {
    Clients clients = cluster.clients(node);
    WsClient ws = clients.connect(token, name);
    long timer = clients.vertx.setPeriodic(TimeUnit.NANOSECONDS.toMillis(KEEPALIVE_NANOS), id -> {
      if (!ws.closed.isDone()) {
        ws.ws.writePing(Buffer.buffer());
      }
    });
    ws.closed.whenComplete((code, e) -> clients.vertx.cancelTimer(timer));
    Device d = new Device(user, name, node, ws);
    d.ping();
    return d;
  }

  /** A ping round trip: every frame the node queued for this socket before it is received. */
  void ping() {
    out(new JsonObject().put("op", "ping"));
    int want = ++pings;
    while (pongs < want) { // the pongs of keep-alive pings come first
      await(f -> "pong".equals(f.getString("op")), FRAME_WAIT, "pong");
      pongs++;
    }
  }

  private int pings;
  private int pongs;

  void send(JsonObject frame) {
    out(frame);
  }

  private void out(JsonObject frame) {
    lastSentAt = System.nanoTime();
    ws.send(frame);
  }

  /** Sends a message without waiting. */
  void sendAsync(String msgId, String conv, String body) {
    sendAsync(msgId, conv, body, null);
  }

  /** Sends a message without waiting, flagged as a first attempt (true), a retry (false) or not at all (null). */
  void sendAsync(String msgId, String conv, String body, Boolean first) {
    JsonObject f = new JsonObject().put("op", "send").put("msg_id", msgId).put("conv", conv).put("body", body);
    if (first != null) {
      f.put("first", first);
    }
    out(f);
  }

  /** Sends a message and returns its {@code ack} or {@code error} frame. */
  JsonObject send(String msgId, String conv, String body) {
    sendAsync(msgId, conv, body);
    return reply(msgId, FRAME_WAIT);
  }

  /**
   * Sends a message and returns its ack, resending it with the same msg_id after an
   * {@code unavailable} as a client does (acks wait for the store: on a loaded machine a first
   * attempt can take longer than the send timeout); fails on any other error frame.
   */
  JsonObject sendAcked(String msgId, String conv, String body) {
    return sendRetrying(msgId, conv, body, FRAME_WAIT, Duration.ofMillis(500));
  }

  /**
   * Sends until acked: an {@code unavailable} error is retried with the same msg_id (as the
   * protocol tells clients to), every {@code backoff}, until {@code timeout}; any other error fails.
   * Returns the ack; {@link #retries} counts the retries.
   */
  JsonObject sendRetrying(String msgId, String conv, String body, Duration timeout, Duration backoff) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<JsonObject> errors = new ArrayList<>();
    while (true) {
      JsonObject r = send(msgId, conv, body);
      if ("ack".equals(r.getString("op"))) {
        return r;
      }
      errors.add(r);
      if (!"unavailable".equals(r.getString("code")) || System.nanoTime() > deadline) {
        throw new AssertionError(this + ": send " + msgId + " not acked within " + timeout + "; replies " + errors);
      }
      retries++;
      try {
        Thread.sleep(backoff.toMillis()); // a client's retry backoff, not a synchronisation point
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  /** How many sends {@link #sendRetrying} repeated after an {@code unavailable}. */
  int retries;

  /** The {@code ack} or {@code error} frame answering {@code msgId}. */
  JsonObject reply(String msgId, Duration timeout) {
    return await(f -> ("ack".equals(f.getString("op")) || "error".equals(f.getString("op")))
        && msgId.equals(f.getString("msg_id")), timeout, "ack|error of " + msgId);
  }

  /** Acks of {@code msgIds} (sent before), in the order of {@code msgIds}; fails on an error frame. */
  List<JsonObject> acks(Collection<String> msgIds) {
    List<JsonObject> out = new ArrayList<>();
    for (String id : msgIds) {
      JsonObject r = reply(id, FRAME_WAIT);
      if (!"ack".equals(r.getString("op"))) {
        throw new AssertionError(this + ": send " + id + " was not acked: " + r.encode());
      }
      out.add(r);
    }
    return out;
  }

  /**
   * Sends {@code sync} for one conversation and returns the frames up to and including its
   * {@code synced} (msg frames of the backfill, and any live ones that came in between).
   */
  List<JsonObject> sync(String conv, String lastSeen) {
    pump();
    int from = frames.size();
    JsonObject request = new JsonObject().put("op", "sync").put("conv", conv).put("convs", new JsonObject().put(conv, lastSeen));
    ws.receivedAt.put(request, System.nanoTime());
    frames.add(request); // not received: marks in the timeline when the sync went out
    consumed.add(from);
    out(new JsonObject().put("op", "sync").put("convs", new JsonObject().put(conv, lastSeen)));
    await(f -> "synced".equals(f.getString("op")) && conv.equals(f.getString("conv")), FRAME_WAIT, "synced " + conv);
    int to = frames.size();
    List<JsonObject> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      JsonObject f = frames.get(i);
      if ("msg".equals(f.getString("op")) && conv.equals(f.getString("conv")) || "synced".equals(f.getString("op"))
          && conv.equals(f.getString("conv"))) {
        out.add(f);
      }
    }
    return out;
  }

  /** Subscribes to presence of {@code users} and returns the first presence frame of each. */
  List<JsonObject> presenceSub(List<String> users) {
    int from = frames.size();
    out(new JsonObject().put("op", "presence_sub").put("users", new JsonArray(users)));
    List<JsonObject> out = new ArrayList<>();
    for (String u : users) {
      out.add(await(f -> "presence".equals(f.getString("op")) && u.equals(f.getString("user")), FRAME_WAIT,
          "presence of " + u, from));
    }
    return out;
  }

  /** Every msg frame of {@code conv} received so far, in arrival order (duplicates kept). */
  List<JsonObject> msgs(String conv) {
    pump();
    return frames.stream().filter(f -> "msg".equals(f.getString("op")) && conv.equals(f.getString("conv"))).toList();
  }

  /**
   * The msg frames of {@code conv}, the {@code synced} frames and this device's {@code sync}
   * requests, in arrival order, each with its arrival in ms since the connection opened. For failure
   * messages.
   */
  String timeline(String conv) {
    pump();
    StringBuilder b = new StringBuilder("[");
    for (JsonObject f : frames) {
      if (!conv.equals(f.getString("conv"))) {
        continue;
      }
      String at = "@" + (ws.receivedAt.getOrDefault(f, connectedAt) - connectedAt) / 1_000_000;
      if ("msg".equals(f.getString("op"))) {
        b.append(b.length() > 1 ? ", " : "").append(f.getString("server_id")).append(at);
      } else if ("synced".equals(f.getString("op"))) {
        b.append(b.length() > 1 ? ", " : "").append("|synced|").append(at);
      } else if ("sync".equals(f.getString("op"))) {
        b.append(b.length() > 1 ? ", " : "").append("|sync sent|").append(at);
      }
    }
    return b.append(']').toString();
  }

  /** server_ids of {@link #msgs}. */
  List<String> msgIds(String conv) {
    return msgs(conv).stream().map(f -> f.getString("server_id")).toList();
  }

  /**
   * Waits until msg frames with every one of {@code serverIds} of {@code conv} have arrived (in any
   * order, duplicates allowed) and returns all msg frames of {@code conv} received.
   */
  List<JsonObject> awaitMsgs(String conv, Collection<String> serverIds, Duration timeout) {
    Set<String> missing = new LinkedHashSet<>(serverIds);
    long deadline = System.nanoTime() + timeout.toNanos();
    int scanned = 0;
    while (true) {
      for (; scanned < frames.size(); scanned++) {
        JsonObject f = frames.get(scanned);
        if ("msg".equals(f.getString("op")) && conv.equals(f.getString("conv"))) {
          missing.remove(f.getString("server_id"));
        }
      }
      if (missing.isEmpty()) {
        return msgs(conv);
      }
      keepAlive();
      long left = deadline - System.nanoTime();
      JsonObject f = left <= 0 ? null : ws.poll(Duration.ofMillis(Math.max(1, Math.min(500, left / 1_000_000))));
      if (f != null) {
        frames.add(f);
      } else if (System.nanoTime() >= deadline) {
        throw new AssertionError(this + ": " + missing.size() + " of " + serverIds.size() + " messages of " + conv
            + " not received within " + timeout + ": missing " + missing + "; got " + timeline(conv)
            + (ws.closed.isDone() ? " (socket closed: " + ws.closed.getNow(null) + ")" : ""));
      }
    }
  }

  /** The first not yet consumed frame matching {@code p}, waiting up to {@code timeout}; marks it consumed. */
  JsonObject await(Predicate<JsonObject> p, Duration timeout, String what) {
    return await(p, timeout, what, 0);
  }

  private JsonObject await(Predicate<JsonObject> p, Duration timeout, String what, int from) {
    for (int i = from; i < frames.size(); i++) {
      if (!consumed.contains(i) && p.test(frames.get(i))) {
        consumed.add(i);
        return frames.get(i);
      }
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      JsonObject f = left <= 0 ? null : ws.poll(Duration.ofMillis(Math.max(1, left / 1_000_000)));
      if (f == null) {
        throw new AssertionError(this + ": no " + what + " within " + timeout + "; frames since: "
            + frames.subList(from, frames.size()) + (ws.closed.isDone() ? " (socket closed: " + ws.closed.getNow(null) + ")" : ""));
      }
      frames.add(f);
      if (p.test(f)) {
        consumed.add(frames.size() - 1);
        return f;
      }
    }
  }

  /** A ping when nothing was sent for a while, so that a long wait does not hit the idle timeout. */
  private void keepAlive() {
    if (System.nanoTime() - lastSentAt > KEEPALIVE_NANOS && !ws.closed.isDone()) {
      out(new JsonObject().put("op", "ping"));
      pings++;
    }
  }

  /** Moves every frame already received into {@link #frames} without waiting. */
  void pump() {
    for (JsonObject f; (f = ws.poll(Duration.ZERO)) != null; ) {
      frames.add(f);
    }
  }

  /** Waits until the socket is closed (e.g. its node died) and returns the close code (-1 when none). */
  short awaitClosed(Duration timeout) {
    try {
      Short s = ws.closed.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      pump();
      return s == null ? -1 : s;
    } catch (Exception e) {
      throw new AssertionError(this + ": socket not closed within " + timeout, e);
    }
  }

  void close() {
    if (!ws.closed.isDone()) {
      ws.close();
    }
  }

  @Override
  public String toString() {
    return user + "/" + name + "@node" + node;
  }
}
