package io.parley.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.config.ConfigLoader;
import io.parley.config.ParleyConfig;
import io.parley.presence.ConnectionRegistry;
import io.parley.storage.embedded.InMemoryConnectionRegistry;
import io.parley.storage.embedded.InMemoryRateLimiter;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
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

  private static final String SECRET = "0123456789abcdef0123456789abcdef-test";

  private final Vertx vertx = Vertx.vertx();
  private final Auth auth = new Auth(vertx, SECRET);
  /** What happened, in order: "registered" (the registry answered) and "pong" (the client got it). */
  private final List<String> events = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
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
    ponged.future().await(10, TimeUnit.SECONDS);

    assertThat(events).containsExactly("registered", "pong");
  }

  @Test
  void aConnectionClosedWhileItsRegistrationIsPendingEndsUpUnregistered() throws Exception {
    InMemoryConnectionRegistry inner = new InMemoryConnectionRegistry(1_000);
    SlowRegistry slow = new SlowRegistry(inner);
    int port = gateway(slow);

    vertx.createWebSocketClient().connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
            .setURI("/v1/ws?access_token=" + auth.issue("alice", 60)))
        .compose(ws -> ws.close()) // gone before the registry answered
        .await(10, TimeUnit.SECONDS);
    slow.unregistered.future().await(10, TimeUnit.SECONDS);

    assertThat(events).containsExactly("registered", "unregistered");
    assertThat(inner.nodesOf(List.of("alice")).await(10, TimeUnit.SECONDS)).doesNotContainKey("alice");
  }

  /** Deploys one gateway instance over {@code registry} (no conversation service: nothing here syncs); its port. */
  private int gateway(ConnectionRegistry registry) throws Exception {
    int port = freePort();
    ParleyConfig config = ConfigLoader.load(Map.of("PARLEY_HTTP_PORT", Integer.toString(port),
        "PARLEY_JWT_SECRET", SECRET, "PARLEY_GATEWAY_INSTANCES", "1"), Map.of());
    vertx.deployVerticle(new GatewayVerticle(config, auth, null, registry, new InMemoryRateLimiter(1_000), () -> true))
        .await(10, TimeUnit.SECONDS);
    return port;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
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
