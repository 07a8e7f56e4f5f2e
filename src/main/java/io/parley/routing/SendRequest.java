package io.parley.routing;

import io.parley.protocol.ClientFrame;

/** A validated send from one connection of an authenticated user. Reply: the encoded ack frame. */
public record SendRequest(String user, String connectionId, ClientFrame.Send send) {}
