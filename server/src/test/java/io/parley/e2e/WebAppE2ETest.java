package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * What a browser client needs of the server: the web app and the SDK's modules served at {@code /}
 * with headers that keep other sites' scripts out and the app out of their frames; WebSocket
 * handshakes from other sites' pages refused ({@code http.allowed_origins}); and the token a
 * browser must put in the socket's URL never written to a log.
 */
class WebAppE2ETest {
  static final String LISTED = "https://chat.example.com";
  @TempDir
  static Path dir;
  static TestNode node;
  static Clients clients;
  static final ByteArrayOutputStream logged = new ByteArrayOutputStream();
  static OutputStreamAppender<ILoggingEvent> capture;
  static final Map<String, Level> levels = new LinkedHashMap<>();

  @BeforeAll
  static void start() {
    captureLogs();
    node = TestNode.start(dir, Map.of("PARLEY_HTTP_ALLOWED_ORIGINS", LISTED));
    clients = new Clients(node.port);
  }

  @AfterAll
  static void stop() {
    try {
      clients.close();
      node.close();
    } finally {
      LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
      levels.forEach((name, level) -> context.getLogger(name).setLevel(level));
      context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(capture);
      capture.stop();
    }
  }

  /** Every logger the node's requests pass through, at DEBUG (Netty and Vert.x too), into {@link #logged}. */
  private static void captureLogs() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    PatternLayoutEncoder text = new PatternLayoutEncoder();
    text.setContext(context);
    text.setPattern("%logger %msg %kvp %ex%n");
    text.start();
    capture = new OutputStreamAppender<>();
    capture.setContext(context);
    capture.setName("webapp-e2e-capture");
    capture.setEncoder(text);
    capture.setOutputStream(logged);
    capture.start();
    context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(capture);
    for (String name : new String[] {"io.parley", "io.vertx", "io.netty"}) {
      ch.qos.logback.classic.Logger logger = context.getLogger(name);
      levels.put(name, logger.getLevel());
      logger.setLevel(Level.DEBUG);
    }
  }

  // --- the app and its headers ----------------------------------------------------------------------

  @Test
  void theAppIsServedAtTheRootWithItsSecurityHeaders() {
    Clients.Response page = clients.request(HttpMethod.GET, "/", null, null);
    assertThat(page.status()).isEqualTo(200);
    assertThat(page.headers().get("content-type")).startsWith("text/html");
    assertThat(page.body()).contains("<script type=\"module\" src=\"/app/app.js\">");
    for (String path : new String[] {"/", "/app/app.js", "/app/style.css", "/app/sw.js", "/sdk/index.js", "/sdk/client.js"}) {
      Clients.Response r = clients.request(HttpMethod.GET, path, null, null);
      assertThat(r.status()).as(path).isEqualTo(200);
      String csp = r.headers().get("Content-Security-Policy");
      assertThat(csp).as(path).contains("default-src 'none'", "script-src 'self'", "connect-src 'self'",
          "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'").doesNotContain("unsafe");
      assertThat(r.headers().get("X-Content-Type-Options")).as(path).isEqualTo("nosniff");
      assertThat(r.headers().get("Referrer-Policy")).as(path).isEqualTo("no-referrer");
      assertThat(r.headers().get("X-Frame-Options")).as(path).isEqualTo("DENY");
    }
    assertThat(clients.request(HttpMethod.GET, "/app/app.js", null, null).headers().get("content-type"))
        .startsWith("text/javascript");
    // the SDK as it is in clients/js/src, for the app to import
    assertThat(clients.request(HttpMethod.GET, "/sdk/client.js", null, null).body()).contains("export class ParleyClient");
  }

  @Test
  void nothingButTheAppsFilesIsServedAndApiPathsKeepTheirJsonErrors() {
    for (String path : new String[] {"/app/missing.js", "/sdk/../conf/base.json", "/app/%2e%2e/conf/base.json",
        "/app/..%2flogback.xml", "/conf/base.json", "/logback.xml", "/webroot/index.html", "/app/"}) {
      Clients.Response r = clients.request(HttpMethod.GET, path, null, null);
      assertThat(r.status()).as(path).isIn(400, 403, 404);
      assertThat(r.body()).as(path).doesNotContain("jwt.secret").doesNotContain("<configuration>");
    }
    Clients.Response api = clients.request(HttpMethod.GET, "/v1/no-such-route", null, null);
    assertThat(api.status()).isEqualTo(404);
    assertThat(api.errorCode()).isEqualTo("not_found");
    assertThat(clients.request(HttpMethod.POST, "/", null, "x").status()).as("only GET").isEqualTo(404);
    assertThat(clients.request(HttpMethod.GET, "/health/live", null, null).json().getString("status")).isEqualTo("up");
  }

  // --- the WebSocket's origin check -------------------------------------------------------------------

  @Test
  void aHandshakeFromAnotherSitesPageIsRefusedWith403() throws IOException {
    String token = clients.token("origin-alice");
    String self = "127.0.0.1:" + node.port;
    assertThat(handshake(token, self, null).status).as("no Origin: not a browser").isEqualTo(101);
    assertThat(handshake(token, self, "http://" + self).status).as("the app's own page").isEqualTo(101);
    assertThat(handshake(token, self, LISTED).status).as("listed").isEqualTo(101);
    assertThat(handshake(token, self, "http://localhost:5173").status).as("loopback on the embedded profile").isEqualTo(101);
    for (String origin : new String[] {"https://evil.example", "null", "http://127.0.0.1.evil.example", "http://chat.example.com"}) {
      Answer refused = handshake(token, self, origin);
      assertThat(refused.status).as(origin).isEqualTo(403);
      JsonObject error = new JsonObject(refused.body).getJsonObject("error");
      assertThat(error.getString("code")).as(origin).isEqualTo("forbidden");
      assertThat(error.getString("message")).contains("origin");
    }
    // the check comes before the token's: a refused origin learns nothing about a token
    assertThat(handshake("not-a-token", self, "https://evil.example").status).isEqualTo(403);
  }

  // --- the token in the socket's URL -----------------------------------------------------------------

  @Test
  void aTokenInTheQueryStringIsNeverLogged() throws IOException {
    String token = clients.token("logged-alice");
    String self = "127.0.0.1:" + node.port;
    String forged = token.substring(0, token.lastIndexOf('.') + 1) + "AAAAsignature-that-does-not-match";
    assertThat(handshake(token, self, null).status).isEqualTo(101);
    handshake(forged, self, null);
    handshake(token, self, "https://evil.example");
    rawHandshake("/v1/ws?device=bad%20device&access_token=" + token, self, null);
    rawHandshake("/v1/ws?access_token=" + token + "&device=d", self, null, "8");
    clients.request(HttpMethod.GET, "/v1/conversations?access_token=" + forged, null, null);
    clients.request(HttpMethod.GET, "/v1/conversations/not-a-conv/messages?access_token=" + token, null, null);
    clients.request(HttpMethod.GET, "/v1/no-such-route?access_token=" + token, null, null);
    clients.request(HttpMethod.GET, "/app/missing.js?access_token=" + token, null, null);
    // a query string that does not decode is refused, not thrown (Vert.x logged such a URI whole)
    Answer malformed = rawHandshake("/v1/ws?access_token=" + token + "&x=%zz", self, null);
    assertThat(malformed.status).isEqualTo(400);
    assertThat(new JsonObject(malformed.body).getJsonObject("error").getString("code")).isEqualTo("bad_request");
    for (String path : new String[] {"/v1/conversations?access_token=" + token + "&x=%zz", "/app/app.js?access_token=" + token + "&x=%zz",
        "/health/live?access_token=" + token + "&x=%"}) {
      Clients.Response r = clients.request(HttpMethod.GET, path, null, null);
      assertThat(r.status()).as(path).isEqualTo(400);
      assertThat(r.errorCode()).as(path).isEqualTo("bad_request");
    }
    String log;
    synchronized (logged) {
      log = logged.toString(StandardCharsets.UTF_8);
    }
    // the capture works: the refusals above were logged
    assertThat(log).contains("refused");
    String signature = token.substring(token.lastIndexOf('.') + 1);
    assertThat(log).doesNotContain(token).doesNotContain(signature).doesNotContain(forged);
  }

  // --- raw handshakes ---------------------------------------------------------------------------------

  record Answer(int status, String head, String body) {}

  private static Answer handshake(String token, String host, String origin) throws IOException {
    return rawHandshake("/v1/ws?device=web&access_token=" + token, host, origin);
  }

  private static Answer rawHandshake(String uri, String host, String origin) throws IOException {
    return rawHandshake(uri, host, origin, "13");
  }

  /** A handshake over a plain socket (a browser's headers, which Vert.x's client would not send), read up to its body. */
  private static Answer rawHandshake(String uri, String host, String origin, String version) throws IOException {
    Socket s = new Socket("127.0.0.1", node.port);
    s.setSoTimeout((int) Clients.WAIT.toMillis());
    StringBuilder req = new StringBuilder("GET " + uri + " HTTP/1.1\r\nHost: " + host
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        + "Sec-WebSocket-Version: " + version + "\r\n");
    if (origin != null) {
      req.append("Origin: ").append(origin).append("\r\n");
    }
    OutputStream out = s.getOutputStream();
    out.write(req.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
    out.flush();
    InputStream in = s.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.write(b);
    }
    String h = head.toString(StandardCharsets.ISO_8859_1);
    int status = Integer.parseInt(h.substring(9, 12));
    String body = "";
    java.util.regex.Matcher len = java.util.regex.Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(h);
    if (status != 101 && len.find()) {
      body = new String(in.readNBytes(Integer.parseInt(len.group(1))), StandardCharsets.UTF_8);
    }
    s.close(); // an accepted socket's close is the server's to handle like any client leaving
    return new Answer(status, h, body);
  }
}
