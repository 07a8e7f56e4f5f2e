package io.parley.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LatencyTimelineTest {
  @Test
  void eachDeliveryCountsInTheSecondItWasScheduledIn() {
    LatencyTimeline tl = new LatencyTimeline(5);
    long t0 = System.nanoTime();
    long before = System.currentTimeMillis();
    tl.start(t0);
    for (int i = 0; i < 99; i++) {
      tl.record(t0 + 100_000_000L, 2_000); // second 0: 99 deliveries of 2 ms
    }
    tl.record(t0 + 900_000_000L, 80_000); // second 0: one stall of 80 ms
    tl.record(t0 + 2_500_000_000L, 5_000); // second 2: one of 5 ms
    tl.record(t0 - 1, 1_000); // before the schedule: not counted
    tl.record(t0 + 7_000_000_000L, 1_000); // past the end: not counted

    List<String> lines = tl.lines();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).isEqualTo("second,epoch_ms,deliveries,p50_ms,p99_ms,max_ms");
    String[] s0 = lines.get(1).split(",");
    assertThat(s0[0]).isEqualTo("0");
    assertThat(Long.parseLong(s0[1])).isBetween(before - 5, System.currentTimeMillis() + 5);
    assertThat(s0[2]).isEqualTo("100");
    assertThat(Double.parseDouble(s0[3])).isBetween(1.9, 2.1);
    assertThat(Double.parseDouble(s0[5])).isBetween(79.0, 81.0);
    String[] s2 = lines.get(2).split(",");
    assertThat(s2[0]).isEqualTo("2");
    assertThat(Long.parseLong(s2[1]) - Long.parseLong(s0[1])).isEqualTo(2000);
    assertThat(s2[2]).isEqualTo("1");
    assertThat(Double.parseDouble(s2[5])).isBetween(4.9, 5.1);
  }
}
