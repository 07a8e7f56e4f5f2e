package io.parley.protocol;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link Deliveries} by reference within a node and in a compact binary form between nodes: their
 * count, then per delivery conv, server id, the skipped connection, the frame and the users — the
 * frame text is copied once, never re-encoded as JSON inside JSON.
 */
public final class DeliveryCodec implements MessageCodec<Deliveries, Deliveries> {

  @Override
  public void encodeToWire(Buffer buffer, Deliveries all) {
    buffer.appendInt(all.deliveries().size());
    for (Delivery d : all.deliveries()) {
      encode(buffer, d);
    }
  }

  @Override
  public Deliveries decodeFromWire(int pos, Buffer buffer) {
    int[] at = {pos + 4};
    int n = buffer.getInt(pos);
    List<Delivery> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(decode(buffer, at));
    }
    return new Deliveries(out);
  }

  private static void encode(Buffer buffer, Delivery d) {
    Outbound o = d.outbound();
    buffer.appendLong(o.conv()).appendLong(o.serverId());
    putString(buffer, o.skipConnection());
    putString(buffer, o.frame());
    buffer.appendInt(d.users().size());
    for (String u : d.users()) {
      putString(buffer, u);
    }
  }

  private static Delivery decode(Buffer buffer, int[] at) {
    long conv = buffer.getLong(at[0]);
    long serverId = buffer.getLong(at[0] + 8);
    at[0] += 16;
    String skip = getString(buffer, at);
    String frame = getString(buffer, at);
    int n = buffer.getInt(at[0]);
    at[0] += 4;
    List<String> users = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      users.add(getString(buffer, at));
    }
    return new Delivery(users, new Outbound(conv, serverId, frame, skip));
  }

  private static void putString(Buffer b, String s) {
    if (s == null) {
      b.appendInt(-1);
      return;
    }
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    b.appendInt(bytes.length).appendBytes(bytes);
  }

  private static String getString(Buffer b, int[] at) {
    int len = b.getInt(at[0]);
    at[0] += 4;
    if (len < 0) {
      return null;
    }
    String s = b.getString(at[0], at[0] + len, "UTF-8");
    at[0] += len;
    return s;
  }

  @Override
  public Deliveries transform(Deliveries d) {
    return d;
  }

  @Override
  public String name() {
    return "parley.deliveries";
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
