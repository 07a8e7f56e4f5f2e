package io.parley.protocol;

import java.util.Collection;

/** One frame for the connections of some users on this node; see {@link Addresses#NODE_DELIVERY}. */
public record Delivery(Collection<String> users, Outbound outbound) {}
