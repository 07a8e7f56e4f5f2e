package io.parley.config;

import java.util.Map;

/**
 * How push delivers (package {@code io.parley.push}, {@code PushDispatcher} and the push queue).
 *
 * @param coalesceMs further messages of a conversation to a device within this window of its last
 *     notification fold into one follow-up ({@code push.coalesce_ms})
 * @param spillAfterMs a user whose oldest undelivered push is older gets one email digest instead
 *     ({@code push.spill_after_ms})
 * @param retryBaseMs first backoff after a provider's transient failure, doubled per attempt
 *     ({@code push.retry_base_ms})
 * @param retryMaxMs longest backoff ({@code push.retry_max_ms})
 * @param queueMax most jobs out of the durable queue on a node at a time; the rest wait on disk or
 *     in Kafka ({@code push.queue_max})
 * @param queueTopic the cluster profile's Kafka topic of push jobs ({@code push.queue_topic})
 * @param queuePartitions its partition count ({@code push.queue_partitions})
 * @param pacing per provider ({@code apns}, {@code fcm}, {@code webpush}):
 *     {@code push.<provider>.rate_per_s}, {@code burst}, {@code in_flight_max}
 */
public record PushDeliverySettings(long coalesceMs, long spillAfterMs, long retryBaseMs, long retryMaxMs, int queueMax,
    String queueTopic, int queuePartitions, Map<String, Pacing> pacing) {

  public static final String[] PROVIDERS = {"apns", "fcm", "webpush"};

  /** A provider's token bucket (requests per second, burst) and its cap on requests in flight. */
  public record Pacing(int ratePerS, int burst, int inFlightMax) {
    public Pacing {
      if (ratePerS < 1 || burst < 1 || inFlightMax < 1) {
        throw new IllegalArgumentException("push pacing values must be at least 1: " + ratePerS + ", " + burst + ", "
            + inFlightMax);
      }
    }
  }
}
