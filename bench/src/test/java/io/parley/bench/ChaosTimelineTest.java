package io.parley.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.bench.ChaosHistory.Ack;
import io.parley.bench.ChaosHistory.Delivery;
import io.parley.bench.ChaosHistory.Event;
import io.parley.bench.ChaosHistory.Kind;
import io.parley.bench.ChaosHistory.Rejection;
import io.parley.bench.ChaosHistory.Send;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fault timings from a history and the faults' log: first error, time to recover, send → deliver before and during. */
class ChaosTimelineTest {
  static final long T0 = 1_000_000;

  @TempDir
  Path dir;

  /** bob sends one message per second from T0 to T0+29 s, delivered to a2 after 100 ms (or as given), acked after 10 ms. */
  static ChaosHistory traffic(long slowFrom, long slowTo, long slowMs) {
    ChaosHistory h = new ChaosHistory();
    for (int i = 0; i < 30; i++) {
      long t = T0 + i * 1000L;
      String id = "m" + i;
      String body = ChaosHistory.body("bob", "10", id, 40);
      long latency = t >= slowFrom && t < slowTo ? slowMs : 100;
      h.add(new Send("bob", "b1", "10", id, body, t, false));
      h.add(new Ack("bob", "b1", "10", id, 1024L * (i + 1), t, t + 10));
      h.add(new Delivery("a2", 1, "10", 1024L * (i + 1), "bob", id, body, Kind.LIVE, t + latency));
    }
    return h;
  }

  Path faults(long start, long end) throws Exception {
    Path f = dir.resolve("faults.log");
    Files.write(f, List.of(start + "\tfault_start\tkill -9 node 3", end + "\tfault_end\tnode 3 back"));
    return f;
  }

  @Test
  void recoveryEndsAtTheLastErrorLateAckOrLateDeliveryAndLatencyIsSplitAtTheFault() throws Exception {
    // the fault at +10 s; messages sent from +11 to +15 s take 5 s to arrive (over max(3 s, 2 x 100 ms))
    ChaosHistory h = traffic(T0 + 11_000, T0 + 15_000, 5_000);
    h.add(new Event("a2", "connect_failed", 18083, T0 + 10_200));
    h.add(new Event("a2", "closed", 18083, T0 + 10_400));
    h.add(new Rejection("bob", "b1", "10", "m12", "unavailable", T0 + 12_500));
    JsonObject s = new ChaosTimeline(h, T0, T0 + 30_000, faults(T0 + 10_000, T0 + 12_000).toString()).summary();
    assertThat(s.getDouble("start_s")).isEqualTo(10.0);
    assertThat(s.getDouble("end_s")).isEqualTo(12.0);
    // the failed connect is the first error, but recovery does not wait for connects to a dead node
    assertThat(s.getDouble("first_error_after_s")).isEqualTo(0.2);
    assertThat(s.getString("first_error")).startsWith("connect failed");
    // the last late message was sent at +14 s; "during" is +10 to +14 s, 4 of its 5 messages late
    assertThat(s.getDouble("time_to_recover_s")).isEqualTo(4.0);
    assertThat(s.getDouble("send_to_deliver_p99_before_ms")).isEqualTo(100.0, org.assertj.core.data.Offset.offset(0.2));
    assertThat(s.getDouble("send_to_deliver_p99_during_ms")).isEqualTo(5_000.0, org.assertj.core.data.Offset.offset(5.0));
    assertThat(s.getLong("messages_sent_during")).isEqualTo(5);
  }

  @Test
  void aFaultNobodyNoticedRecoversAtOnce() throws Exception {
    ChaosHistory h = traffic(0, 0, 0);
    JsonObject s = new ChaosTimeline(h, T0, T0 + 30_000, faults(T0 + 10_000, T0 + 11_000).toString()).summary();
    assertThat(s.getDouble("time_to_recover_s")).isZero();
    assertThat(s.getValue("first_error_after_s")).isNull();
    assertThat(s.getInteger("disturbances")).isZero();
  }

  @Test
  void theTimelineHasTheFaultsThenOneLinePerSecond() throws Exception {
    ChaosHistory h = traffic(0, 0, 0);
    Path out = dir.resolve("timeline.jsonl");
    new ChaosTimeline(h, T0, T0 + 30_000, faults(T0 + 10_000, T0 + 11_000).toString()).write(out.toString());
    List<String> lines = Files.readAllLines(out);
    assertThat(lines).hasSize(2 + 30);
    assertThat(new JsonObject(lines.get(0)).getString("event")).isEqualTo("fault_start");
    JsonObject second = new JsonObject(lines.get(2 + 5));
    assertThat(second.getLong("t_s")).isEqualTo(5);
    assertThat(second.getLong("sends")).isEqualTo(1);
    assertThat(second.getLong("acks")).isEqualTo(1);
    assertThat(second.getLong("delivered_live")).isEqualTo(1);
  }
}
