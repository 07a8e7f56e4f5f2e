package io.parley.gateway;

import io.parley.push.PushRegistrations;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Remembers users' email addresses from their tokens' {@code email} claim, seen when a WebSocket
 * connects, in {@link PushRegistrations#putEmail} (the push digest's address). One per node,
 * shared by the gateway instances. A user reconnects far more often than the address changes, so
 * the node writes only when the claim differs from what it last wrote for that user: a bounded
 * LRU of the last written addresses ({@code capacity} users; a user pushed out of it is written
 * again at the next connect, which is harmless). The write never holds the connect up, and a
 * failed one is logged and forgotten, so the next connect tries again. A claim that does not look
 * like an address is ignored (logged at debug), never an error to the client.
 */
public final class ConnectEmails {
  private static final Logger LOG = LoggerFactory.getLogger(ConnectEmails.class);
  /** The longest address SMTP carries (RFC 5321's path limit less the brackets). */
  static final int MAX_LENGTH = 254;
  /** Users whose last written address a node keeps by default. */
  public static final int DEFAULT_CAPACITY = 100_000;

  private final PushRegistrations registrations;
  /** user → the address this node last wrote (or is writing); guarded by itself. */
  private final Map<String, String> written;

  public ConnectEmails(PushRegistrations registrations, int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
    }
    this.registrations = registrations;
    this.written = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
        return size() > capacity;
      }
    };
  }

  /** Lightly checked: a string with an '@' between non-empty parts, at most 254 chars, no line break. */
  static boolean valid(Object claim) {
    if (!(claim instanceof String s) || s.isEmpty() || s.length() > MAX_LENGTH) {
      return false;
    }
    int at = s.lastIndexOf('@');
    return at > 0 && at < s.length() - 1 && s.indexOf('\r') < 0 && s.indexOf('\n') < 0;
  }

  /** At connect: {@code claim} is the token's {@code email} claim, null when it has none. Returns at once. */
  public void connected(String user, Object claim) {
    if (claim == null) {
      return;
    }
    if (!valid(claim)) {
      LOG.debug("user {}: token's email claim ignored, not an address", user);
      return;
    }
    String email = (String) claim;
    synchronized (written) {
      if (email.equals(written.get(user))) {
        return;
      }
      written.put(user, email); // before the write: connects racing with it do not write it again
    }
    registrations.putEmail(user, email).onFailure(e -> {
      synchronized (written) {
        written.remove(user, email);
      }
      LOG.warn("user {}: could not remember the email address for push digests: {}", user, e.toString());
    });
  }

  /** Users whose last written address this node remembers (tests). */
  int size() {
    synchronized (written) {
      return written.size();
    }
  }
}
