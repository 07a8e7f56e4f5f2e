package io.parley.push;

import io.vertx.core.Future;
import java.util.List;

/**
 * Where a user's pushes go when they have waited too long ({@code push.spill_after_ms}): one email
 * digest instead of the notifications.
 */
@FunctionalInterface
public interface SpillOver {

  /** Nobody to mail (no SMTP configured): the pushes are given up. */
  SpillOver NONE = (user, items) -> Future.succeededFuture(false);

  /**
   * Sends one digest to {@code user}; true when a mail went out, false when the user has no
   * address or mail is off. Fails when the mail server refused it.
   */
  Future<Boolean> spill(String user, List<Item> items);

  /**
   * One conversation of a digest: how many messages wait there, and the newest one's preview
   * (null unless previews are on).
   */
  record Item(long conv, int count, String preview) {}
}
