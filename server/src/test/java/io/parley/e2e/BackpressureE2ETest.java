package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway under backpressure, with clients that do not read: the socket's buffers (the
 * kernel's on both ends and Netty's) fill with large messages. A sync backfill then waits for the
 * socket to drain instead of buffering, and holds the conversation's live messages back until it is
 * done; a live connection that does not read is closed with 1013 and loses nothing once it syncs.
 */
class BackpressureE2ETest {
  /** Large bodies, so a few tens of MB fill the buffers with a few hundred frames. */
  static final int BODY_BYTES = 120 * 1024;
  /** Backfill messages: about 29 MB, many times what the buffers between server and client hold. */
  static final int BACKFILL = 240;
  /** A client that does not read is closed well before alice has sent this many (about 60 MB). */
  static final int SLOW_MAX = 500;
  @TempDir
  static Path dir;
  static TestNode node;
  static Clients clients;
  static final AtomicInteger SEQ = new AtomicInteger();

  @BeforeAll
  static void start() {
    node = TestNode.start(dir, Map.of(
        "PARLEY_STORAGE_FSYNC", "false",
        "PARLEY_LIMITS_BODY_MAX_BYTES", Integer.toString(BODY_BYTES + 1024),
        "PARLEY_LIMITS_FRAME_MAX_BYTES", Integer.toString(4 * BODY_BYTES),
        "PARLEY_LIMITS_SEND_RATE_PER_S", "100000",
        "PARLEY_LIMITS_SEND_BURST", "100000",
        "PARLEY_SYNC_MAX_MESSAGES", "1000"));
    clients = new Clients(node.port);
  }

  @AfterAll
  static void stop() {
    clients.close();
    node.close();
  }

  static String user(String name) {
    return name + "-" + SEQ.incrementAndGet();
  }

  /** A body of about {@link #BODY_BYTES} that names its message, so a frame's content can be checked. */
  static String body(String msgId) {
    StringBuilder b = new StringBuilder(BODY_BYTES).append(msgId).append(':');
    while (b.length() < BODY_BYTES) {
      b.append((char) ('a' + b.length() % 26));
    }
    return b.toString();
  }

  static JsonObject sendFrame(String msgId, String conv) {
    return new JsonObject().put("op", "send").put("msg_id", msgId).put("conv", conv).put("body", body(msgId));
  }

  /**
   * Sends {@code msgIds} pipelined, a window at a time, and returns their server_ids by msg_id in
   * send order. Every reply must be an ack, except that a presence subscriber may get "online"
   * again: the subscription's snapshot and the watched user's connect event can both arrive
   * (presence is best-effort), the second one in the middle of these acks.
   */
  static Map<String, String> sendAll(WsClient sender, String conv, List<String> msgIds) {
    Map<String, String> ids = new LinkedHashMap<>();
    int window = 32;
    for (int from = 0; from < msgIds.size(); from += window) {
      List<String> batch = msgIds.subList(from, Math.min(msgIds.size(), from + window));
      batch.forEach(m -> sender.send(sendFrame(m, conv)));
      for (int acked = 0; acked < batch.size(); ) {
        JsonObject f = sender.next("ack", "presence");
        if ("presence".equals(f.getString("op"))) {
          assertThat(f.getString("state")).as("a repeated presence while sending: %s", f).isEqualTo("online");
        } else {
          ids.put(f.getString("msg_id"), f.getString("server_id"));
          acked++;
        }
      }
    }
    assertThat(ids.keySet()).containsExactlyInAnyOrderElementsOf(msgIds);
    Map<String, String> ordered = new LinkedHashMap<>();
    msgIds.forEach(m -> ordered.put(m, ids.get(m)));
    return ordered;
  }

