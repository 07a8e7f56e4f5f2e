package io.parley.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Random;

/**
 * One raw WebSocket connection of the fuzzer, on a blocking socket of its own thread. It writes
 * frames byte for byte as {@link #frame} builds them (RFC 6455 §5.2), because the fuzzer must send
 * what no client library sends: reserved bits and opcodes, unmasked frames, lengths that lie. What
 * the server sends back is decoded by Netty's RFC 6455 decoder set up as a client's (server frames
 * unmasked, no extensions), so a malformed server frame is a decoder error, which the fuzzer reports.
 */
final class FuzzClient implements AutoCloseable {
  static final int OP_CONT = 0x0;
  static final int OP_TEXT = 0x1;
  static final int OP_BINARY = 0x2;
  static final int OP_CLOSE = 0x8;
  static final int OP_PING = 0x9;
  static final int OP_PONG = 0xA;

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final EmbeddedChannel decoder;
  private final ArrayDeque<WebSocketFrame> ready = new ArrayDeque<>();
  private final byte[] buf = new byte[64 * 1024];
  private boolean eof;

  private FuzzClient(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
    this.decoder = new EmbeddedChannel(new WebSocket13FrameDecoder(WebSocketDecoderConfig.newBuilder()
        .expectMaskedFrames(false).allowMaskMismatch(false).allowExtensions(false)
        .maxFramePayloadLength(64 * 1024 * 1024).closeOnProtocolViolation(false).build()));
  }

  /**
   * Connects and upgrades ({@code GET /v1/ws?access_token=…}); throws with the status line when
   * the server does not answer 101.
   */
  static FuzzClient open(String host, int port, String token, int timeoutMs) throws IOException {
    Socket s = new Socket();
    s.setTcpNoDelay(true);
    s.connect(new InetSocketAddress(host, port), timeoutMs);
    s.setSoTimeout(timeoutMs);
    FuzzClient c = new FuzzClient(s);
    String req = "GET /v1/ws?access_token=" + token + " HTTP/1.1\r\nHost: " + host + ":" + port
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        + "Sec-WebSocket-Version: 13\r\n\r\n";
    c.out.write(req.getBytes(StandardCharsets.US_ASCII));
    c.out.flush();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    // read the response head byte by byte: whatever follows it is already WebSocket frames
    int matched = 0;
    while (matched < 4) {
      int b = c.in.read();
      if (b < 0) {
        c.close();
        throw new IOException("connection closed during the handshake: " + head.toString(StandardCharsets.ISO_8859_1));
      }
      head.write(b);
      matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    String status = head.toString(StandardCharsets.ISO_8859_1);
    if (!status.startsWith("HTTP/1.1 101")) {
      c.close();
      throw new IOException("handshake refused: " + status.lines().findFirst().orElse(status));
    }
    return c;
  }

  /**
   * One frame as RFC 6455 §5.2 lays it out: FIN, three RSV bits, a 4-bit opcode, the mask bit, the
   * length in its shortest form (or the 16/64-bit form when {@code lengthForm} says so), the
   * masking key from {@code rnd} and the payload XOR-ed with it when {@code masked}.
   *
   * @param lengthForm 0 shortest, 16 or 64 to force that extended length field
   */
  static byte[] frame(boolean fin, int rsv, int opcode, boolean masked, byte[] payload, int lengthForm, Random rnd) {
    int n = payload.length;
    int form = lengthForm != 0 ? lengthForm : n < 126 ? 7 : n <= 0xFFFF ? 16 : 64;
    ByteArrayOutputStream o = new ByteArrayOutputStream(n + 14);
    o.write((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0xF));
    int maskBit = masked ? 0x80 : 0;
    if (form == 7) {
      o.write(maskBit | n);
    } else if (form == 16) {
      o.write(maskBit | 126);
      o.write(n >>> 8);
      o.write(n);
    } else {
      o.write(maskBit | 127);
      for (int i = 7; i >= 0; i--) {
        o.write((int) ((long) n >>> (8 * i)));
      }
    }
    if (masked) {
      byte[] key = new byte[4];
      rnd.nextBytes(key);
      o.write(key, 0, 4);
      byte[] m = new byte[n];
      for (int i = 0; i < n; i++) {
        m[i] = (byte) (payload[i] ^ key[i & 3]);
      }
      o.write(m, 0, n);
    } else {
      o.write(payload, 0, n);
    }
    return o.toByteArray();
  }

  /** A masked frame's header announcing {@code length} bytes (any 64-bit value), a zero key and no payload. */
  static byte[] lyingHeader(int opcode, long length) {
    byte[] h = new byte[14];
    h[0] = (byte) (0x80 | opcode);
    h[1] = (byte) (0x80 | 127);
    for (int i = 0; i < 8; i++) {
      h[2 + i] = (byte) (length >>> (8 * (7 - i)));
    }
    return h;
  }

  void send(byte[] bytes) throws IOException {
    out.write(bytes);
  }

  void flush() throws IOException {
    out.flush();
  }

  /**
   * The next frame from the server, or null when the connection ended (EOF or reset) before one
   * came. Throws {@link SocketTimeoutException} when none came within the socket timeout, and
   * {@link MalformedServerFrame} when the server's bytes are not a valid frame.
   */
  WebSocketFrame next() throws IOException {
    while (ready.isEmpty()) {
      if (eof) {
        return null;
      }
      int n;
      try {
        n = in.read(buf);
      } catch (SocketTimeoutException e) {
        throw e;
      } catch (IOException e) {
        n = -1; // reset by the server after its close: the same as EOF here
      }
      if (n < 0) {
        eof = true;
        return null;
      }
      ByteBuf b = Unpooled.copiedBuffer(buf, 0, n);
      try {
        decoder.writeInbound(b);
      } catch (RuntimeException e) {
        throw new MalformedServerFrame(e.toString());
      }
      for (Object f; (f = decoder.readInbound()) != null; ) {
        ready.add((WebSocketFrame) f);
      }
      if (!decoder.isOpen()) {
        throw new MalformedServerFrame("the decoder closed: a protocol violation by the server");
      }
    }
    return ready.poll();
  }

  void timeout(int ms) throws IOException {
    socket.setSoTimeout(ms);
  }

  @Override
  public void close() {
    ready.forEach(WebSocketFrame::release);
    ready.clear();
    decoder.finishAndReleaseAll();
    try {
      socket.close();
    } catch (IOException e) {
      // closing: nothing to do
    }
  }

  /** The server sent bytes that are not a valid RFC 6455 server frame. */
  static final class MalformedServerFrame extends IOException {
    private static final long serialVersionUID = 1L;

    MalformedServerFrame(String message) {
      super(message);
    }
  }
}
