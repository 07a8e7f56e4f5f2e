package io.parley.config;

/**
 * A stopping node's drain (docs/protocol.md, "Restart"): every client is told to reconnect within
 * {@code windowMs}, and the node closes its connections (1012) spread over that window rather than
 * all at once, so a restart does not become a synchronised reconnect storm.
 *
 * @param windowMs the window the closes are spread over ({@code drain.window_ms}; 0 closes every
 *     connection at once, as before there was a drain)
 * @param timeoutMs the longest a drain waits for its connections to go before the node stops
 *     anyway ({@code drain.timeout_ms})
 */
public record DrainSettings(long windowMs, long timeoutMs) {}
