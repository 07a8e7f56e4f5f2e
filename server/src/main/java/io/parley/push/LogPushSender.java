package io.parley.push;

import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Records notifications in the log: the sender when no provider (Web Push, FCM) is configured. */
public final class LogPushSender implements PushSender {
  private static final Logger LOG = LoggerFactory.getLogger(LogPushSender.class);

  @Override
  public Future<Void> send(Notification n) {
    // the message text stays out of the log: only its length is recorded
    LOG.info("push user={} conv={} server_id={} from={} preview_chars={}", n.user(), n.conv(), n.serverId(), n.from(),
        n.preview() == null ? 0 : n.preview().length());
    return Future.succeededFuture();
  }
}
