package io.parley.push;

import io.parley.presence.ConnectionRegistry;
import io.parley.protocol.Addresses;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides who is offline and notifies them. Fan-out hands over the recipients it found without a
 * connection; this verticle checks the registry again (a device may have connected meanwhile; it
 * then gets the message by sync) and gives each one still offline to the {@link PushSender}.
 */
public final class PushVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(PushVerticle.class);

  private final ConnectionRegistry registry;
  private final PushSender sender;

  public PushVerticle(ConnectionRegistry registry, PushSender sender) {
    this.registry = registry;
    this.sender = sender;
  }

  @Override
  public Future<?> start() {
    return vertx.eventBus().<PushRequest>localConsumer(Addresses.PUSH, this::onPush).completion();
  }

  private void onPush(Message<PushRequest> msg) {
    PushRequest req = msg.body();
    registry.nodesOf(req.users()).onComplete(ar -> {
      for (String user : req.users()) {
        if (ar.succeeded() && ar.result().containsKey(user)) {
          continue;
        }
        sender.send(new PushSender.Notification(user, req.conv(), req.serverId(), req.from(), req.preview()))
            .onFailure(e -> LOG.warn("push to {} for {} failed: {}", user, req.serverId(), e.toString()));
      }
    });
  }
}
