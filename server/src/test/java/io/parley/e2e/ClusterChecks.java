package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.testing.Await;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** What the cluster tests check again and again: history over REST, order, exactly-once, deadlines. */
final class ClusterChecks {
  /** Deadline for messages to reach a device in normal operation (cross-node, through Kafka). */
  static final Duration DELIVERY = Duration.ofSeconds(Long.getLong("parley.it.delivery_s", 45));
  /** Deadline for delivery and storage to catch up after a failure (a node or a server came back). */
  static final Duration RECOVERY = Duration.ofSeconds(Long.getLong("parley.it.recovery_s", 120));
  /** How often a probe of the cluster (a REST call) is repeated while waiting. */
  static final Duration POLL = Duration.ofMillis(250);
  private static final AtomicInteger SEQ = new AtomicInteger();

  private ClusterChecks() {}

  /** A user name unique to this JVM run. */
  static String user(String name) {
    return name + "-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet();
  }

  static List<String> serverIds(List<JsonObject> frames) {
    return frames.stream().map(f -> f.getString("server_id")).toList();
  }

  /** Every page of a conversation's history from one node, oldest first. */
  static List<JsonObject> history(Clients clients, String token, String conv) {
    List<JsonObject> newestFirst = new ArrayList<>();
    String before = null;
    for (int page = 0; page < 1000; page++) {
      Clients.Response r = clients.request(HttpMethod.GET, "/v1/conversations/" + conv + "/messages?limit=200"
          + (before == null ? "" : "&before=" + before), token, null);
      assertThat(r.status()).as("history of %s: %s", conv, r.body()).isEqualTo(200);
      JsonArray msgs = r.json().getJsonArray("messages");
      msgs.forEach(o -> newestFirst.add((JsonObject) o));
      before = r.json().getString("next_cursor");
      if (before == null) {
        break;
      }
    }
    Collections.reverse(newestFirst);
    return newestFirst;
  }

  /**
   * Asserts that {@code history} (oldest first) holds exactly {@code expected} server_ids, each
   * once and in that order, with the msg_ids the acks named.
   */
  static void assertHistory(String what, List<JsonObject> history, List<JsonObject> acks) {
    assertThat(serverIds(history)).as("%s: server_ids, each once, oldest first", what)
        .containsExactlyElementsOf(serverIds(acks));
    assertThat(history.stream().map(m -> m.getString("msg_id")).toList()).as("%s: msg_ids", what)
        .containsExactlyElementsOf(acks.stream().map(a -> a.getString("msg_id")).toList());
  }

  /** Polls a node's history until it holds every acked message (storage may lag), then checks it exactly. */
  static List<JsonObject> awaitHistory(String what, Clients clients, String token, String conv, List<JsonObject> acks,
      Duration timeout) {
    List<String> want = serverIds(acks);
    List<JsonObject> h = Await.valueOrNull(() -> {
      try {
        List<JsonObject> got = history(clients, token, conv);
        return serverIds(got).containsAll(want) ? got : null;
      } catch (RuntimeException | AssertionError e) {
        return null; // a node or server on its way back
      }
    }, timeout, POLL);
    if (h == null) {
      List<String> last;
      try {
        last = serverIds(history(clients, token, conv));
      } catch (RuntimeException | AssertionError e) {
        last = List.of("<history failed: " + e.getMessage() + ">");
      }
      List<String> seen = last;
      throw new AssertionError(what + ": history never held all " + want.size() + " acked messages within " + timeout
          + "; missing " + want.stream().filter(id -> !seen.contains(id)).toList() + "; last history " + last);
    }
    assertHistory(what, h, acks);
    return h;
  }

  /**
   * For each device: its msg frames of {@code conv} are exactly the expected server_ids, each once
   * and in that order (or, with {@code dedupe}, after dropping repeats: every copy of a server_id
   * but its last one). Keeping the last copy is what makes the protocol's one allowed disorder pass:
   * a message fanned out after a device reconnected but before its {@code sync} was served arrives
   * live first and again, in its place, in the backfill; a redelivery after a routing failover
   * repeats messages already delivered. Anything else out of order still fails. Checks every device before
   * failing, and describes each mismatch (missing, unexpected, repeated, out of order).
   */
  static void assertDevices(String conv, Map<Device, List<String>> expected, boolean dedupe) {
    assertDevices(conv, expected, dedupe, 0);
  }