  /**
   * Sends large messages to {@code conv}, a window at a time, until the sender (subscribed to
   * {@code watched}'s presence) sees {@code watched} go offline: a connection that does not read
   * must be dropped within {@link #SLOW_MAX} messages. Returns the acked ones, msg_id → server_id,
   * in send order.
   */
  static Map<String, String> sendUntilOffline(WsClient sender, String conv, String prefix, String watched) {
    Map<String, String> sent = new LinkedHashMap<>();
    boolean dropped = false;
    int window = 16;
    for (int from = 0; from < SLOW_MAX && !dropped; from += window) {
      for (int i = from; i < from + window; i++) {
        sender.send(sendFrame(prefix + i, conv));
      }
      for (int acked = 0; acked < window; ) {
        JsonObject f = sender.next("ack", "presence");
        if ("presence".equals(f.getString("op"))) {
          assertThat(f.getString("user")).isEqualTo(watched);
          assertThat(f.getString("state")).isEqualTo("offline");
          dropped = true;
        } else {
          sent.put(f.getString("msg_id"), f.getString("server_id"));
          acked++;
        }
      }
    }
    assertThat(dropped).as("%s, who reads nothing, was dropped before %d messages of %d KiB were sent",
        watched, sent.size(), BODY_BYTES / 1024).isTrue();
    return sent;
  }

