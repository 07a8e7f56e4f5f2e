package io.parley.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The WebSocket end of a connection on an in-memory channel: frames from a client encoder go in,
 * what the server writes is read back with a client decoder, and the scheduler's clock is moved by
 * hand. The E2E tests (WebSocketProtocolE2ETest) cover the same over real sockets.
 */
class WsChannelTest {
  static final int MESSAGE_MAX = 100;

  /** What the session would have seen. */
  static final class Recorder implements WsChannel.Listener {
    final List<String> events = new ArrayList<>();

    @Override
    public void onText(String text) {
      events.add("text:" + text);
    }

    @Override
    public void onBinary() {
      events.add("binary");
    }

    @Override
    public void onPong() {
      events.add("pong");
    }

    @Override
    public void onPing() {
      events.add("ping");
    }

    @Override
    public void onTooBig() {
      events.add("too-big");
    }

    @Override
    public void onClosed() {
      events.add("closed");
    }
  }

  static final long UNSENT_MAX = 256 * 1024;
  static final long BEHIND_MAX_MS = 2000;
  static final long CLOSING_TIMEOUT_MS = 10_000;
  static final WsChannel.Settings SETTINGS = new WsChannel.Settings(WsChannel.decoderConfig(1 << 16), MESSAGE_MAX,
      UNSENT_MAX, TimeUnit.MILLISECONDS.toNanos(BEHIND_MAX_MS), CLOSING_TIMEOUT_MS);

  final Recorder session = new Recorder();
  /** What the gateway's flusher was handed: one entry per turn the socket was written in. */
  final List<WsChannel> toFlush = new ArrayList<>();
  EmbeddedChannel server;
  WsChannel ws;
  /** Masks frames as a client must. */
  final EmbeddedChannel clientOut = new EmbeddedChannel(new WebSocket13FrameEncoder(true));
  /** Reads server frames as a client does: unmasked. */
  final EmbeddedChannel clientIn = new EmbeddedChannel(new WebSocket13FrameDecoder(false, false, 1 << 20));

  @BeforeEach
  void attach() {
    server = new EmbeddedChannel();
    server.freezeTime();
    server.pipeline().addLast("upgraded", new ChannelInboundHandlerAdapter());
    ws = WsChannel.attach(server.pipeline(), "upgraded", session, SETTINGS, toFlush::add);
  }

  @AfterEach
  void release() {
    server.finishAndReleaseAll();
    clientOut.finishAndReleaseAll();
    clientIn.finishAndReleaseAll();
  }

  void fromClient(WebSocketFrame frame) {
    assertThat(clientOut.writeOutbound(frame)).isTrue();
    for (ByteBuf b = clientOut.readOutbound(); b != null; b = clientOut.readOutbound()) {
      server.writeInbound(b);
    }
  }

  /** The status code of the next frame the server wrote, which must be a close frame. */
  int closeCodeToClient() {
    WebSocketFrame frame = toClient();
    try {
      assertThat(frame).isInstanceOf(CloseWebSocketFrame.class);
      return ((CloseWebSocketFrame) frame).statusCode();
    } finally {
      frame.release();
    }
  }

  /** The next frame the server wrote, or null. */
  WebSocketFrame toClient() {
    for (ByteBuf b = server.readOutbound(); b != null; b = server.readOutbound()) {
      clientIn.writeInbound(b);
    }
    return clientIn.readInbound();
  }

