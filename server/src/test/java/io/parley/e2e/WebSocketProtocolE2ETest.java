package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WebSocket protocol as the gateway speaks it (RFC 6455), including what a well-behaved client
 * library never sends: the handshake's checks, fragmented messages, control frames, the closing
 * handshake, and protocol errors answered with their close codes. The raw cases talk over a plain
 * TCP socket, byte by byte.
 */
class WebSocketProtocolE2ETest {
  static final int FRAME_MAX = 8192;
  /** The example of RFC 6455 §1.3: this key's accept value is fixed by the standard. */
  static final String RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
  static final String RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
  @TempDir
  static Path dir;
  static TestNode node;
  static Clients clients;

  @BeforeAll
  static void start() {
    node = TestNode.start(dir, Map.of("PARLEY_LIMITS_BODY_MAX_BYTES", "1024",
        "PARLEY_LIMITS_FRAME_MAX_BYTES", Integer.toString(FRAME_MAX)));
    clients = new Clients(node.port);
  }

  @AfterAll
  static void stop() {
    clients.close();
    node.close();
  }

  @Test
  void aMessageSentInFragmentsIsReassembled() {
    WsClient a = clients.connect(clients.token("wsp-frag"), "d");
    a.ws.writeFrame(WebSocketFrame.textFrame("{\"op\":", false));
    a.ws.writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer("\"pi"), false));
    a.ws.writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer("ng\"}"), true));
    assertThat(a.next("pong")).isNotNull();
  }

  @Test
  void fragmentsThatTogetherPassTheLimitCloseWith1009() {
    WsClient a = clients.connect(clients.token("wsp-frag-big"), "d");
    String part = "x".repeat(FRAME_MAX / 2 - 10);
    a.ws.writeFrame(WebSocketFrame.textFrame("{\"op\":\"ping\",\"pad\":\"" + part, false));
    a.ws.writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer(part), false));
    a.ws.writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer(part + "\"}"), true));
    assertThat(a.awaitClose()).isEqualTo((short) 1009);
  }

  @Test
  void aPingFrameIsAnsweredWithAPongCarryingItsPayload() {
    WsClient a = clients.connect(clients.token("wsp-ping"), "d");
    CompletableFuture<String> pong = new CompletableFuture<>();
    a.ws.pongHandler(b -> pong.complete(b.toString()));
    a.ws.writePing(Buffer.buffer("are you there"));
    assertThat(pong).succeedsWithin(Clients.WAIT).isEqualTo("are you there");
  }

  @Test
  void aBinaryMessageGetsATypedErrorAndTheConnectionStaysUsable() {
    WsClient a = clients.connect(clients.token("wsp-binary"), "d");
    a.ws.writeBinaryMessage(Buffer.buffer(new byte[] {1, 2, 3}));
    assertThat(a.next("error").getString("code")).isEqualTo("bad_request");
    assertThat(a.drainWithPing()).isEmpty();
  }

  @Test
  void aClientsCloseIsAnsweredWithItsCodeAndEndsTheSession() {
    WsClient leaving = clients.connect(clients.token("wsp-leaving"), "d");
    WsClient watcher = clients.connect(clients.token("wsp-watcher"), "d");
    watcher.send(new JsonObject().put("op", "presence_sub").put("users", new JsonArray().add("wsp-leaving")));
    assertThat(watcher.next("presence").getString("state")).isEqualTo("online");

    leaving.ws.close((short) 4001, "bye");
    assertThat(leaving.awaitClose()).as("the server's answer carries the client's code").isEqualTo((short) 4001);
    JsonObject offline = watcher.next("presence");
    assertThat(offline.getString("user")).isEqualTo("wsp-leaving");
    assertThat(offline.getString("state")).isEqualTo("offline");
  }

  @Test
  void theHandshakeAnswersWithTheAcceptValueOfTheStandard() throws IOException {
    try (Raw raw = new Raw(node.port)) {
      String head = raw.handshake(clients.token("wsp-raw"), RFC_KEY, "13");
      assertThat(head).startsWith("HTTP/1.1 101");
      assertThat(head.toLowerCase(Locale.ROOT))
          .contains("upgrade: websocket")
          .contains("sec-websocket-accept: " + RFC_ACCEPT.toLowerCase(Locale.ROOT));
      raw.send(0x1, "{\"op\":\"ping\"}".getBytes(StandardCharsets.UTF_8), true);
      Raw.Frame pong = raw.read();
      assertThat(pong.opcode()).isEqualTo(0x1);
      assertThat(new JsonObject(new String(pong.payload(), StandardCharsets.UTF_8)).getString("op")).isEqualTo("pong");
    }
  }

  @Test
  void anUnsupportedVersionGets426NamingVersion13AndAMissingKeyGets400() throws IOException {
    String token = clients.token("wsp-version");
    try (Raw raw = new Raw(node.port)) {
      String head = raw.handshake(token, RFC_KEY, "8");
      assertThat(head).startsWith("HTTP/1.1 426");
      assertThat(head.toLowerCase(Locale.ROOT)).contains("sec-websocket-version: 13");
    }
    try (Raw raw = new Raw(node.port)) {
      assertThat(raw.handshake(token, null, "13")).startsWith("HTTP/1.1 400");
    }
  }

  @Test
  void textThatIsNotUtf8ClosesWith1007() throws IOException {
    try (Raw raw = new Raw(node.port)) {
      assertThat(raw.handshake(clients.token("wsp-utf8"), RFC_KEY, "13")).startsWith("HTTP/1.1 101");
      raw.send(0x1, new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'}, true);
      assertThat(raw.read().closeCode()).isEqualTo(1007);
    }
  }

  @Test
  void anUnmaskedClientFrameClosesWith1002() throws IOException {
    try (Raw raw = new Raw(node.port)) {
      assertThat(raw.handshake(clients.token("wsp-unmasked"), RFC_KEY, "13")).startsWith("HTTP/1.1 101");
      raw.send(0x1, "{\"op\":\"ping\"}".getBytes(StandardCharsets.UTF_8), false);
      assertThat(raw.read().closeCode()).isEqualTo(1002);
    }
  }

  /** A WebSocket client written out by hand over a blocking socket, to send what libraries will not. */
  static final class Raw implements AutoCloseable {
    record Frame(int opcode, byte[] payload) {
      int closeCode() {
        assertThat(opcode).as("a close frame").isEqualTo(0x8);
        return ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
      }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    Raw(int port) throws IOException {
      socket = new Socket("127.0.0.1", port);
      socket.setSoTimeout((int) Clients.WAIT.toMillis());
      in = socket.getInputStream();
      out = socket.getOutputStream();
    }

    /** Sends an upgrade request; returns the response head (status line and headers). */
    String handshake(String token, String key, String version) throws IOException {
      String request = "GET /v1/ws?device=raw&access_token=" + token + " HTTP/1.1\r\n"
          + "Host: 127.0.0.1\r\n"
          + "Upgrade: websocket\r\n"
          + "Connection: Upgrade\r\n"
          + (key == null ? "" : "Sec-WebSocket-Key: " + key + "\r\n")
          + "Sec-WebSocket-Version: " + version + "\r\n\r\n";
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          throw new AssertionError("connection closed during the handshake: " + head);
        }
        head.write(b);
      }
      return head.toString(StandardCharsets.US_ASCII);
    }

    void send(int opcode, byte[] payload, boolean masked) throws IOException {
      ByteArrayOutputStream f = new ByteArrayOutputStream();
      f.write(0x80 | opcode);
      int maskBit = masked ? 0x80 : 0;
      if (payload.length < 126) {
        f.write(maskBit | payload.length);
      } else {
        f.write(maskBit | 126);
        f.write(payload.length >>> 8);
        f.write(payload.length & 0xFF);
      }
      byte[] key = {0x12, 0x34, 0x56, 0x78};
      if (masked) {
        f.write(key);
      }
      for (int i = 0; i < payload.length; i++) {
        f.write(masked ? payload[i] ^ key[i % 4] : payload[i]);
      }
      out.write(f.toByteArray());
      out.flush();
    }

    Frame read() throws IOException {
      int b0 = readByte();
      int len = readByte() & 0x7F;
      if (len == 126) {
        len = (readByte() << 8) | readByte();
      } else if (len == 127) {
        throw new AssertionError("unexpectedly long frame");
      }
      byte[] payload = in.readNBytes(len);
      return new Frame(b0 & 0x0F, payload);
    }

    private int readByte() throws IOException {
      int b = in.read();
      if (b < 0) {
        throw new AssertionError("connection closed before a frame");
      }
      return b;
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
