package io.parley.push;

import io.vertx.core.Future;

/** One provider of offline notifications (APNs, FCM, Web Push, or the log). */
public interface PushSender {

  Future<Void> send(Notification notification);

  /** A notification for one offline user about one message. */
  record Notification(String user, long conv, long serverId, String from, String preview) {}
}
