package io.parley.bench;

import io.parley.bench.ChaosHistory.Ack;
import io.parley.bench.ChaosHistory.Delivery;
import io.parley.bench.ChaosHistory.Event;
import io.parley.bench.ChaosHistory.Rejection;
import io.parley.bench.ChaosHistory.Send;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * The run seen in time, against the faults {@code scripts/chaos} logged (a file of lines
 * {@code <epoch ms> TAB <event> TAB <detail>}, events {@code fault_start} and {@code fault_end} among
 * others). A <em>disturbance</em> is what a user notices: an error frame, a connection closed by the
 * server or found dead, a send whose first attempt was not acked within 3 s, or a message whose
 * first delivery to another device came later than max(3 s, 2 x the p99 before the fault). A
 * failed connect is not one (the client moves on to another node), but it counts as the first
 * error. From the fault's start: the first error, the time to recover (until the last disturbance
 * of the send phase; 0 when there was none), and send → deliver (first attempt → first delivery to
 * another device, live, synced or paged) before and during the fault (from its start until it
 * ended or the run recovered, whichever is later).
 */
final class ChaosTimeline {
  private static final Set<String> LOST_CONNECTION = Set.of("closed", "dead");

  private final ChaosHistory h;
  private final long startMs;
  private final long sendEndMs;
  private final List<String[]> faultLines = new ArrayList<>();
  private final Map<String, Long> firstSent = new HashMap<>();
  private final Map<String, Long> firstAck = new HashMap<>();
  private final Map<String, Long> firstDelivered = new HashMap<>();
  private final TreeMap<Long, String> disturbances = new TreeMap<>();
  private final TreeMap<Long, String> connectFailures = new TreeMap<>();
  private Long faultStart;
  private Long faultEnd;

  ChaosTimeline(ChaosHistory h, long startMs, long sendEndMs, String faultsFile) throws IOException {
    this.h = h;
    this.startMs = startMs;
    this.sendEndMs = sendEndMs;
    if (faultsFile != null && Files.exists(Path.of(faultsFile))) {
      for (String line : Files.readAllLines(Path.of(faultsFile))) {
        String[] f = line.split("\t", 3);
        if (f.length < 2 || !f[0].matches("\\d+")) {
          continue;
        }
        faultLines.add(f);
        long t = Long.parseLong(f[0]);
        if (f[1].equals("fault_start") && faultStart == null) {
          faultStart = t;
        } else if (f[1].equals("fault_end")) {
          faultEnd = t;
        }
      }
    }
    Map<String, String> senderDevice = new HashMap<>();
    for (Send s : h.sends) {
      String k = s.user() + "\u0000" + s.msgId();
      if (firstSent.putIfAbsent(k, s.atMs()) == null) {
        senderDevice.put(k, s.device());
      }
    }
    for (Ack a : h.acks) {
      firstAck.merge(a.user() + "\u0000" + a.msgId(), a.atMs(), Math::min);
    }
    for (Delivery d : h.deliveries) {
      String k = d.from() + "\u0000" + d.msgId();
      if (!d.device().equals(senderDevice.get(k))) {
        firstDelivered.merge(k, d.atMs(), Math::min);
      }
    }
    for (Rejection r : h.rejections) {
      disturbances.putIfAbsent(r.atMs(), "error " + r.code() + " to " + r.device());
    }
    for (Event e : h.events) {
      if (LOST_CONNECTION.contains(e.type())) {
        disturbances.putIfAbsent(e.atMs(), e.type() + ": " + e.device() + " on port " + e.port());
      }
    }
    for (Event e : h.events) {
      if (e.type().equals("connect_failed")) {
        connectFailures.putIfAbsent(e.atMs(), "connect failed: " + e.device() + " to port " + e.port());
      }
    }
    Histogram before = Population.newHistogram();
    firstSent.forEach((k, t) -> {
      Long d = firstDelivered.get(k);
      if (d != null && faultStart != null && t < faultStart) {
        Population.record(before, Math.max(1, (d - t) * 1000));
      }
    });
    long lateMs = Math.max(ChaosScenario.RETRY_MS, before.getTotalCount() == 0 ? 0 : 2 * before.getValueAtPercentile(99) / 1000);
    firstSent.forEach((k, t) -> {
      Long d = firstDelivered.get(k);
      if (d != null && d - t > lateMs) {
        disturbances.putIfAbsent(t, "message " + k.replace('\u0000', ' ') + " first delivered after " + (d - t) + " ms");
      }
    });
    firstSent.forEach((k, t) -> {
      Long acked = firstAck.get(k);
      if (acked == null || acked - t > ChaosScenario.RETRY_MS) {
        disturbances.putIfAbsent(t, "send " + k.replace('\u0000', ' ') + (acked == null ? " never acked" : " acked after "
            + (acked - t) + " ms"));
      }
    });
  }

