package io.parley.fanout;

import java.util.List;

/**
 * Fan-outs to do in this order, handed over in one event-bus message: routing sends one per append
 * (or per batch read from the log) instead of one per message, so the bus hop, the registry
 * look-up and the delivery to the gateway are paid once per batch.
 */
public record FanoutBatch(List<Fanout> fanouts) {

  public static FanoutBatch of(Fanout f) {
    return new FanoutBatch(List.of(f));
  }
}
