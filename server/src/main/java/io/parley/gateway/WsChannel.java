package io.parley.gateway;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.AbstractScheduledEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.parley.protocol.WireFrame;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Netty end of one client WebSocket once the handshake is answered (RFC 6455 after §4): the
 * frame decoder is Netty's; this handler reassembles fragmented messages, checks that text is
 * UTF-8 (close 1007), enforces Parley's message size limit (close 1009), answers pings, runs the
 * closing handshake and answers protocol errors with their close code, hands whole messages to
 * its {@link Listener}, and tells a waiting sync when a full socket drains. It writes its own frames already encoded ({@link WireFrame}), as the
 * session does, so the pipeline holds no encoder: two handlers per connection in all.
 *
 * <p>It is also the session's way out: {@link #write} puts a frame into the channel already encoded
 * ({@link io.parley.protocol.Outbound#wire()}: a message for a group is encoded once, not once per
 * member) and the gateway's flusher (a {@link TurnBatch}) flushes it once per event-loop turn, so
 * frames that meet in one turn leave in one write. Every frame of a session, the close frame
 * included, goes through this one handler, so they stay in order. And it judges whether the client
 * reads ({@link #tooFarBehind}).
 *
 * <p>Why not Vert.x's {@code ServerWebSocket}: each one keeps the upgrade request, its headers and
 * response, an HTTP connection and an outbound queue whose first chunk alone is 4 KiB, for as long
 * as the socket lives; a node holding 19,000 idle connections paid about 12 KB of memory for each
 * (docs/benchmarks.md). Here a connection is its channel, this pipeline and its {@link Session}.
 * Vert.x still serves the HTTP request and the 101 answer; the gateway then takes the channel over
 * ({@link GatewayVerticle}). Confined to the channel's event loop, which is the gateway's.
 */
final class WsChannel extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(WsChannel.class);
  static final int CLOSE_NOT_UTF8 = 1007;

  /**
   * What every socket of a gateway instance shares.
   *
   * @param decoder settings of Netty's frame decoder ({@link #decoderConfig})
   * @param messageMaxBytes Parley's limit on a whole message (a frame and its continuations)
   * @param unsentMaxBytes unsent bytes past which a client is too far behind, whatever else holds:
   *     bounds what one connection keeps in memory. Set well above a burst of large frames handed to
   *     a socket in one event-loop turn, which io_uring counts as unsent until the ring completes.
   * @param behindMaxNanos a live connection whose socket stays over its high-water mark this long does
   *     not read (or reads far too slowly). While a sync runs the socket is full by design (the
   *     backfill waits for it to drain), so then only {@code unsentMaxBytes} counts.
   * @param closingTimeoutMs how long a close we sent waits for the client's close before the TCP
   *     connection is dropped
   * @param serverBehind whether this event loop itself is behind its work ({@link
   *     io.parley.limits.LoadMonitor.Loop#behind}): then a full socket says nothing of its client
   *     (its bytes wait for the server to hand them over), so the time over the high-water mark
   *     counts only from the moment the loop caught up
   */
  record Settings(WebSocketDecoderConfig decoder, int messageMaxBytes, long unsentMaxBytes, long behindMaxNanos,
      long closingTimeoutMs, BooleanSupplier serverBehind) {
    /** Settings for a loop that is never judged behind. */
    Settings(WebSocketDecoderConfig decoder, int messageMaxBytes, long unsentMaxBytes, long behindMaxNanos,
        long closingTimeoutMs) {
      this(decoder, messageMaxBytes, unsentMaxBytes, behindMaxNanos, closingTimeoutMs, () -> false);
    }
  }

  /** What the session sees of its socket; every call is on the channel's event loop. */
  interface Listener {
    void onText(String text);

    void onBinary();

    void onPong();

    /** A ping arrived (and was answered): the client is alive. */
    void onPing();

    /** A message grew past the limit; the listener closes the socket (1009). */
    void onTooBig();

    /** The socket closed or is closing (either side); called once. */
    void onClosed();
  }

  private final Listener listener;
  private final Settings settings;
  /** Where a socket written to this turn goes to be flushed at its end (the gateway's flusher). */
  private final Consumer<WsChannel> toFlush;
  private ChannelHandlerContext ctx;
  private boolean flushPending;
  private boolean paused = true;
  private ArrayDeque<WebSocketFrame> heldWhilePaused;
  private CompositeByteBuf fragments;
  private boolean textMessage;
  private long messageBytes;
  private boolean closing;
  private boolean closedNotified;
  private ScheduledFuture<?> closingTimer;
  /** Waits for the socket to take bytes again (a sync backfill that filled it); at most one. */
  private Runnable onWritable;
  /** When the socket went over its high-water mark (the event loop's clock, {@link #nanoTime}); 0 while it is under. */
  private long unwritableSince;

  private WsChannel(Listener listener, Settings settings, Consumer<WsChannel> toFlush) {
    this.listener = listener;
    this.settings = settings;
    this.toFlush = toFlush;
  }

  /**
   * Puts the WebSocket codec and a new handler in place of whatever handled the channel at
   * {@code replaced}; the channel reads nothing until {@link #resume()}. {@code toFlush} gets the
   * handler once per turn it is written in, and must call {@link #flush()} at the end of that turn.
   */
  static WsChannel attach(ChannelPipeline pipeline, String replaced, Listener listener, Settings settings,
      Consumer<WsChannel> toFlush) {
    pipeline.channel().config().setAutoRead(false);
    WsChannel ws = new WsChannel(listener, settings, toFlush);
    pipeline.replace(replaced, "parley-ws", ws);
    pipeline.addBefore("parley-ws", "parley-ws-decoder", new WebSocket13FrameDecoder(settings.decoder()));
    return ws;
  }

  /**
   * Decoder settings for client frames: masked, no extensions, frames up to {@code maxPayload}. On a
   * protocol error the decoder only raises it; this handler sends the close frame.
   */
  static WebSocketDecoderConfig decoderConfig(int maxPayload) {
    return WebSocketDecoderConfig.newBuilder()
        .expectMaskedFrames(true)
        .allowMaskMismatch(false)
        .allowExtensions(false)
        .maxFramePayloadLength(maxPayload)
        .closeOnProtocolViolation(false)
        .build();
  }

  /** Whether the socket can carry more frames (open and no close sent or received). */
  boolean open() {
    return !closing && ctx.channel().isActive();
  }

  /** Starts reading (once); frames that arrived before are handled first, in order. */
  void resume() {
    if (!paused) {
      return;
    }
    paused = false;
    // handling a frame may close the socket, which releases (and drops) the rest
    while (heldWhilePaused != null && !heldWhilePaused.isEmpty()) {
      handle(heldWhilePaused.poll());
    }
    heldWhilePaused = null;
    if (ctx.channel().isActive()) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  /**
   * Sends a close frame and stops handling data frames; the TCP connection ends when the client
   * answers with its close, or after {@link Settings#closingTimeoutMs}.
   */
  void close(int code, String reason) {
    if (closing) {
      return;
    }
    closing = true;
    dropFragments();
    if (!ctx.channel().isActive()) {
      return;
    }
    ctx.writeAndFlush(Unpooled.wrappedBuffer(WireFrame.close(code, reason)));
    // a paused socket would never read the client's close
    ctx.channel().config().setAutoRead(true);
    closingTimer = ctx.executor().schedule(() -> ctx.close(), settings.closingTimeoutMs(), TimeUnit.MILLISECONDS);
  }

  // --- outbound --------------------------------------------------------------------------------

  /**
   * Writes one frame ({@code wire}: its encoded form, or null to encode {@code frame} here); flushed
   * at the end of this turn. Dropped once the socket is closing: nothing may follow the close frame.
   */
  void write(String frame, byte[] wire) {
    if (!ctx.executor().inEventLoop()) {
      ctx.executor().execute(() -> write(frame, wire));
      return;
    }
    if (!open()) {
      return; // closed meanwhile: nothing may follow the close frame
    }
    ctx.write(Unpooled.wrappedBuffer(wire != null ? wire : WireFrame.text(frame)), ctx.voidPromise());
    if (!flushPending) {
      flushPending = true;
      toFlush.accept(this);
    }
  }

  /** Called by the gateway's flusher ({@link TurnBatch}) at the end of the turn this socket was written in. */
  void flush() {
    flushPending = false;
    ctx.flush();
  }

  /**
   * Whether the socket holds more unsent bytes than its high-water mark (the client reads too
   * slowly). Netty counts the frames written this turn and not yet flushed too: a few large ones
   * pass the mark on their own, however fast the client reads. So they are flushed first, and only
   * what the kernel would not take counts.
   */
  boolean writeQueueFull() {
    if (!ctx.channel().isWritable() && flushPending) {
      flush();
    }
    return !ctx.channel().isWritable();
  }

  /**
   * Whether the client is too far behind to keep: more than {@link Settings#unsentMaxBytes} unsent,
   * or, unless {@code syncRunning}, over the high-water mark for {@link Settings#behindMaxNanos}.
   */
  boolean tooFarBehind(boolean syncRunning) {
    if (!writeQueueFull()) {
      return false;
    }
    return unsentBytes() > settings.unsentMaxBytes() || (!syncRunning && behindNanos() > settings.behindMaxNanos());
  }

  /** Bytes written to the socket and not yet taken by the kernel (0 when not known). */
  long unsentBytes() {
    ChannelOutboundBuffer buffer = ctx.channel().unsafe().outboundBuffer();
    return buffer == null ? 0 : buffer.totalPendingWriteBytes();
  }

  /**
   * Runs {@code action} once the socket can take more bytes (at once if it can now), or once it
   * closes. One waiter at a time: the session's syncs run one after the other.
   */
  void whenWritable(Runnable action) {
    if (!ctx.channel().isActive() || ctx.channel().isWritable()) {
      action.run();
    } else {
      onWritable = action;
    }
  }

  /**
   * How long the socket has held more unsent bytes than its high-water mark without going back
   * under it, while the server was able to write; 0 while it is under. Bytes count as unsent until
   * the transport reports them taken: on epoll a flush hands them to the kernel at once, on io_uring
   * when the ring completes (the next event-loop turn), so only a duration tells a client that does
   * not read from a burst. And while this event loop is behind ({@link Settings#serverBehind}),
   * the ring's completions and the flushes themselves wait for the loop, so a full socket says
   * nothing of its client: the duration starts again each time the loop is found behind. A client
   * that does not read is still closed: {@code behindMaxNanos} after the loop caught up, or at once
   * past {@link Settings#unsentMaxBytes}, which bounds what it holds whatever the loop does.
   */
  long behindNanos() {
    if (ctx.channel().isWritable()) {
      unwritableSince = 0;
      return 0;
    }
    long now = nanoTime();
    if (unwritableSince == 0 || settings.serverBehind().getAsBoolean()) {
      unwritableSince = now;
    }
    return now - unwritableSince;
  }

  /** The event loop's clock (a test's channel moves it by hand). */
  private long nanoTime() {
    return ctx.executor() instanceof AbstractScheduledEventExecutor loop ? loop.ticker().nanoTime() : System.nanoTime();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      unwritableSince = 0;
      runOnWritable();
    } else if (unwritableSince == 0) {
      unwritableSince = nanoTime();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof WebSocketFrame frame)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (paused) {
      if (heldWhilePaused == null) {
        heldWhilePaused = new ArrayDeque<>(4);
      }
      heldWhilePaused.add(frame);
      return;
    }
    handle(frame);
  }

  private void handle(WebSocketFrame frame) {
    try {
      if (frame instanceof PingWebSocketFrame) {
        if (!closing) {
          ctx.writeAndFlush(Unpooled.wrappedBuffer(WireFrame.pong(ByteBufUtil.getBytes(frame.content()))));
          listener.onPing();
        }
      } else if (frame instanceof PongWebSocketFrame) {
        listener.onPong();
      } else if (frame instanceof CloseWebSocketFrame close) {
        onCloseFrame(close);
      } else if (!closing) {
        onDataFrame(frame);
      }
    } finally {
      frame.release();
    }
  }

  private void onDataFrame(WebSocketFrame frame) {
    // the decoder has checked the sequence: a continuation only follows an unfinished message
    if (!(frame instanceof ContinuationWebSocketFrame)) {
      textMessage = frame instanceof TextWebSocketFrame;
      messageBytes = 0;
    }
    ByteBuf content = frame.content();
    messageBytes += content.readableBytes();
    if (messageBytes > settings.messageMaxBytes()) {
      dropFragments();
      listener.onTooBig();
      return;
    }
    if (frame.isFinalFragment() && fragments == null) {
      message(content);
      return;
    }
    if (fragments == null) {
      fragments = ctx.alloc().compositeBuffer(Integer.MAX_VALUE);
    }
    fragments.addComponent(true, content.retain());
    if (frame.isFinalFragment()) {
      CompositeByteBuf whole = fragments;
      fragments = null;
      try {
        message(whole);
      } finally {
        whole.release();
      }
    }
  }

  private void message(ByteBuf content) {
    if (textMessage) {
      if (!ByteBufUtil.isText(content, StandardCharsets.UTF_8)) {
        close(CLOSE_NOT_UTF8, "text frames must be UTF-8");
        return;
      }
      listener.onText(content.toString(StandardCharsets.UTF_8));
    } else {
      listener.onBinary();
    }
  }

  private void onCloseFrame(CloseWebSocketFrame close) {
    if (closing) {
      // the client's answer to our close
      ctx.close();
      notifyClosed();
    } else {
      ByteBuf body = close.content();
      if (body.readableBytes() > 2
          && !ByteBufUtil.isText(body, body.readerIndex() + 2, body.readableBytes() - 2, StandardCharsets.UTF_8)) {
        // §5.5.1: the reason is UTF-8; §8.1: invalid UTF-8 fails the connection (1007), as in a text message
        closeAfter(WireFrame.close(CLOSE_NOT_UTF8, "close reason must be UTF-8"));
        return;
      }
      int code = close.statusCode();
      if (code > 4999) {
        // §7.4.2 defines no code above 4999 (Netty's decoder lets them through): a protocol error
        closeAfter(WireFrame.close(1002, "invalid close code"));
        return;
      }
      // RFC 6455 §5.5.1: answer with a close frame carrying the status code it received
      closeAfter(code < 0 ? WireFrame.closeWithoutCode() : WireFrame.close(code, null));
    }
  }

  /** Sends {@code closeFrame} and ends the connection once it is written: nothing is left to wait for. */
  private void closeAfter(byte[] closeFrame) {
    closing = true;
    dropFragments();
    ctx.writeAndFlush(Unpooled.wrappedBuffer(closeFrame)).addListener(ChannelFutureListener.CLOSE);
    notifyClosed();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    if (closingTimer != null) {
      closingTimer.cancel(false);
    }
    dropFragments();
    releaseHeld();
    runOnWritable();
    notifyClosed();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    dropFragments();
    releaseHeld();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("WebSocket {}: {}", ctx.channel().remoteAddress(), cause.toString());
    if (cause instanceof CorruptedWebSocketFrameException e && !closing && ctx.channel().isActive()) {
      // a protocol error (1002) or a frame over the decoder's limit (1009); the decoder now
      // discards whatever else the client sends
      closeAfter(WireFrame.close(e.closeStatus().code(), e.closeStatus().reasonText()));
      return;
    }
    ctx.close();
  }

  private void notifyClosed() {
    if (!closedNotified) {
      closedNotified = true;
      listener.onClosed();
    }
  }

  private void runOnWritable() {
    Runnable action = onWritable;
    onWritable = null;
    if (action != null) {
      action.run();
    }
  }

  private void dropFragments() {
    if (fragments != null) {
      fragments.release();
      fragments = null;
    }
  }

  private void releaseHeld() {
    if (heldWhilePaused != null) {
      heldWhilePaused.forEach(WebSocketFrame::release);
      heldWhilePaused = null;
    }
  }
}