  JsonObject summary() {
    long from = faultStart == null ? startMs : faultStart;
    JsonObject j = new JsonObject();
    j.put("start_s", faultStart == null ? null : (faultStart - startMs) / 1000.0);
    j.put("end_s", faultEnd == null ? null : (faultEnd - startMs) / 1000.0);
    TreeMap<Long, String> errors = new TreeMap<>(connectFailures);
    errors.putAll(disturbances);
    Map.Entry<Long, String> first = errors.ceilingEntry(from);
    j.put("first_error_after_s", first == null ? null : (first.getKey() - from) / 1000.0);
    j.put("first_error", first == null ? null : first.getValue());
    Map.Entry<Long, String> last = disturbances.floorEntry(sendEndMs);
    long recoveredAt = last == null || last.getKey() < from ? from : last.getKey();
    j.put("time_to_recover_s", (recoveredAt - from) / 1000.0);
    j.put("last_error", last == null || last.getKey() < from ? null : last.getValue());
    j.put("disturbances", disturbances.subMap(from, true, sendEndMs, true).size());
    long duringEnd = Math.max(faultEnd == null ? from : faultEnd, recoveredAt);
    Histogram before = Population.newHistogram();
    Histogram during = Population.newHistogram();
    Histogram all = Population.newHistogram();
    firstSent.forEach((k, t) -> {
      Long d = firstDelivered.get(k);
      if (d == null) {
        return;
      }
      long us = Math.max(1, (d - t) * 1000);
      Population.record(all, us);
      if (faultStart != null && t < faultStart) {
        Population.record(before, us);
      } else if (faultStart != null && t <= duringEnd) {
        Population.record(during, us);
      }
    });
    j.put("send_to_deliver_p99_ms", p99(all));
    j.put("send_to_deliver_p99_before_ms", p99(before));
    j.put("send_to_deliver_p99_during_ms", p99(during));
    j.put("messages_sent_during", during.getTotalCount());
    JsonArray events = new JsonArray();
    for (String[] f : faultLines) {
      events.add(new JsonObject().put("t_s", (Long.parseLong(f[0]) - startMs) / 1000.0).put("event", f[1])
          .put("detail", f.length > 2 ? f[2] : ""));
    }
    j.put("events", events);
    return j;
  }

  private static Double p99(Histogram h) {
    return h.getTotalCount() == 0 ? null : h.getValueAtPercentile(99) / 1000.0;
  }

  /** The faults' events, then one line per second of the run: what the clients did and saw. */
  void write(String file) {
    if (file == null) {
      return;
    }
    TreeMap<Long, JsonObject> rows = new TreeMap<>();
    java.util.function.BiConsumer<Long, String> count = (t, key) -> {
      JsonObject row = rows.computeIfAbsent((t - startMs) / 1000, s -> new JsonObject().put("t_s", s));
      row.put(key, row.getLong(key, 0L) + 1);
    };
    h.sends.forEach(s -> count.accept(s.atMs(), s.retry() ? "retries" : "sends"));
    h.acks.forEach(a -> count.accept(a.atMs(), "acks"));
    h.rejections.forEach(r -> count.accept(r.atMs(), "error_" + r.code()));
    h.deliveries.forEach(d -> count.accept(d.atMs(), "delivered_" + d.kind().name().toLowerCase()));
    h.events.forEach(e -> count.accept(e.atMs(), e.type()));
    Map<Long, Histogram> latency = new TreeMap<>();
    firstSent.forEach((k, t) -> {
      Long d = firstDelivered.get(k);
      if (d != null) {
        Population.record(latency.computeIfAbsent((t - startMs) / 1000, s -> Population.newHistogram()),
            Math.max(1, (d - t) * 1000));
      }
    });
    latency.forEach((sec, hist) -> rows.computeIfAbsent(sec, s -> new JsonObject().put("t_s", s))
        .put("send_to_deliver_p99_ms", p99(hist)));
    StringBuilder b = new StringBuilder();
    for (String[] f : faultLines) {
      b.append(new JsonObject().put("t_s", (Long.parseLong(f[0]) - startMs) / 1000.0).put("event", f[1])
          .put("detail", f.length > 2 ? f[2] : "").encode()).append('\n');
    }
    rows.values().forEach(r -> b.append(r.encode()).append('\n'));
    try {
      Path p = Path.of(file);
      if (p.toAbsolutePath().getParent() != null) {
        Files.createDirectories(p.toAbsolutePath().getParent());
      }
      Files.writeString(p, b.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