  @Test
  void behindCountsFromWhenTheSocketWentOverItsHighWaterMarkUntilItIsBackUnder() {
    assertThat(ws.behindNanos()).isZero();
    // written, not yet taken by the transport: over the 64 KiB high-water mark
    server.write(Unpooled.wrappedBuffer(new byte[server.config().getWriteBufferHighWaterMark() + 1]));
    assertThat(server.isWritable()).isFalse();
    assertThat(ws.behindNanos()).isZero();
    server.advanceTimeBy(1500, TimeUnit.MILLISECONDS);
    assertThat(ws.behindNanos()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(1500));
    server.advanceTimeBy(1000, TimeUnit.MILLISECONDS);
    assertThat(ws.behindNanos()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(2500));

    // taken (the in-memory channel takes everything on flush): under the mark again
    server.flush();
    assertThat(server.isWritable()).isTrue();
    assertThat(ws.behindNanos()).isZero();
    ((ByteBuf) server.readOutbound()).release();

    // a new backlog counts from its own start
    server.advanceTimeBy(5000, TimeUnit.MILLISECONDS);
    server.write(Unpooled.wrappedBuffer(new byte[server.config().getWriteBufferHighWaterMark() + 1]));
    server.advanceTimeBy(200, TimeUnit.MILLISECONDS);
    assertThat(ws.behindNanos()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
  }

  @Test
  void framesThatArriveBeforeResumeAreHeldAndHandedOverInOrderAfterIt() {
    assertThat(server.config().isAutoRead()).as("reads nothing until resumed").isFalse();
    fromClient(new TextWebSocketFrame("one"));
    fromClient(new TextWebSocketFrame("two"));
    assertThat(session.events).isEmpty();

    ws.resume();
    assertThat(session.events).containsExactly("text:one", "text:two");
    assertThat(server.config().isAutoRead()).isTrue();
    fromClient(new TextWebSocketFrame("three"));
    assertThat(session.events).containsExactly("text:one", "text:two", "text:three");
  }

  @Test
  void aFragmentedMessageArrivesWhole() {
    ws.resume();
    fromClient(new TextWebSocketFrame(false, 0, "{\"op\":"));
    fromClient(new ContinuationWebSocketFrame(false, 0, "\"pi"));
    assertThat(session.events).isEmpty();
    fromClient(new ContinuationWebSocketFrame(true, 0, "ng\"}"));
    fromClient(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1})));
    assertThat(session.events).containsExactly("text:{\"op\":\"ping\"}", "binary");
  }

  @Test
  void theLimitAppliesToTheWholeMessageNotEachFragmentNorTheConnection() {
    ws.resume();
    fromClient(new TextWebSocketFrame("x".repeat(60)));
    fromClient(new TextWebSocketFrame("y".repeat(60)));
    assertThat(session.events).containsExactly("text:" + "x".repeat(60), "text:" + "y".repeat(60));
    session.events.clear();
    fromClient(new TextWebSocketFrame(false, 0, "a".repeat(60)));
    fromClient(new ContinuationWebSocketFrame(true, 0, "b".repeat(60)));
    assertThat(session.events).containsExactly("too-big");
  }

  @Test
  void aPingIsAnsweredWithItsPayload() {
    ws.resume();
    fromClient(new PingWebSocketFrame(Unpooled.copiedBuffer("hello", StandardCharsets.UTF_8)));
    WebSocketFrame pong = toClient();
    try {
      assertThat(pong).isInstanceOf(PongWebSocketFrame.class);
      assertThat(pong.content().toString(StandardCharsets.UTF_8)).isEqualTo("hello");
    } finally {
      pong.release();
    }
    fromClient(new PongWebSocketFrame());
    assertThat(session.events).containsExactly("ping", "pong");
  }

  @Test
  void aClientsCloseIsAnsweredWithItsCodeThenTheConnectionEnds() {
    ws.resume();
    fromClient(new CloseWebSocketFrame(4000, "bye"));
    assertThat(closeCodeToClient()).isEqualTo(4000);
    assertThat(server.isOpen()).isFalse();
    assertThat(session.events).containsExactly("closed");
  }

  @Test
  void aClientsCloseWhoseReasonIsNotUtf8IsAnsweredWith1007() {
    // found by scripts/fuzz: a reason ending in a cut-short sequence passes Netty's decoder and was
    // echoed as if valid (1000), where §8.1 fails the connection
    ws.resume();
    ByteBuf body = Unpooled.wrappedBuffer(new byte[] {0x03, (byte) 0xE8, 'o', 'k', (byte) 0xE2, (byte) 0x82});
    fromClient(new CloseWebSocketFrame(true, 0, body));
    assertThat(closeCodeToClient()).isEqualTo(1007);
    assertThat(server.isOpen()).isFalse();
    assertThat(session.events).containsExactly("closed");
  }

  @Test
  void aClientsCloseWithACodeAbove4999IsAProtocolError() {
    // found by scripts/fuzz: 5000 and 65535 were echoed; RFC 6455 §7.4.2 defines codes up to 4999
    ws.resume();
    fromClient(new CloseWebSocketFrame(true, 0, Unpooled.wrappedBuffer(new byte[] {(byte) 0x13, (byte) 0x88})));
    assertThat(closeCodeToClient()).isEqualTo(1002);
    assertThat(server.isOpen()).isFalse();
  }

  @Test
  void aClientsCloseWithAUtf8ReasonIsEchoedWithItsCode() {
    ws.resume();
    fromClient(new CloseWebSocketFrame(1000, "😀 é"));
    assertThat(closeCodeToClient()).isEqualTo(1000);
    assertThat(server.isOpen()).isFalse();
  }

  @Test
  void aClientsCloseWithTheHighestPrivateCodeIsEchoed() {
    ws.resume();
    fromClient(new CloseWebSocketFrame(4999, null));
    assertThat(closeCodeToClient()).isEqualTo(4999);
    assertThat(server.isOpen()).isFalse();
  }

  @Test
  void aServerCloseWaitsForTheClientsAnswer() {
    ws.resume();
    ws.close(1013, "too far behind");
    CloseWebSocketFrame sent = (CloseWebSocketFrame) toClient();
    try {
      assertThat(sent.statusCode()).isEqualTo(1013);
      assertThat(sent.reasonText()).isEqualTo("too far behind");
    } finally {
      sent.release();
    }
    assertThat(ws.open()).isFalse();
    assertThat(server.isOpen()).as("open until the client answers").isTrue();
    fromClient(new TextWebSocketFrame("late"));
    assertThat(session.events).as("data after our close is dropped").isEmpty();

    fromClient(new CloseWebSocketFrame(1013, null));
    assertThat(server.isOpen()).isFalse();
    assertThat(session.events).containsExactly("closed");
  }

  @Test
  void aServerCloseTheClientNeverAnswersDropsTheConnectionAfterTheTimeout() {
    ws.resume();
    ws.close(1001, "idle timeout");
    server.advanceTimeBy(CLOSING_TIMEOUT_MS - 1, TimeUnit.MILLISECONDS);
    server.runScheduledPendingTasks();
    assertThat(server.isOpen()).isTrue();
    server.advanceTimeBy(1, TimeUnit.MILLISECONDS);
    server.runScheduledPendingTasks();
    assertThat(server.isOpen()).isFalse();
    assertThat(session.events).containsExactly("closed");
  }

  @Test
  void textThatIsNotUtf8ClosesWith1007() {
    ws.resume();
    fromClient(new TextWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'})));
    assertThat(closeCodeToClient()).isEqualTo(1007);
    assertThat(session.events).isEmpty();
  }

  @Test
  void anUnmaskedFrameIsAProtocolErrorClosedWith1002() {
    ws.resume();
    EmbeddedChannel unmasked = new EmbeddedChannel(new WebSocket13FrameEncoder(false));
    unmasked.writeOutbound(new TextWebSocketFrame("{}"));
    server.writeInbound((ByteBuf) unmasked.readOutbound());
    unmasked.finishAndReleaseAll();
    assertThat(closeCodeToClient()).isEqualTo(1002);
    assertThat(server.isOpen()).isFalse();
    assertThat(session.events).containsExactly("closed");
  }

  @Test
  void theSessionWritesPassStraightThroughToTheSocketAndLeaveOnTheFlushAtTheEndOfTheTurn() {
    byte[] wire = io.parley.protocol.WireFrame.text("{\"op\":\"pong\"}");
    ws.write("{\"op\":\"pong\"}", wire);
    ws.write("{\"op\":\"ack\"}", null);
    assertThat(toFlush).as("handed to the flusher once per turn").containsExactly(ws);
    assertThat((Object) server.readOutbound()).as("nothing leaves before the flush").isNull();

    ws.flush();
    ByteBuf out = server.readOutbound();
    try {
      assertThat(ByteBufUtil.getBytes(out)).isEqualTo(wire);
    } finally {
      out.release();
    }
    WebSocketFrame second = toClient();
    try {
      assertThat(((TextWebSocketFrame) second).text()).isEqualTo("{\"op\":\"ack\"}");
    } finally {
      second.release();
    }
    ws.write("{\"op\":\"pong\"}", wire);
    assertThat(toFlush).as("a new turn, a new flush").containsExactly(ws, ws);
  }

  @Test
  void nothingIsWrittenAfterTheCloseFrame() {
    ws.close(1001, "idle timeout");
    assertThat(closeCodeToClient()).isEqualTo(1001);
    ws.write("{\"op\":\"pong\"}", null);
    ws.flush();
    assertThat((Object) server.readOutbound()).isNull();
    assertThat(toFlush).isEmpty();
  }

  /** Bytes the client has not read: written to the socket and flushed, but not taken by the kernel. */
  void unread(int bytes) {
    server.write(Unpooled.wrappedBuffer(new byte[bytes]));
  }

  @Test
  void aClientOverItsHighWaterMarkIsTooFarBehindOnlyOnceItStaysThereForTheBehindLimit() {
    int overMark = server.config().getWriteBufferHighWaterMark() + 1;
    unread(overMark);
    assertThat(ws.writeQueueFull()).isTrue();
    assertThat(ws.tooFarBehind(false)).as("a burst is not a slow reader").isFalse();
    server.advanceTimeBy(BEHIND_MAX_MS, TimeUnit.MILLISECONDS);
    assertThat(ws.tooFarBehind(false)).isFalse();
    server.advanceTimeBy(1, TimeUnit.MILLISECONDS);
    assertThat(ws.tooFarBehind(false)).isTrue();
    assertThat(ws.tooFarBehind(true)).as("during a sync the socket is full by design: only the unsent bytes count")
        .isFalse();
  }

  @Test
  void whileTheServersOwnLoopIsBehindAFullSocketDoesNotCountAgainstItsClient() {
    AtomicBoolean loopBehind = new AtomicBoolean(true);
    WsChannel.Settings settings = new WsChannel.Settings(SETTINGS.decoder(), MESSAGE_MAX, UNSENT_MAX,
        SETTINGS.behindMaxNanos(), CLOSING_TIMEOUT_MS, loopBehind::get);
    EmbeddedChannel channel = new EmbeddedChannel();
    try {
      channel.freezeTime();
      channel.pipeline().addLast("upgraded", new ChannelInboundHandlerAdapter());
      WsChannel socket = WsChannel.attach(channel.pipeline(), "upgraded", new Recorder(), settings, w -> { });
      channel.write(Unpooled.wrappedBuffer(new byte[channel.config().getWriteBufferHighWaterMark() + 1]));
      assertThat(socket.writeQueueFull()).isTrue();

      // the server cannot hand bytes over in time: however long that lasts, the client is not judged
      channel.advanceTimeBy(5 * BEHIND_MAX_MS, TimeUnit.MILLISECONDS);
      assertThat(socket.tooFarBehind(false)).as("full while the loop is behind").isFalse();
      assertThat(socket.behindNanos()).isZero();

      // the loop caught up: from now on the socket staying full is the client's doing
      loopBehind.set(false);
      channel.advanceTimeBy(BEHIND_MAX_MS, TimeUnit.MILLISECONDS);
      assertThat(socket.tooFarBehind(false)).as("behind only as long as the limit since the loop caught up").isFalse();
      channel.advanceTimeBy(1, TimeUnit.MILLISECONDS);
      assertThat(socket.tooFarBehind(false)).as("a client that does not read is still closed").isTrue();

      // the loop falls behind again: the clock starts over
      loopBehind.set(true);
      assertThat(socket.tooFarBehind(false)).isFalse();
      loopBehind.set(false);
      channel.advanceTimeBy(BEHIND_MAX_MS / 2, TimeUnit.MILLISECONDS);
      assertThat(socket.tooFarBehind(false)).isFalse();
    } finally {
      channel.finishAndReleaseAll();
    }
  }

  @Test
  void theUnsentMaximumHoldsEvenWhileTheServersLoopIsBehind() {
    WsChannel.Settings settings = new WsChannel.Settings(SETTINGS.decoder(), MESSAGE_MAX, UNSENT_MAX,
        SETTINGS.behindMaxNanos(), CLOSING_TIMEOUT_MS, () -> true);
    EmbeddedChannel channel = new EmbeddedChannel();
    try {
      channel.pipeline().addLast("upgraded", new ChannelInboundHandlerAdapter());
      WsChannel socket = WsChannel.attach(channel.pipeline(), "upgraded", new Recorder(), settings, w -> { });
      channel.write(Unpooled.wrappedBuffer(new byte[(int) UNSENT_MAX - 1024]));
      assertThat(socket.tooFarBehind(false)).isFalse();
      channel.write(Unpooled.wrappedBuffer(new byte[2048]));
      assertThat(socket.tooFarBehind(false)).as("what one connection holds stays bounded").isTrue();
    } finally {
      channel.finishAndReleaseAll();
    }
  }

  @Test
  void moreUnsentThanTheMaximumIsTooFarBehindAtOnceEvenDuringASync() {
    unread((int) UNSENT_MAX - 1024);
    assertThat(ws.unsentBytes()).isBetween(UNSENT_MAX - 1024, UNSENT_MAX);
    assertThat(ws.tooFarBehind(true)).isFalse();
    assertThat(ws.tooFarBehind(false)).as("not yet for long").isFalse();
    unread(2048);
    assertThat(ws.tooFarBehind(true)).isTrue();
    assertThat(ws.tooFarBehind(false)).isTrue();
  }

  @Test
  void framesWrittenThisTurnAreFlushedBeforeJudgingTheQueue() {
    // one large frame the client would read at once: only what the kernel would not take counts
    ws.write(null, new byte[server.config().getWriteBufferHighWaterMark() + 1]);
    assertThat(server.isWritable()).as("Netty counts the unflushed frame").isFalse();
    server.advanceTimeBy(BEHIND_MAX_MS + 1, TimeUnit.MILLISECONDS);
    assertThat(ws.writeQueueFull()).isFalse();
    assertThat(ws.tooFarBehind(false)).isFalse();
    assertThat(ws.unsentBytes()).isZero();
    ((ByteBuf) server.readOutbound()).release();
  }

  @Test
  void aWaiterForTheSocketToDrainRunsOnceItIsUnderItsMarkAgain() {
    List<String> ran = new ArrayList<>();
    ws.whenWritable(() -> ran.add("now"));
    assertThat(ran).as("writable: at once").containsExactly("now");
    unread(server.config().getWriteBufferHighWaterMark() + 1);
    ws.whenWritable(() -> ran.add("drained"));
    assertThat(ran).containsExactly("now");
    server.flush();
    assertThat(ran).containsExactly("now", "drained");
    ((ByteBuf) server.readOutbound()).release();
  }
}
