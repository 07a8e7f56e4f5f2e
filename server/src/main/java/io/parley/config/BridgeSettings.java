package io.parley.config;

/**
 * The TCP event-bus bridge for internal tools (keys {@code admin.host}, {@code bridge.*}; defaults in
 * conf/base.json; see {@code io.parley.bridge.BridgeVerticle}).
 *
 * @param host {@code admin.host}: the address the operator listeners (this bridge) bind to
 * @param port {@code bridge.port}: the bridge's TCP port; 0 turns the bridge off
 * @param token {@code bridge.token}: the admin token every frame must carry (at least 16
 *     characters); empty leaves the bridge off (with a warning at start) whatever the port
 * @param includeBodies {@code bridge.include_bodies}: message-stored events carry the message body
 * @param writeQueueMaxBytes {@code bridge.write_queue_max_bytes}: bytes a bridge socket may hold
 *     unsent before the server closes it as a slow consumer
 */
public record BridgeSettings(String host, int port, String token, boolean includeBodies, int writeQueueMaxBytes) {
  /** The shortest accepted {@code bridge.token}. */
  public static final int TOKEN_MIN_CHARS = 16;

  /** Whether the bridge is deployed: a port and a token. */
  public boolean enabled() {
    return port != 0 && !token.isEmpty();
  }

  @Override
  public String toString() { // never the token
    return "BridgeSettings[host=" + host + ", port=" + port + ", token=" + (token.isEmpty() ? "(unset)" : "(set)")
        + ", includeBodies=" + includeBodies + ", writeQueueMaxBytes=" + writeQueueMaxBytes + "]";
  }
}
