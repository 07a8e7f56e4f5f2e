package io.parley.bench;

import io.parley.bench.ChaosHistory.Ack;
import io.parley.bench.ChaosHistory.Delivery;
import io.parley.bench.ChaosHistory.Kind;
import io.parley.bench.ChaosHistory.Send;
import io.parley.bench.ChaosHistory.Stored;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Judges a {@link ChaosHistory} after the run. Five checks, each counting its violations by kind
 * and keeping the first few as examples:
 * <ol>
 *   <li>{@code stored_once}: every acked message is stored exactly once, under its acked server_id
 *       (kinds: {@code lost} acked but not stored, {@code duplicate} two stored messages with one
 *       (from, msg_id), {@code stored_under_other_id} stored once but not under the id its ack carried);</li>
 *   <li>{@code retry_same_id}: all acks of one (user, msg_id) carry one server_id and ts;</li>
 *   <li>{@code complete}: every device of every member has every stored message of its
 *       conversations (delivered live, by sync or by paging, or acked to it as its own send);</li>
 *   <li>{@code live_order}: per connection and conversation, the live {@code msg} server_ids
 *       strictly increase ({@code repeat}: an id this connection had live already; {@code reorder}: lower
 *       than one before it);</li>
 *   <li>{@code no_phantom}: every delivered or stored message exists in storage with the same
 *       body, sender and conversation, its body's tag names that sender, conversation and msg_id,
 *       and the sender did send that msg_id with that body ({@code phantom}, {@code misattributed},
 *       {@code never_sent}).</li>
 * </ol>
 */
final class HistoryChecker {
  static final String STORED_ONCE = "stored_once";
  static final String RETRY_SAME_ID = "retry_same_id";
  static final String COMPLETE = "complete";
  static final String LIVE_ORDER = "live_order";
  static final String NO_PHANTOM = "no_phantom";
  static final List<String> CHECKS = List.of(STORED_ONCE, RETRY_SAME_ID, COMPLETE, LIVE_ORDER, NO_PHANTOM);
  static final int EXAMPLES = 5;

  private HistoryChecker() {
  }

  /** The outcome of one check: violations by kind, and examples. */
  static final class Check {
    final String name;
    final Map<String, Long> kinds = new LinkedHashMap<>();
    final List<String> examples = new ArrayList<>();
    long checked;

    Check(String name) {
      this.name = name;
    }

    void violation(String kind, String example) {
      kinds.merge(kind, 1L, Long::sum);
      if (examples.size() < EXAMPLES) {
        examples.add(kind + ": " + example);
      }
    }

    long violations() {
      return kinds.values().stream().mapToLong(Long::longValue).sum();
    }

    long count(String kind) {
      return kinds.getOrDefault(kind, 0L);
    }

    JsonObject toJson() {
      JsonObject k = new JsonObject();
      kinds.forEach(k::put);
      return new JsonObject().put("passed", violations() == 0).put("checked", checked)
          .put("violations", violations()).put("kinds", k).put("examples", new JsonArray(List.copyOf(examples)));
    }
  }

  /** All checks of one history. */
  static final class Verdict {
    final Map<String, Check> checks = new LinkedHashMap<>();
    final Map<String, Long> counts = new LinkedHashMap<>();

    Check check(String name) {
      return checks.get(name);
    }

    boolean clean() {
      return checks.values().stream().allMatch(c -> c.violations() == 0);
    }

    /** Names of the checks with violations. */
    List<String> failed() {
      return checks.values().stream().filter(c -> c.violations() > 0).map(c -> c.name).toList();
    }

    JsonObject toJson() {
      JsonObject c = new JsonObject();
      counts.forEach(c::put);
      JsonObject j = new JsonObject();
      checks.forEach((n, ch) -> j.put(n, ch.toJson()));
      return new JsonObject().put("clean", clean()).put("counts", c).put("checks", j);
    }
  }

