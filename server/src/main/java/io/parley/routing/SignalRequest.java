package io.parley.routing;

import io.parley.protocol.ClientFrame;

/** A best-effort signal (delivered, read, typing) from an authenticated user. Reply: empty. */
public record SignalRequest(String user, ClientFrame frame) {}
