package io.parley.push;

import java.util.List;

/**
 * What fan-out hands push for one of its batches: one request per message, in order. One bus
 * message per batch, not per message, like every other hop on the message path.
 */
public record PushBatch(List<PushRequest> requests) {
  public static PushBatch of(PushRequest... requests) {
    return new PushBatch(List.of(requests));
  }
}
