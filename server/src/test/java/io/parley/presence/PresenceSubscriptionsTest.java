package io.parley.presence;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.Addresses;
import io.parley.protocol.ServerFrames;
import io.parley.storage.embedded.InMemoryConnectionRegistry;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One connection's presence subscriptions: each new user is answered with its presence now and
 * then with every change the node republishes for it; the limit counts distinct users over all
 * frames; closing ends every subscription.
 */
class PresenceSubscriptionsTest {
  private final Vertx vertx = Vertx.vertx();
  private final Context eventLoop = vertx.getOrCreateContext();
  private final InMemoryConnectionRegistry registry = new InMemoryConnectionRegistry(100);
  /** The frames the connection was sent. */
  private final BlockingQueue<String> out = new LinkedBlockingQueue<>();
  private final PresenceSubscriptions subs = new PresenceSubscriptions(vertx.eventBus(), registry, 2, out::add);

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /** Runs {@code action} on the connection's event loop; its result. */
  private <T> T onLoop(Supplier<T> action) throws Exception {
    Promise<T> done = Promise.promise();
    eventLoop.runOnContext(v -> {
      try {
        done.complete(action.get());
      } catch (Throwable t) {
        done.fail(t);
      }
    });
    return done.future().await(5, TimeUnit.SECONDS);
  }

  private String next() throws InterruptedException {
    String frame = out.poll(5, TimeUnit.SECONDS);
    assertThat(frame).as("a frame for the connection").isNotNull();
    return frame;
  }

  @Test
  void eachUserIsAnsweredNowAndOnEveryChangeUpToTheLimit() throws Exception {
    registry.register("bob", "node-1", "c9").await(5, TimeUnit.SECONDS);
    assertThat(onLoop(() -> subs.add(List.of("bob", "carol")))).isTrue();
    assertThat(List.of(next(), next())).containsExactlyInAnyOrder(
        ServerFrames.presence("bob", true, 0), ServerFrames.presence("carol", false, 0));

    assertThat(onLoop(() -> subs.add(List.of("carol", "bob")))).as("already subscribed: no new subscription").isTrue();
    assertThat(onLoop(() -> subs.add(List.of("dave")))).as("over the limit of 2").isFalse();
    assertThat(subs.max()).isEqualTo(2);

    String change = ServerFrames.presence("carol", true, 0);
    onLoop(() -> vertx.eventBus().publish(Addresses.presence("carol"), change, Addresses.local()));
    onLoop(() -> vertx.eventBus().publish(Addresses.presence("dave"), "not subscribed", Addresses.local()));
    assertThat(next()).isEqualTo(change);

    onLoop(() -> {
      subs.close();
      return null;
    });
    onLoop(() -> vertx.eventBus().publish(Addresses.presence("carol"), "after close", Addresses.local()));
    onLoop(() -> null); // the publish above has been handled, or dropped
    assertThat(out).as("nothing for dave, nothing after close, no second answer for carol or bob").isEmpty();
  }
}
