package io.parley.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.config.ConfigLoader;
import io.parley.config.ParleyConfig;
import io.parley.presence.ConnectionRegistry;
import io.parley.presence.PresenceChange;
import io.parley.presence.PresenceChangeCodec;
import io.parley.storage.embedded.InMemoryConnectionRegistry;
import io.parley.storage.embedded.InMemoryRateLimiter;
import io.parley.testing.Await;
import io.parley.testing.HandlerFailures;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A new connection's frames are read only once the connection registry knows it: otherwise a
 * ping (or a sync) answered before the registration lets a client believe it is reachable while
 * fan-out still finds it offline and sends its messages to push only (seen under a reconnect
 * storm on the cluster profile). And its unregister never overtakes its registration.
 */
class RegisterBeforeFramesTest {
  private static final long REGISTER_DELAY_MS = 300;
  private static final Duration WAIT = Duration.ofSeconds(10);

  private static final String SECRET = "0123456789abcdef0123456789abcdef-test";

  private final Vertx vertx = Vertx.vertx();
  /** What the handlers below threw on the event loop: reported instead of a timeout. */
  private final HandlerFailures failures = HandlerFailures.watch(vertx);

  {
    // a connection's registration publishes a presence change (app.Node registers every codec)
    vertx.eventBus().registerDefaultCodec(PresenceChange.class, new PresenceChangeCodec());
  }
  private final Auth auth = new Auth(vertx, SECRET);
  /** What happened, in order: "registered" (the registry answered) and "pong" (the client got it). */
  private final List<String> events = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() throws Exception {
    Await.result(vertx.close());
  }

  @Test
  void aPingSentAtOnceIsAnsweredOnlyAfterTheRegistryAnswered() throws Exception {
    int port = gateway(new SlowRegistry(new InMemoryConnectionRegistry(1_000)));

    Promise<Void> ponged = Promise.promise();
    WebSocketClient client = vertx.createWebSocketClient();
    client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
            .setURI("/v1/ws?access_token=" + auth.issue("alice", 60)))
        .onSuccess(ws -> {
          ws.textMessageHandler(text -> {
            if ("pong".equals(new JsonObject(text).getString("op"))) {
              events.add("pong");
              ponged.tryComplete();
            }
          });
          ws.writeTextMessage("{\"op\":\"ping\"}"); // right away, while the registration is pending
        })
        .onFailure(ponged::tryFail);
    failures.result("the pong", ponged.future(), WAIT);

    assertThat(events).containsExactly("registered", "pong");
  }

  @Test
  void aConnectionClosedWhileItsRegistrationIsPendingEndsUpUnregistered() throws Exception {
    InMemoryConnectionRegistry inner = new InMemoryConnectionRegistry(1_000);
    SlowRegistry slow = new SlowRegistry(inner);
    int port = gateway(slow);

    failures.result("a connection closed at once", vertx.createWebSocketClient().connect(new WebSocketConnectOptions()
            .setHost("127.0.0.1").setPort(port).setURI("/v1/ws?access_token=" + auth.issue("alice", 60)))
        .compose(ws -> ws.close()), WAIT); // gone before the registry answered
    failures.result("the unregistration", slow.unregistered.future(), WAIT);

    assertThat(events).containsExactly("registered", "unregistered");
    assertThat(Await.result(inner.nodesOf(List.of("alice")))).doesNotContainKey("alice");
  }

  /**
   * Deploys one gateway instance over {@code registry} (no conversation service: nothing here
   * syncs) on a port of its choosing; that port.
   */
  private int gateway(ConnectionRegistry registry) {
    ParleyConfig config = ConfigLoader.load(Map.of("PARLEY_HTTP_PORT", "0",
        "PARLEY_JWT_SECRET", SECRET, "PARLEY_GATEWAY_INSTANCES", "1"), Map.of());
    GatewayVerticle gateway = new GatewayVerticle(config, auth, null, registry, new InMemoryRateLimiter(1_000), () -> true);
    failures.result("the gateway's start", vertx.deployVerticle(gateway), WAIT);
    return gateway.actualPort();
  }

  /** A registry whose registrations answer {@value #REGISTER_DELAY_MS} ms late. */
  private final class SlowRegistry implements ConnectionRegistry {
    private final ConnectionRegistry inner;

    SlowRegistry(ConnectionRegistry inner) {
      this.inner = inner;
    }

    @Override
    public Future<Boolean> register(String user, String node, String connectionId) {
      Promise<Boolean> later = Promise.promise();
      vertx.setTimer(REGISTER_DELAY_MS, t -> inner.register(user, node, connectionId).onComplete(ar -> {
        events.add("registered");
        later.handle(ar);
      }));
      return later.future();
    }

    final Promise<Void> unregistered = Promise.promise();

    @Override
    public Future<Boolean> unregister(String user, String node, String connectionId, long lastSeen) {
      return inner.unregister(user, node, connectionId, lastSeen).andThen(ar -> {
        events.add("unregistered");
        unregistered.tryComplete();
      });
    }

    @Override
    public Future<Boolean> refresh(String user, String node, String connectionId) {
      return inner.refresh(user, node, connectionId);
    }

    @Override
    public Future<Map<String, Set<String>>> nodesOf(Collection<String> users) {
      return inner.nodesOf(users);
    }

    @Override
    public Future<Map<String, Set<String>>> connectionsOf(Collection<String> users) {
      return inner.connectionsOf(users);
    }

    @Override
    public Future<Presence> presence(String user) {
      return inner.presence(user);
    }
  }
}
