package io.parley.protocol;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Deliveries} by reference within a node and in a compact binary form between nodes: a
 * version byte ({@value #VERSION}), their count, then per delivery conv, server id, the id of the
 * conversation's previous message (0: not known), the skipped
 * connection, the frame and the users — the frame text is copied once, never re-encoded as JSON
 * inside JSON.
 *
 * <p>The version byte makes a cluster of mixed versions fail loudly rather than misread: a node
 * that receives another layout throws a {@link WireFormatException} naming both versions, and so
 * does a truncated or inconsistent buffer. Vert.x 5 decodes a clustered message's body lazily, when
 * the consumer first calls {@code body()}, so the exception is thrown inside that consumer's
 * handler: Vert.x reports it to the context ("Unhandled exception", at ERROR), the message is
 * dropped on that node, and a request for it is never answered (its sender times out). This codec
 * also logs each rejection at ERROR itself (the first, then every power of two, with the count)
 * and counts them ({@link #rejected()}). Change the layout only together with {@link #VERSION}.
 */
public final class DeliveryCodec implements MessageCodec<Deliveries, Deliveries> {
  private static final Logger LOG = LoggerFactory.getLogger(DeliveryCodec.class);
  /**
   * The layout this node writes and reads. (The first release wrote none: it began with the count;
   * version 1 had no previous message id.)
   */
  public static final byte VERSION = 2;

  private final AtomicLong rejected = new AtomicLong();

  /** A buffer this node cannot read: another version's layout, or a truncated or corrupt one. */
  private static final String WIRE_NAME = "parley.deliveries";

  public static final class WireFormatException extends IllegalStateException {
    WireFormatException(String message) {
      super(message);
    }
  }

  @Override
  public void encodeToWire(Buffer buffer, Deliveries all) {
    buffer.appendByte(VERSION);
    buffer.appendInt(all.deliveries().size());
    for (Delivery d : all.deliveries()) {
      encode(buffer, d);
    }
  }

  @Override
  public Deliveries decodeFromWire(int pos, Buffer buffer) {
    try {
      return decodeAll(pos, buffer);
    } catch (WireFormatException e) {
      throw rejected(e);
    } catch (IndexOutOfBoundsException e) {
      throw rejected(new WireFormatException(name() + ": truncated buffer (" + (buffer.length() - pos)
          + " bytes from position " + pos + "): " + e.getMessage()));
    }
  }

  /** Buffers this codec could not read so far. */
  public long rejected() {
    return rejected.get();
  }

  private WireFormatException rejected(WireFormatException e) {
    long n = rejected.incrementAndGet();
    if (Long.bitCount(n) == 1) {
      LOG.error("{} (rejected {} so far; the message is dropped on this node)", e.getMessage(), n);
    }
    return e;
  }

  private Deliveries decodeAll(int pos, Buffer buffer) {
    if (pos >= buffer.length()) {
      throw new WireFormatException(name() + ": empty buffer, no version byte");
    }
    byte version = buffer.getByte(pos);
    if (version != VERSION) {
      throw new WireFormatException(name() + ": wire version " + version + " received, this node reads version "
          + VERSION + " only: every node of a cluster must run the same Parley version");
    }
    int[] at = {pos + 5};
    int n = WireStrings.count(buffer.getInt(pos + 1), buffer, at[0], 8 + 8 + 8 + 4 + 4 + 4, "deliveries", WIRE_NAME);
    List<Delivery> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(decode(buffer, at));
    }
    return new Deliveries(out);
  }

  /**
   * A count read from the wire, checked against what is left of the buffer (each item takes at
   * least {@code minBytes}), so a corrupt count fails here instead of allocating for it.
   */
  private static void encode(Buffer buffer, Delivery d) {
    Outbound o = d.outbound();
    buffer.appendLong(o.conv()).appendLong(o.serverId()).appendLong(o.prev());
    WireStrings.put(buffer, o.skipConnection());
    WireStrings.put(buffer, o.frame());
    buffer.appendInt(d.users().size());
    for (String u : d.users()) {
      WireStrings.put(buffer, u);
    }
  }

  private static Delivery decode(Buffer buffer, int[] at) {
    long conv = buffer.getLong(at[0]);
    long serverId = buffer.getLong(at[0] + 8);
    long prev = buffer.getLong(at[0] + 16);
    at[0] += 24;
    String skip = WireStrings.get(buffer, at, WIRE_NAME);
    String frame = WireStrings.get(buffer, at, WIRE_NAME);
    int n = WireStrings.count(buffer.getInt(at[0]), buffer, at[0] + 4, 4, "users", WIRE_NAME);
    at[0] += 4;
    List<String> users = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      users.add(WireStrings.get(buffer, at, WIRE_NAME));
    }
    return new Delivery(users, new Outbound(conv, serverId, frame, skip, prev));
  }

  @Override
  public Deliveries transform(Deliveries d) {
    return d;
  }

  @Override
  public String name() {
    return WIRE_NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
