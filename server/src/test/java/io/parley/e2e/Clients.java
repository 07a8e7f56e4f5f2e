package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.testing.Await;
import io.parley.testing.HandlerFailures;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * Test-side HTTP and WebSocket clients, on their own Vert.x instance (never the server's). Calls
 * block the test thread only, waiting on the reply or frame they need.
 */
final class Clients implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(15);

  final Vertx vertx = Vertx.vertx();
  /** What the clients' handlers threw (a frame that is not JSON, say): every wait below reports it. */
  final HandlerFailures failures = HandlerFailures.watch(vertx);
  private final HttpClient http;
  private final WebSocketClient ws;
  /** The server's port, asked at every request (a restarted cluster node listens on a new one). */
  private final IntSupplier port;

  Clients(int port) {
    this(() -> port);
  }

  Clients(IntSupplier port) {
    this(port, null);
  }

  /** @param localAddress the source address of every connection (e.g. 127.0.0.2); null: the OS's choice */
  Clients(IntSupplier port, String localAddress) {
    this.port = port;
    this.http = vertx.createHttpClient(new HttpClientOptions().setLocalAddress(localAddress));
    this.ws = vertx.createWebSocketClient(wsOptions().setMaxConnections(20_000).setLocalAddress(localAddress));
  }

  record Response(int status, String body, MultiMap headers) {
    JsonObject json() {
      return new JsonObject(body);
    }

    String errorCode() {
      return json().getJsonObject("error").getString("code");
    }
  }

  Response request(HttpMethod method, String path, String token, Object body) {
    RequestOptions options = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port.getAsInt())
        .setURI(path);
    if (token != null) {
      options.addHeader("Authorization", "Bearer " + token);
    }
    Future<Response> f = http.request(options).compose(req -> {
      Buffer payload = body == null ? Buffer.buffer() : Buffer.buffer(body.toString());
      return req.send(payload).compose(resp -> resp.body().map(b -> new Response(resp.statusCode(), b.toString(), resp.headers())));
    });
    return failures.result(method + " " + path, f, WAIT);
  }

  String token(String user) {
    Response r = request(HttpMethod.POST, "/v1/dev/token", null, new JsonObject().put("user", user));
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json().getString("token");
  }

  /** Creates (or finds) the DM of {@code a} and {@code b}; returns its id. */
  String dm(String tokenA, String b) {
    Response r = request(HttpMethod.POST, "/v1/conversations", tokenA,
        new JsonObject().put("type", "dm").put("members", new io.vertx.core.json.JsonArray().add(b)));
    assertThat(r.status()).as(r.body()).isIn(200, 201);
    return r.json().getString("id");
  }

  String group(String ownerToken, List<String> members) {
    Response r = request(HttpMethod.POST, "/v1/conversations", ownerToken,
        new JsonObject().put("type", "group").put("name", "g").put("members", new io.vertx.core.json.JsonArray(members)));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().getString("id");
  }

  private static WebSocketClientOptions wsOptions() {
    return new WebSocketClientOptions().setMaxFrameSize(4 * 1024 * 1024).setMaxMessageSize(4 * 1024 * 1024);
  }

  Future<WsClient> connectAsync(String token, String device) {
    return connectAsync(ws, token, device);
  }

  private Future<WsClient> connectAsync(WebSocketClient client, String token, String device) {
    WebSocketConnectOptions options = new WebSocketConnectOptions()
        .setHost("127.0.0.1").setPort(port.getAsInt()).setURI("/v1/ws" + (device == null ? "" : "?device=" + device))
        .addHeader("Authorization", "Bearer " + token);
    return client.connect(options).map(ws -> new WsClient(ws, failures));
  }

  WsClient connect(String token, String device) {
    return failures.result("a WebSocket of " + device, connectAsync(token, device), WAIT);
  }

  /** A connection whose greeting frames are read: the device is online once this returns. */
  WsClient online(String token, String device) {
    WsClient ws = connect(token, device);
    ws.drainWithPing();
    return ws;
  }

  /** The caller's devices ({@code GET /v1/devices}). */
  List<JsonObject> devices(String token) {
    Response r = request(HttpMethod.GET, "/v1/devices", token, null);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json().getJsonArray("devices").stream().map(JsonObject.class::cast).toList();
  }

  /**
   * A connection whose socket asks the kernel for a receive buffer of only {@code bytes}: a client
   * that stops reading then leaves the server's bytes in the server's buffers after a few KiB.
   */
  WsClient connectWithReceiveBuffer(String token, String device, int bytes) {
    return failures.result("a WebSocket of " + device,
        connectAsync(vertx.createWebSocketClient(wsOptions().setReceiveBufferSize(bytes)), token, device), WAIT);
  }

  /** The HTTP status a refused upgrade got. */
  int rejectedUpgrade(String uri) {
    return refusedUpgrade(uri, null).getStatus();
  }

  /**
   * The refusal of an upgrade (status, headers and body), with {@code authorization} as the
   * {@code Authorization} header's value unless null; fails when the upgrade is accepted.
   */
  UpgradeRejectedException refusedUpgrade(String uri, String authorization) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port.getAsInt()).setURI(uri);
    if (authorization != null) {
      options.addHeader("Authorization", authorization);
    }
    try {
      WebSocket accepted = failures.result("the upgrade to " + uri, ws.connect(options), WAIT);
      accepted.close();
    } catch (RuntimeException e) {
      Throwable c = e.getCause() != null ? e.getCause() : e;
      if (c instanceof UpgradeRejectedException u) {
        return u;
      }
      throw e;
    }
    throw new AssertionError("upgrade to " + uri + " was accepted");
  }

  @Override
  public void close() {
    Await.result(vertx.close(), WAIT);
  }
}