  static Verdict check(ChaosHistory h) {
    Verdict v = new Verdict();
    for (String name : CHECKS) {
      v.checks.put(name, new Check(name));
    }
    Map<String, List<Stored>> storedByKey = new HashMap<>();
    Map<String, Stored> storedById = new HashMap<>();
    Map<String, Set<Long>> storedByConv = new HashMap<>();
    for (Stored s : h.stored) {
      storedByKey.computeIfAbsent(key(s.from(), s.msgId()), k -> new ArrayList<>()).add(s);
      storedById.put(s.conv() + "/" + s.serverId(), s);
      storedByConv.computeIfAbsent(s.conv(), k -> new HashSet<>()).add(s.serverId());
    }
    Map<String, List<Ack>> acksByKey = new LinkedHashMap<>();
    for (Ack a : h.acks) {
      acksByKey.computeIfAbsent(key(a.user(), a.msgId()), k -> new ArrayList<>()).add(a);
    }
    Map<String, Send> firstSend = new HashMap<>();
    for (Send s : h.sends) {
      firstSend.putIfAbsent(key(s.user(), s.msgId()), s);
    }
    v.counts.put("messages_sent", (long) firstSend.size());
    v.counts.put("send_attempts", (long) h.sends.size());
    v.counts.put("retries", h.sends.stream().filter(Send::retry).count());
    v.counts.put("acked_messages", (long) acksByKey.size());
    v.counts.put("acks", (long) h.acks.size());
    v.counts.put("errors", (long) h.rejections.size());
    v.counts.put("deliveries", (long) h.deliveries.size());
    v.counts.put("stored", (long) h.stored.size());
    v.counts.put("devices", (long) h.deviceUser.size());
    v.counts.put("conversations", (long) h.members.size());

    storedOnce(v.check(STORED_ONCE), acksByKey, storedByKey);
    retrySameId(v.check(RETRY_SAME_ID), acksByKey);
    complete(v.check(COMPLETE), h, storedByConv);
    liveOrder(v.check(LIVE_ORDER), h);
    noPhantom(v.check(NO_PHANTOM), h, storedById, firstSend);
    return v;
  }

  private static void storedOnce(Check c, Map<String, List<Ack>> acksByKey, Map<String, List<Stored>> storedByKey) {
    storedByKey.forEach((key, list) -> {
      if (list.size() > 1) {
        c.violation("duplicate", show(key) + " stored " + list.size() + " times: "
            + list.stream().map(s -> s.conv() + "/" + s.serverId()).toList());
      }
    });
    acksByKey.forEach((key, acks) -> {
      c.checked++;
      List<Stored> stored = storedByKey.getOrDefault(key, List.of());
      if (stored.isEmpty()) {
        c.violation("lost", show(key) + " acked as " + acks.get(0).serverId() + " in " + acks.get(0).conv()
            + " but not in storage");
      } else if (stored.size() == 1) {
        long id = stored.get(0).serverId();
        for (Ack a : acks) {
          if (a.serverId() != id || !a.conv().equals(stored.get(0).conv())) {
            c.violation("stored_under_other_id", show(key) + " acked as " + a.conv() + "/" + a.serverId()
                + " to " + a.device() + ", stored as " + stored.get(0).conv() + "/" + id);
            break;
          }
        }
      }
    });
  }

  private static void retrySameId(Check c, Map<String, List<Ack>> acksByKey) {
    acksByKey.forEach((key, acks) -> {
      c.checked++;
      Ack first = acks.get(0);
      for (Ack a : acks) {
        if (a.serverId() != first.serverId() || a.ts() != first.ts()) {
          c.violation("different_ack", show(key) + " acked " + acks.size() + " times: "
              + acks.stream().map(x -> x.serverId() + "@" + x.ts()).distinct().toList());
          return;
        }
      }
    });
  }

