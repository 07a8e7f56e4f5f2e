package io.parley.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelHandlerContext;
import io.parley.config.ConfigLoader;
import io.parley.config.ParleyConfig;
import io.parley.presence.PresenceChange;
import io.parley.presence.PresenceChangeCodec;
import io.parley.storage.embedded.InMemoryConnectionRegistry;
import io.parley.storage.embedded.InMemoryRateLimiter;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import java.net.ServerSocket;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the gateway relies on when it takes a connection over from Vert.x ({@link ChannelTakeover}),
 * so that a Vert.x upgrade that changes it fails here, loudly, rather than in production: the
 * internal type and method it uses still exist with the shapes it expects, and a real upgraded
 * connection, taken over by a gateway, speaks WebSocket (with an HTTP codec left in the pipeline,
 * the client's frames would be read as HTTP and no pong would come back).
 */
class ChannelTakeoverTest {
  private static final String SECRET = "0123456789abcdef0123456789abcdef-test";
  private final Vertx vertx = Vertx.vertx();
  private volatile WebSocket client;

  /**
   * Closes the client's WebSocket first (its close handshake with the session), then Vert.x. Once,
   * in CI on a clean clone, Vert.x's close did not finish within 30 s after a passing test; the
   * threads' stacks are printed if that happens again, so the next run shows where it waits.
   */
  @AfterEach
  void close() throws Exception {
    try {
      if (client != null) {
        client.close().await(30, TimeUnit.SECONDS);
      }
      vertx.close().await(30, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      Thread.getAllStackTraces().forEach((thread, stack) -> {
        System.err.println(thread + " " + thread.getState());
        for (StackTraceElement frame : stack) {
          System.err.println("\tat " + frame);
        }
      });
      throw e;
    }
  }

  @Test
  void theInternalApiItUsesHasTheShapeItExpects() throws Exception {
    assertThat(NetSocket.class).isAssignableFrom(NetSocketInternal.class);
    assertThat(NetSocketInternal.class.getMethod("channelHandlerContext").getReturnType())
        .isEqualTo(ChannelHandlerContext.class);
    assertThat(HttpServerRequest.class.getMethod("toNetSocket").getReturnType())
        .isEqualTo(io.vertx.core.Future.class);
  }

  @Test
  void aRealUpgradedConnectionIsTakenOverAndSpeaksWebSocket() throws Exception {
    vertx.eventBus().registerDefaultCodec(PresenceChange.class, new PresenceChangeCodec());
    Auth auth = new Auth(vertx, SECRET);
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    ParleyConfig config = ConfigLoader.load(Map.of("PARLEY_HTTP_PORT", Integer.toString(port),
        "PARLEY_JWT_SECRET", SECRET, "PARLEY_GATEWAY_INSTANCES", "1"), Map.of());
    vertx.deployVerticle(new GatewayVerticle(config, auth, null, new InMemoryConnectionRegistry(100),
        new InMemoryRateLimiter(100), () -> true)).await(30, TimeUnit.SECONDS);

    Promise<String> pong = Promise.promise();
    vertx.createWebSocketClient().connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
            .setURI("/v1/ws?access_token=" + auth.issue("alice", 60)))
        .onSuccess(ws -> {
          client = ws;
          ws.textMessageHandler(pong::tryComplete);
          ws.writeTextMessage("{\"op\":\"ping\"}");
        })
        .onFailure(pong::tryFail);
    assertThat(new JsonObject(pong.future().await(30, TimeUnit.SECONDS)).getString("op")).isEqualTo("pong");
  }
}