  static List<String> msgIds(String prefix, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(prefix + i);
    }
    return out;
  }

  /** op and msg_id of each frame, for failure messages that do not print the large bodies. */
  static String summary(List<JsonObject> frames) {
    return frames.stream().map(f -> f.getString("op") + (f.containsKey("msg_id") ? " " + f.getString("msg_id") : "")
        + ("synced".equals(f.getString("op")) ? " more=" + f.getBoolean("more") : "")).toList().toString();
  }

  /**
   * Frames of {@code c} up to and including the first one matching {@code until}; fails as soon as
   * the socket is closed before it, or when nothing arrives for {@link Clients#WAIT}.
   */
  static List<JsonObject> receive(WsClient c, Predicate<JsonObject> until) {
    List<JsonObject> out = new ArrayList<>();
    long quietSince = System.nanoTime();
    while (true) {
      JsonObject f = c.poll(Duration.ofMillis(50));
      if (f != null) {
        out.add(f);
        if (until.test(f)) {
          return out;
        }
        quietSince = System.nanoTime();
      } else if (c.closed.isDone() && c.frames.isEmpty()) {
        throw new AssertionError("socket closed with " + c.closed.getNow(null) + " after " + out.size() + " frames "
            + summary(out));
      } else if (System.nanoTime() - quietSince > Clients.WAIT.toNanos()) {
        throw new AssertionError("nothing for " + Clients.WAIT + " after " + out.size() + " frames " + summary(out));
      }
    }
  }

  /** The msg frames of {@code frames} must be exactly {@code expected} (msg_id → server_id), in that order, with their bodies. */
  static void assertMessages(List<JsonObject> frames, Map<String, String> expected, String what) {
    List<JsonObject> msgs = frames.stream().filter(f -> "msg".equals(f.getString("op"))).toList();
    assertThat(msgs.stream().map(f -> f.getString("msg_id")).toList()).as(what + ": msg_ids, in frames " + summary(frames))
        .containsExactlyElementsOf(expected.keySet());
    assertThat(msgs).as(what + ": server_ids").extracting(f -> f.getString("server_id"))
        .containsExactlyElementsOf(expected.values());
    for (JsonObject m : msgs) {
      assertThat(m.getString("body").equals(body(m.getString("msg_id")))).as(what + ": body of " + m.getString("msg_id")).isTrue();
    }
  }

  @Test
  void aSlowReaderSyncingALargeBackfillGetsAllOfItInOrderThenTheHeldLiveMessagesThenSynced() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    WsClient a = clients.connect(ta, "d");
    Map<String, String> backfill = sendAll(a, conv, msgIds("bf-", BACKFILL));

    WsClient b = clients.connect(tb, "slow");
    b.pause();
    b.send(new JsonObject().put("op", "sync").put("convs", new JsonObject().put(conv, "0")));
    b.fetch(1);
    JsonObject first = b.next("msg");
    assertThat(first.getString("msg_id")).isEqualTo("bf-0");
    // The backfill is being written and bob reads nothing more: the server holds the rest of it
    // back until the socket drains, and with it the sync. Live messages of the conversation sent
    // now must wait for the end of the backfill (a sync that had already ended would have them
    // delivered at once, after `synced`, or have the connection closed as too slow).
    Map<String, String> live = sendAll(a, conv, msgIds("live-", 3));
    assertThat(b.closed).as("bob's connection").isNotDone();

    // bob reads again, slowly: a couple of frames every millisecond or two
    long reader = clients.vertx.setPeriodic(2, t -> b.fetch(2));
    List<JsonObject> got = new ArrayList<>();
    got.add(first);
    try {
      got.addAll(receive(b, f -> "synced".equals(f.getString("op"))));
    } finally {
      clients.vertx.cancelTimer(reader);
      b.resume();
    }
    Map<String, String> expected = new LinkedHashMap<>(backfill);
    expected.putAll(live);
    assertMessages(got.subList(0, got.size() - 1), expected, "backfill then held live messages");
    JsonObject synced = got.get(got.size() - 1);
    assertThat(synced.getString("conv")).isEqualTo(conv);
    assertThat(synced.getBoolean("more")).isFalse();
    assertThat(b.drainWithPing()).as("nothing after synced").isEmpty();

    // the sync is over: live messages flow again, once
    String after = a.sendMsg("after", conv, body("after")).getString("server_id");
    assertThat(b.next("msg").getString("server_id")).isEqualTo(after);
    assertThat(b.drainWithPing()).isEmpty();
    assertThat(b.closed).isNotDone();
  }

  @Test
  void aClientThatReadsIsNotDroppedByABurstOfLargeMessages() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    WsClient a = clients.connect(ta, "d");
    WsClient b = clients.connect(tb, "reader");
    assertThat(b.drainWithPing()).isEmpty();
    // pipelined: routing and fan-out hand bob's connection several of them in one event-loop turn
    Map<String, String> burst = sendAll(a, conv, msgIds("burst-", 64));
    String last = burst.get("burst-63");
    List<JsonObject> got = receive(b, f -> last.equals(f.getString("server_id")));
    assertMessages(got, burst, "a reading client's burst");
    assertThat(b.drainWithPing()).isEmpty();
    assertThat(b.closed).as("bob's connection (closed with %s)", b.closed.getNow(null)).isNotDone();
  }

  @Test
  void aClientThatStopsReadingIsClosedWith1013AndAfterSyncingFromItsLastSeenIdHasEveryMessage() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    WsClient a = clients.connect(ta, "d");
    WsClient b = clients.connect(tb, "slow");
    String firstId = a.sendMsg("first", conv, body("first")).getString("server_id");
    assertThat(b.next("msg").getString("server_id")).isEqualTo(firstId);
    // alice watches bob's presence: bob's only connection going away shows there as offline
    a.send(new JsonObject().put("op", "presence_sub").put("users", new JsonArray().add(bob)));
    assertThat(a.next("presence").getString("state")).isEqualTo("online");

    b.pause();
    Map<String, String> sent = sendUntilOffline(a, conv, "s-", bob);

    // bob reads again: what was queued before the drop, in order, then the close frame
    b.resume();
    assertThat(b.awaitClose()).isEqualTo((short) 1013);
    List<JsonObject> before = new ArrayList<>();
    for (JsonObject f; (f = b.poll(Duration.ZERO)) != null; ) {
      before.add(f);
    }
    assertThat(before).as("only msg frames").allMatch(f -> "msg".equals(f.getString("op")));
    List<String> sentMsgIds = new ArrayList<>(sent.keySet());
    Map<String, String> received = new LinkedHashMap<>();
    sentMsgIds.subList(0, before.size()).forEach(m -> received.put(m, sent.get(m)));
    assertMessages(before, received, "received before the close (a prefix of what was sent)");
    assertThat(before.size()).as("bob did not get everything live").isLessThan(sent.size());

    // bob reconnects and syncs from the last server_id it saw: the rest, nothing twice
    String lastSeen = before.isEmpty() ? firstId : before.get(before.size() - 1).getString("server_id");
    WsClient again = clients.connect(tb, "slow");
    again.send(new JsonObject().put("op", "sync").put("convs", new JsonObject().put(conv, lastSeen)));
    List<JsonObject> synced = receive(again, f -> "synced".equals(f.getString("op")));
    Map<String, String> rest = new LinkedHashMap<>();
    sentMsgIds.subList(before.size(), sentMsgIds.size()).forEach(m -> rest.put(m, sent.get(m)));
    assertMessages(synced.subList(0, synced.size() - 1), rest, "synced after reconnecting");
    assertThat(synced.get(synced.size() - 1).getBoolean("more")).isFalse();
    assertThat(again.drainWithPing()).isEmpty();
  }

  @Test
  void aClientThatStopsReadingIsClosedWith1013AfterItsSocketStaysFullEvenWhenLittleIsQueued() {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    WsClient a = clients.connect(ta, "d");
    // bob's kernel takes only a few KiB, so what he does not read stays on the server's side
    WsClient b = clients.connectWithReceiveBuffer(tb, "slow", 8 * 1024);
    a.send(new JsonObject().put("op", "presence_sub").put("users", new JsonArray().add(bob)));
    assertThat(a.next("presence").getString("state")).isEqualTo("online");
    b.pause();

    // about 6.6 MiB in all, below the 8 MiB of unsent bytes that close a connection at once, but
    // more than the server's socket buffer takes (4 MiB at most here): the rest waits in the server
    long start = System.nanoTime();
    Map<String, String> sent = sendAll(a, conv, msgIds("fill-", 56));
    assertThat(sent).hasSize(56);
    // small messages, a few a second, until bob is dropped: each finds his socket still full
    boolean dropped = false;
    for (int i = 0; i < 60 && !dropped; i++) {
      a.send(new JsonObject().put("op", "send").put("msg_id", "small-" + i).put("conv", conv).put("body", "s"));
      for (JsonObject f; (f = a.poll(Duration.ofMillis(250))) != null; ) {
        if ("presence".equals(f.getString("op"))) {
          assertThat(f.getString("state")).isEqualTo("offline");
          dropped = true;
        }
      }
    }
    long droppedAfterMs = (System.nanoTime() - start) / 1_000_000;
    assertThat(dropped).as("bob was dropped (%d ms after alice started sending)", droppedAfterMs).isTrue();
    // the time rule (docs/protocol.md: a socket full for 2 s), not the byte limit: his socket
    // cannot have been full before alice started sending
    assertThat(droppedAfterMs).isGreaterThanOrEqualTo(2_000);
    b.resume();
    assertThat(b.awaitClose()).isEqualTo((short) 1013);
  }

  @Test
  void aClientThatStopsReadingDuringASyncIsClosedWith1013WhenOtherConversationsPileUp() {
    String alice = user("alice"), bob = user("bob"), carol = user("carol");
    String ta = clients.token(alice), tb = clients.token(bob), tc = clients.token(carol);
    String synced = clients.dm(ta, bob);
    String other = clients.dm(tc, bob);
    WsClient a = clients.connect(ta, "d");
    sendAll(a, synced, msgIds("x", BACKFILL));
    WsClient c = clients.connect(tc, "d");
    c.send(new JsonObject().put("op", "presence_sub").put("users", new JsonArray().add(bob)));
    assertThat(c.next("presence").getString("state")).isEqualTo("offline");

    // bob starts a sync of a backfill larger than the socket's buffers and stops reading: the sync
    // waits for the socket to drain (by design), while carol's messages keep coming live
    WsClient b = clients.connect(tb, "slow");
    assertThat(c.next("presence").getString("state")).isEqualTo("online");
    b.pause();
    b.send(new JsonObject().put("op", "sync").put("convs", new JsonObject().put(synced, "0")));
    sendUntilOffline(c, other, "o-", bob);
    b.resume();
    assertThat(b.awaitClose()).isEqualTo((short) 1013);
  }
}
