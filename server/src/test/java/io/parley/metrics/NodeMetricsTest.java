package io.parley.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.Outbound;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The meters' names, types, labels and buckets as Prometheus exposes them, and the no-op registry. */
class NodeMetricsTest {

  private static String scrape(NodeMetrics m) {
    PrometheusMeterRegistry p = m.prometheus().orElseThrow();
    return p.scrape();
  }

  @Test
  void countersAreExposedWithTheContractsNamesAndEveryLabelValuePreRegistered() {
    NodeMetrics m = NodeMetrics.create(true);
    String before = scrape(m);
    for (ErrorCode code : ErrorCode.values()) {
      assertThat(before).contains("parley_messages_rejected_total{code=\"" + code.wire() + "\"} 0.0");
    }
    assertThat(before).contains("# TYPE parley_messages_acked_total counter", "parley_messages_acked_total 0.0",
        "parley_shed_total{code=\"unavailable\"} 0.0", "parley_shed_total{code=\"rate_limited\"} 0.0",
        "parley_handshakes_total{result=\"accepted\"} 0.0", "parley_handshakes_total{result=\"rejected\"} 0.0",
        "# TYPE parley_connections gauge", "# TYPE parley_devices_connected gauge");

    m.acked();
    m.acked();
    m.rejected(ErrorCode.NOT_MEMBER);
    m.shedUnavailable();
    m.handshake(true);
    m.connectionOpened();
    m.connectionOpened();
    m.connectionClosed();
    m.deviceConnected();
    m.syncRequested();
    m.replayed();
    m.replayed();
    m.replayed();
    String after = scrape(m);
    assertThat(after).contains("parley_messages_acked_total 2.0", "parley_messages_rejected_total{code=\"not_member\"} 1.0",
        "parley_messages_rejected_total{code=\"too_large\"} 0.0", "parley_shed_total{code=\"unavailable\"} 1.0",
        "parley_handshakes_total{result=\"accepted\"} 1.0", "parley_connections 1.0", "parley_devices_connected 1.0",
        "parley_sync_requests_total 1.0", "parley_sync_messages_replayed_total 3.0");
    m.close();
  }

  @Test
  void sendDeliverIsAHistogramInSecondsWithTheContractsBuckets() {
    NodeMetrics m = NodeMetrics.create(true);
    long now = System.currentTimeMillis();
    m.delivered(now - 30_000); // 30 s late: only in +Inf
    m.delivered(0); // ts unknown: counted as delivered, not timed
    String s = scrape(m);
    assertThat(s).contains("# TYPE parley_send_deliver_seconds histogram");
    for (String le : new String[] {"0.005", "0.01", "0.025", "0.05", "0.1", "0.2", "0.5", "1.0", "2.0", "5.0", "10.0"}) {
      assertThat(s).contains("parley_send_deliver_seconds_bucket{le=\"" + le + "\"} 0");
    }
    assertThat(s).contains("parley_send_deliver_seconds_bucket{le=\"+Inf\"} 1", "parley_send_deliver_seconds_count 1",
        "parley_messages_delivered_total 2.0");
    m.close();
  }

  @Test
  void ioMetersTimeCountErrorsAndSetTheBackendsUpGauge() {
    NodeMetrics m = NodeMetrics.create(true);
    IoMeter persist = m.storageMeter("cassandra", "persist", true);
    IoMeter produce = m.kafkaProduceMeter();
    persist.succeeded(System.nanoTime() - 3_000_000);
    persist.failed();
    produce.succeeded(System.nanoTime());
    String s = scrape(m);
    assertThat(s).contains("parley_storage_seconds_count{backend=\"cassandra\",op=\"persist\"} 1",
        "parley_storage_errors_total{backend=\"cassandra\"} 1.0", "parley_backend_up{backend=\"cassandra\"} 0.0",
        "parley_backend_up{backend=\"kafka\"} 1.0", "parley_kafka_produce_seconds_count 1",
        "parley_kafka_produce_errors_total 0.0");
    m.kafkaLag(3, 42);
    m.kafkaLag(3, 7);
    assertThat(scrape(m)).contains("parley_kafka_consumer_lag_records{partition=\"3\"} 7.0");
    m.close();
  }

  @Test
  void functionCountersAndGaugesReadTheirSourceAtScrapeTime() {
    NodeMetrics m = NodeMetrics.create(true);
    AtomicLong parked = new AtomicLong();
    m.functionCounter("parley.dead.letters", "parked", parked, AtomicLong::get);
    m.gauge("parley.event.loop.delay.seconds", "lag", parked, p -> p.get() / 1000.0);
    parked.set(5);
    assertThat(scrape(m)).contains("parley_dead_letters_total 5.0", "parley_event_loop_delay_seconds 0.005");
    m.close();
  }

  @Test
  void disabledMetricsAreNoOpsWithNoPrometheusRegistry() {
    NodeMetrics m = NodeMetrics.none();
    assertThat(m.enabled()).isFalse();
    assertThat(m.prometheus()).isEmpty();
    m.acked();
    m.delivered(System.currentTimeMillis());
    m.storageMeter("rocksdb", "append", true).failed();
    assertThat(m.registry().find("parley.messages.acked").counter().count()).isZero();
  }

  @Test
  void outboundReadsTheMessagesTsFromTheEndOfItsFrame() {
    String frame = "{\"op\":\"msg\",\"conv\":\"1\",\"server_id\":\"9\",\"from\":\"a\",\"msg_id\":\"m\","
        + "\"body\":\"\\\"ts\\\":5}\",\"media\":[],\"ts\":1764762000123}";
    assertThat(new Outbound(1, 9, frame, null).ts()).isEqualTo(1764762000123L);
    assertThat(new Outbound(1, 0, "{\"op\":\"typing\",\"ts\":5}", null).ts()).as("a signal").isZero();
    assertThat(new Outbound(1, 9, "{\"op\":\"msg\",\"body\":\"x\"}", null).ts()).as("no ts last").isZero();
    assertThat(new Outbound(1, 9, "{\"op\":\"msg\",\"n\":17}", null).ts()).as("a number not named ts").isZero();
  }
}
