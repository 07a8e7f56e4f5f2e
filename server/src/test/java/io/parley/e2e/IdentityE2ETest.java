package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import io.parley.app.LogFormat;
import io.parley.gateway.JwksFixture;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SelfSignedCertificate;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A node with production identity settings: tokens from an identity provider's JWKS (a local
 * {@link JwksFixture}) with issuer and audience checked, TLS on the public listener with a
 * certificate made here (clients trust only it and check the host name), and JSON logs. Over
 * {@code https} and {@code wss}: RS256 and ES256 tokens work, a wrong audience or issuer gets the
 * documented 401 {@code unauthorized}, an expiring token's connection is closed with 1008, and the
 * connection's log lines are JSON carrying its user, device and node.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IdentityE2ETest {
  private static final String ISSUER = "https://idp.example.com/";
  private static final String AUDIENCE = "parley";

  @TempDir
  static Path dir;
  private final JwksFixture idp = new JwksFixture();
  private final JwksFixture.Key rsa = JwksFixture.rsa("rsa-2026");
  private final JwksFixture.Key ec = JwksFixture.ec("ec-2026");
  private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
  private OutputStreamAppender<ILoggingEvent> capture;
  private Level gatewayLevel;
  private TestNode node;
  private Clients clients;
  private HttpClient https;
  private WebSocketClient wss;

  @BeforeAll
  void start() {
    idp.publish(rsa);
    idp.publish(ec);
    SelfSignedCertificate cert = SelfSignedCertificate.create("localhost");
    captureLogs();
    node = TestNode.start(dir, Map.of(
        "PARLEY_AUTH_JWKS_URL", idp.url(),
        "PARLEY_AUTH_ISSUER", ISSUER,
        "PARLEY_AUTH_AUDIENCE", "other-app," + AUDIENCE,
        "PARLEY_HTTP_TLS_CERT_FILE", cert.certificatePath(),
        "PARLEY_HTTP_TLS_KEY_FILE", cert.privateKeyPath(),
        "PARLEY_LOG_FORMAT", "json"));
    clients = new Clients(node.port);
    PemTrustOptions trust = new PemTrustOptions().addCertPath(cert.certificatePath());
    https = clients.vertx.createHttpClient(new HttpClientOptions().setSsl(true).setTrustOptions(trust).setVerifyHost(true));
    wss = clients.vertx.createWebSocketClient(new WebSocketClientOptions().setSsl(true).setTrustOptions(trust).setVerifyHost(true));
  }

  /** A stream appender on the root logger, as logback.xml's console is: the node's log.format switches it too. */
  private void captureLogs() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    PatternLayoutEncoder text = new PatternLayoutEncoder();
    text.setContext(context);
    text.setPattern("%msg%n");
    text.start();
    capture = new OutputStreamAppender<>();
    capture.setContext(context);
    capture.setName("identity-e2e-capture");
    capture.setEncoder(text);
    capture.setOutputStream(logged);
    capture.start();
    context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(capture);
    ch.qos.logback.classic.Logger gateway = context.getLogger("io.parley.gateway");
    gatewayLevel = gateway.getLevel();
    gateway.setLevel(Level.DEBUG);
  }

  @AfterAll
  void stop() {
    try {
      if (clients != null) {
        clients.close();
      }
      if (node != null) {
        node.close();
      }
      idp.close();
    } finally {
      LogFormat.apply("text");
      if (capture != null) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.getLogger("io.parley.gateway").setLevel(gatewayLevel);
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(capture);
        capture.stop();
      }
    }
  }

  private String token(JwksFixture.Key key, String user, long ttlSeconds) {
    return JwksFixture.sign(key, JwksFixture.claims(user, ttlSeconds).put("iss", ISSUER).put("aud", AUDIENCE));
  }

  private Clients.Response request(HttpMethod method, String path, String token, Object body) {
    RequestOptions options = new RequestOptions().setMethod(method).setHost("localhost").setPort(node.port).setURI(path)
        .addHeader("Authorization", "Bearer " + token);
    Future<Clients.Response> f = https.request(options).compose(req -> req.send(body == null ? Buffer.buffer() : Buffer.buffer(body.toString()))
        .compose(resp -> resp.body().map(b -> new Clients.Response(resp.statusCode(), b.toString(), resp.headers()))));
    return clients.failures.result(method + " " + path, f, Clients.WAIT);
  }

  private Future<WsClient> connect(String token, String device) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setSsl(true).setHost("localhost").setPort(node.port)
        .setURI("/v1/ws?device=" + device).addHeader("Authorization", "Bearer " + token);
    return wss.connect(options).map(ws -> new WsClient(ws, clients.failures));
  }

  @Test
  void rs256AndEs256TokensWorkOverHttpsAndWss() {
    String alice = token(rsa, "alice", 600);
    String bob = token(ec, "bob", 600);
    Clients.Response created = request(HttpMethod.POST, "/v1/conversations", alice,
        new JsonObject().put("type", "dm").put("members", new JsonArray().add("bob")));
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    String conv = created.json().getString("id");

    WsClient bobWs = clients.failures.result("bob's wss", connect(bob, "phone"), Clients.WAIT);
    bobWs.drainWithPing();
    WsClient aliceWs = clients.failures.result("alice's wss", connect(alice, "laptop"), Clients.WAIT);
    aliceWs.drainWithPing();
    assertThat(aliceWs.sendMsg("m1", conv, "over tls").getString("op")).isEqualTo("ack");
    JsonObject delivered = bobWs.next("msg");
    assertThat(delivered.getString("body")).isEqualTo("over tls");
    assertThat(delivered.getString("from")).isEqualTo("alice");

    // the server's own HS256 dev tokens carry the configured issuer and audience
    Clients.Response dev = request(HttpMethod.POST, "/v1/dev/token", "", new JsonObject().put("user", "carol"));
    assertThat(dev.status()).as(dev.body()).isEqualTo(200);
    assertThat(request(HttpMethod.GET, "/v1/conversations", dev.json().getString("token"), null).status()).isEqualTo(200);
  }

  @Test
  void aWrongAudienceOrIssuerIsUnauthorized() {
    String wrongAudience = JwksFixture.sign(rsa, JwksFixture.claims("alice", 600).put("iss", ISSUER).put("aud", "billing"));
    String wrongIssuer = JwksFixture.sign(ec, JwksFixture.claims("alice", 600).put("iss", "https://evil.example.com/").put("aud", AUDIENCE));
    for (String[] c : List.of(new String[] {wrongAudience, "token audience not accepted"},
        new String[] {wrongIssuer, "token issuer not accepted"})) {
      Clients.Response r = request(HttpMethod.GET, "/v1/conversations", c[0], null);
      assertThat(r.status()).isEqualTo(401);
      assertThat(r.errorCode()).isEqualTo("unauthorized");
      assertThat(r.json().getJsonObject("error").getString("message")).isEqualTo(c[1]);
      Throwable refused = Await.failure(connect(c[0], "phone"), Clients.WAIT);
      assertThat(refused).isInstanceOf(UpgradeRejectedException.class);
      UpgradeRejectedException u = (UpgradeRejectedException) refused;
      assertThat(u.getStatus()).isEqualTo(401);
      assertThat(new JsonObject(u.getBody()).getJsonObject("error").getString("code")).isEqualTo("unauthorized");
    }
  }

  @Test
  void aConnectionWhoseJwksTokenExpiresIsClosedWith1008() {
    long exp = System.currentTimeMillis() / 1000 + 2;
    String shortLived = JwksFixture.sign(ec, new JsonObject().put("sub", "dave").put("exp", exp).put("iss", ISSUER)
        .put("aud", AUDIENCE));
    WsClient ws = clients.failures.result("dave's wss", connect(shortLived, "tablet"), Clients.WAIT);
    ws.send(new JsonObject().put("op", "ping"));
    assertThat(ws.next("pong")).as("usable while the token is valid").isNotNull();
    assertThat(ws.awaitClose()).isEqualTo((short) 1008);
    assertThat(System.currentTimeMillis()).as("not closed before exp").isGreaterThanOrEqualTo(exp * 1000);
    assertThat(ws.ws.closeReason()).isEqualTo("token expired");
  }

  @Test
  void aConnectionsLogLinesAreJsonWithItsUserDeviceAndNode() {
    WsClient ws = clients.failures.result("erin's wss", connect(token(rsa, "erin", 600), "watch"), Clients.WAIT);
    ws.drainWithPing();
    JsonObject line = Await.value("erin's connected line", () -> lines().stream()
        .filter(l -> l.getString("formattedMessage", "").startsWith("connected ") && "erin".equals(field(l, "user")))
        .findFirst().orElse(null), Clients.WAIT, Await.EVERY);
    assertThat(field(line, "device")).isEqualTo("watch");
    assertThat(field(line, "node")).isEqualTo("node-1");
    assertThat(line.getString("level")).isEqualTo("DEBUG");
    assertThat(line.getString("loggerName")).isEqualTo("io.parley.gateway.GatewayVerticle");
    ws.ws.close();

    // a refused handshake's line has the device and node (no user: the token was not accepted)
    Await.failure(connect("not-a-token", "kiosk"), Clients.WAIT);
    JsonObject refused = Await.value("the refused handshake's line", () -> lines().stream()
        .filter(l -> l.getString("formattedMessage", "").startsWith("handshake from") && "kiosk".equals(field(l, "device")))
        .findFirst().orElse(null), Clients.WAIT, Await.EVERY);
    assertThat(field(refused, "node")).isEqualTo("node-1");
    assertThat(field(refused, "user")).isNull();
  }

  /** Every captured line, each of which must be a JSON object once the node switched to JSON. */
  private List<JsonObject> lines() {
    String all;
    synchronized (logged) {
      all = logged.toString(StandardCharsets.UTF_8);
    }
    List<JsonObject> out = new ArrayList<>();
    boolean json = false;
    for (String l : all.split("\n")) {
      if (l.startsWith("{")) {
        json = true;
      }
      if (json && !l.isBlank()) {
        out.add(new JsonObject(l)); // fails the test if a line after the switch is not JSON
      }
    }
    return out;
  }

  /** A key-value pair of a line (logback's JsonEncoder: {@code "kvpList":[{"user":"erin"},…]}). */
  private static String field(JsonObject line, String key) {
    JsonArray kvps = line.getJsonArray("kvpList");
    if (kvps == null) {
      return null;
    }
    for (Object o : kvps) {
      if (o instanceof JsonObject kv && kv.containsKey(key)) {
        return kv.getString(key);
      }
    }
    return null;
  }
}
