package io.parley.gateway;

import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.net.NetSocketInternal;

/**
 * Takes a connection's Netty channel over from Vert.x once the WebSocket handshake is answered:
 * Vert.x's HTTP handlers leave the channel ({@link HttpServerRequest#toNetSocket()}) and the plain
 * socket handler Vert.x puts in their place is the one the gateway replaces with its
 * {@link WsChannel}. The only use of Vert.x's internal API ({@code io.vertx.core.internal}) in
 * Parley; {@code ChannelTakeoverTest} checks what it relies on (the internal type and method, and a
 * real upgraded connection that speaks WebSocket once taken over).
 */
final class ChannelTakeover {
  private ChannelTakeover() {}

  /**
   * Ends Vert.x's HTTP handling of {@code req}'s connection (writing the response headers set on
   * it) and gives the place of the socket handler Vert.x leaves in the pipeline.
   */
  static Future<ChannelHandlerContext> take(HttpServerRequest req) {
    return req.toNetSocket().map(socket -> ((NetSocketInternal) socket).channelHandlerContext());
  }
}