  private static void complete(Check c, ChaosHistory h, Map<String, Set<Long>> storedByConv) {
    Map<String, Set<Long>> has = new HashMap<>();
    for (Delivery d : h.deliveries) {
      has.computeIfAbsent(d.device() + "\u0000" + d.conv(), k -> new HashSet<>()).add(d.serverId());
    }
    for (Ack a : h.acks) {
      has.computeIfAbsent(a.device() + "\u0000" + a.conv(), k -> new HashSet<>()).add(a.serverId());
    }
    h.deviceUser.forEach((device, user) -> h.members.forEach((conv, users) -> {
      if (!users.contains(user)) {
        return;
      }
      Set<Long> got = has.getOrDefault(device + "\u0000" + conv, Set.of());
      for (long id : storedByConv.getOrDefault(conv, Set.of())) {
        c.checked++;
        if (!got.contains(id)) {
          c.violation("missing", "device " + device + " (" + user + ") never got " + conv + "/" + id);
        }
      }
    }));
  }

  private static void liveOrder(Check c, ChaosHistory h) {
    Map<String, Long> last = new HashMap<>();
    Map<String, Set<Long>> seen = new HashMap<>();
    for (Delivery d : h.deliveries) {
      if (d.kind() != Kind.LIVE) {
        continue;
      }
      c.checked++;
      String k = d.device() + "#" + d.connection() + "/" + d.conv();
      Long prev = last.get(k);
      Set<Long> ids = seen.computeIfAbsent(k, x -> new HashSet<>());
      if (prev != null && d.serverId() <= prev) {
        c.violation(ids.contains(d.serverId()) ? "repeat" : "reorder", "connection " + d.device() + "#"
            + d.connection() + " got " + d.conv() + "/" + d.serverId() + " live after " + prev);
      } else {
        last.put(k, d.serverId());
      }
      ids.add(d.serverId());
    }
  }

  private static void noPhantom(Check c, ChaosHistory h, Map<String, Stored> storedById, Map<String, Send> firstSend) {
    for (Delivery d : h.deliveries) {
      c.checked++;
      String where = d.kind().name().toLowerCase() + " to " + d.device() + ": " + d.conv() + "/" + d.serverId();
      Stored s = storedById.get(d.conv() + "/" + d.serverId());
      if (s == null) {
        c.violation("phantom", where + " is not in storage");
      } else if (!s.from().equals(d.from()) || !s.msgId().equals(d.msgId()) || !s.body().equals(d.body())) {
        c.violation("misattributed", where + " from " + d.from() + " msg_id " + d.msgId() + " differs from the stored "
            + s.from() + " msg_id " + s.msgId() + (s.body().equals(d.body()) ? "" : " (body too)"));
      } else {
        attributed(c, where, d.from(), d.conv(), d.msgId(), d.body(), firstSend);
      }
    }
    for (Stored s : h.stored) {
      c.checked++;
      attributed(c, "stored " + s.conv() + "/" + s.serverId(), s.from(), s.conv(), s.msgId(), s.body(), firstSend);
    }
  }

  /** The body's tag names this sender, conversation and msg_id, and that sender sent exactly this. */
  private static void attributed(Check c, String where, String from, String conv, String msgId, String body,
      Map<String, Send> firstSend) {
    String[] tag = ChaosHistory.tag(body);
    if (tag == null || !tag[0].equals(from) || !tag[1].equals(conv) || !tag[2].equals(msgId)) {
      c.violation("misattributed", where + " from " + from + " msg_id " + msgId + " carries the body of "
          + (tag == null ? "no chaos message" : tag[0] + " in " + tag[1] + " msg_id " + tag[2]));
      return;
    }
    Send s = firstSend.get(key(from, msgId));
    if (s == null || !s.body().equals(body) || !s.conv().equals(conv)) {
      c.violation("never_sent", where + ": " + from + " never sent msg_id " + msgId + " with this body to " + conv);
    }
  }

  private static String key(String user, String msgId) {
    return user + "\u0000" + msgId;
  }

  private static String show(String key) {
    int at = key.indexOf('\u0000');
    return key.substring(0, at) + " msg_id " + key.substring(at + 1);
  }
}
