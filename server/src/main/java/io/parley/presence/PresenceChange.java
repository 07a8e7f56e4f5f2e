package io.parley.presence;

/**
 * A user came online (its first live connection registered) or went offline (its last one left),
 * published to every node on {@code Addresses.PRESENCE_CHANGED}; between nodes in the compact form
 * of {@link PresenceChangeCodec}.
 *
 * @param lastSeen when the user went offline (epoch ms); 0 when it came online
 */
public record PresenceChange(String user, boolean online, long lastSeen) {

  public static PresenceChange online(String user) {
    return new PresenceChange(user, true, 0);
  }

  public static PresenceChange offline(String user, long lastSeen) {
    return new PresenceChange(user, false, lastSeen);
  }
}