  /**
   * As {@link #assertDevices(String, Map, boolean)} for devices that synced from {@code lastSeen}:
   * first drops the frames at or below it, as such a client does (docs/protocol.md: after a routing
   * failover, messages the dead node had already delivered may come again).
   */
  static void assertDevicesAfter(String conv, Map<Device, List<String>> expected, String lastSeen) {
    assertDevices(conv, expected, true, Long.parseLong(lastSeen));
  }

  private static void assertDevices(String conv, Map<Device, List<String>> expected, boolean dedupe, long after) {
    StringBuilder failures = new StringBuilder();
    for (Map.Entry<Device, List<String>> e : expected.entrySet()) {
      List<String> all = e.getKey().msgIds(conv);
      List<String> got = all.stream().filter(id -> Long.parseLong(id) > after).toList();
      if (got.size() < all.size()) {
        System.out.println("[check] " + e.getKey() + ": " + (all.size() - got.size())
            + " redelivered messages at or below the sync point (dropped, as a client does)");
      }
      List<String> seen = dedupe ? lastCopies(got) : got;
      if (!seen.equals(e.getValue())) {
        failures.append("\n  ").append(e.getKey()).append(": ").append(describe(got, e.getValue()))
            .append("\n      arrival  ").append(e.getKey().timeline(conv));
      } else if (dedupe && got.size() > seen.size()) {
        System.out.println("[check] " + e.getKey() + ": " + (got.size() - seen.size()) + " duplicate deliveries (deduplicated)");
      }
    }
    if (failures.length() > 0) {
      throw new AssertionError("conversation " + conv + ": devices did not get every message exactly once"
          + (dedupe ? " (after dropping repeats)" : "") + " in order:" + failures);
    }
  }

  /** {@code ids} without the earlier copies of any id that occurs again later. */
  static List<String> lastCopies(List<String> ids) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      if (ids.subList(i + 1, ids.size()).indexOf(ids.get(i)) < 0) {
        out.add(ids.get(i));
      }
    }
    return out;
  }

  /** What differs between the server_ids a device got and those it should have got. */
  static String describe(List<String> got, List<String> expected) {
    List<String> missing = expected.stream().filter(id -> !got.contains(id)).toList();
    List<String> unexpected = got.stream().filter(id -> !expected.contains(id)).distinct().toList();
    Map<String, Integer> counts = new HashMap<>();
    got.forEach(id -> counts.merge(id, 1, Integer::sum));
    List<String> repeated = got.stream().distinct().filter(id -> counts.get(id) > 1).toList();
    List<String> lasts = lastCopies(got).stream().filter(expected::contains).toList();
    List<String> expectedPresent = expected.stream().filter(got::contains).toList();
    return "expected " + expected.size() + ", got " + got.size() + " frames"
        + (missing.isEmpty() ? "" : "; missing " + missing)
        + (unexpected.isEmpty() ? "" : "; unexpected " + unexpected)
        + (repeated.isEmpty() ? "" : "; repeated " + repeated)
        + (lasts.equals(expectedPresent) ? "" : "; out of order")
        + "\n      expected " + expected + "\n      got      " + got;
  }

  /**
   * Checks that keep going after a failure, so that one failing run shows everything that went
   * wrong (every device, every node's history), under one deadline shared by all of them.
   */
  static final class Soft {
    private final long deadline;
    private final List<String> problems = new ArrayList<>();

    Soft(Duration total) {
      deadline = System.nanoTime() + total.toNanos();
    }

    /** What is left of the deadline, at least 5 s (checks after a timed-out one get a short look). */
    Duration left() {
      return Duration.ofNanos(Math.max(deadline - System.nanoTime(), Duration.ofSeconds(5).toNanos()));
    }

    void check(Runnable r) {
      try {
        r.run();
      } catch (AssertionError | RuntimeException e) {
        problems.add(e.getMessage());
      }
    }

    void done() {
      if (!problems.isEmpty()) {
        throw new AssertionError(problems.size() + " problem(s):\n- " + String.join("\n- ", problems));
      }
    }
  }

  /** server_ids in ascending numeric order. */
  static List<String> ascending(List<String> ids) {
    return ids.stream().sorted((a, b) -> Long.compare(Long.parseLong(a), Long.parseLong(b))).toList();
  }

  static void assertStrictlyIncreasing(String what, List<String> ids) {
    for (int i = 1; i < ids.size(); i++) {
      assertThat(Long.parseLong(ids.get(i))).as("%s: server_id %d of %s", what, i, ids)
          .isGreaterThan(Long.parseLong(ids.get(i - 1)));
    }
  }
}
