package io.parley.protocol;

import java.util.List;

/**
 * Deliveries for one node, in the order their frames must reach each user: one event-bus message
 * per fan-out batch and node (see {@link Addresses#NODE_DELIVERY}).
 */
public record Deliveries(List<Delivery> deliveries) {

  public static Deliveries of(Delivery d) {
    return new Deliveries(List.of(d));
  }
}
