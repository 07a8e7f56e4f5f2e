package io.parley.presence;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Connection ids, built and parsed here only: {@code <node>-<seq>-<device>}, where the node is
 * named {@code node-<id>} ({@code ParleyConfig.nodeName}), the sequence number counts the node's
 * connections and the device is the WebSocket {@code device} parameter (which may itself contain
 * dashes: the node's shape is what makes the id unambiguous).
 */
public final class ConnectionIds {
  private static final Pattern ID = Pattern.compile("node-\\d+-\\d+-([A-Za-z0-9_-]{1,64})");

  private ConnectionIds() {}

  public static String of(String node, long seq, String device) {
    return node + "-" + seq + "-" + device;
  }

  /** The device of a connection id, or null when the id is not of this shape. */
  public static String device(String connectionId) {
    Matcher m = ID.matcher(connectionId);
    return m.matches() ? m.group(1) : null;
  }
}
