package io.parley.fanout;

import io.parley.protocol.WireStrings;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link FanoutBatch}es by reference within a node, and in a compact binary form to another node's
 * fan-out (the part of a hot conversation's batch that node fans out, see {@code
 * routing.HotFanout}): a version byte ({@value #VERSION}), the count, then per fan-out conv, server
 * id, previous id, sender, frame, skipped connection, preview and recipients. A buffer of another
 * version, or a truncated or inconsistent one, fails loudly with an {@link IllegalStateException}
 * naming the problem (the request is then not answered, and routing logs it as unconfirmed). Change
 * the layout only together with {@link #VERSION}.
 */
public final class FanoutBatchCodec implements MessageCodec<FanoutBatch, FanoutBatch> {
  public static final byte VERSION = 1;
  private static final String NAME = "parley.fanouts";

  @Override
  public void encodeToWire(Buffer buffer, FanoutBatch batch) {
    buffer.appendByte(VERSION).appendInt(batch.fanouts().size());
    for (Fanout f : batch.fanouts()) {
      buffer.appendLong(f.conv()).appendLong(f.serverId()).appendLong(f.prev());
      WireStrings.put(buffer, f.from());
      WireStrings.put(buffer, f.frame());
      WireStrings.put(buffer, f.skipConnection());
      WireStrings.put(buffer, f.preview());
      buffer.appendInt(f.recipients().size());
      for (String user : f.recipients()) {
        WireStrings.put(buffer, user);
      }
    }
  }

  @Override
  public FanoutBatch decodeFromWire(int pos, Buffer buffer) {
    try {
      if (pos >= buffer.length()) {
        throw new IllegalStateException(NAME + ": empty buffer, no version byte");
      }
      byte version = buffer.getByte(pos);
      if (version != VERSION) {
        throw new IllegalStateException(NAME + ": wire version " + version + " received, this node reads version "
            + VERSION + " only: every node of a cluster must run the same Parley version");
      }
      int[] at = {pos + 5};
      int n = WireStrings.count(buffer.getInt(pos + 1), buffer, at[0], 8 + 8 + 8 + 4 * 5, "fan-outs", NAME);
      List<Fanout> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        long conv = buffer.getLong(at[0]);
        long serverId = buffer.getLong(at[0] + 8);
        long prev = buffer.getLong(at[0] + 16);
        at[0] += 24;
        String from = WireStrings.get(buffer, at, NAME);
        String frame = WireStrings.get(buffer, at, NAME);
        String skip = WireStrings.get(buffer, at, NAME);
        String preview = WireStrings.get(buffer, at, NAME);
        int users = WireStrings.count(buffer.getInt(at[0]), buffer, at[0] + 4, 4, "recipients", NAME);
        at[0] += 4;
        List<String> recipients = new ArrayList<>(users);
        for (int u = 0; u < users; u++) {
          recipients.add(WireStrings.get(buffer, at, NAME));
        }
        out.add(new Fanout(conv, serverId, from, frame, recipients, skip, preview, prev));
      }
      return new FanoutBatch(out);
    } catch (IndexOutOfBoundsException e) {
      throw new IllegalStateException(NAME + ": truncated buffer (" + (buffer.length() - pos) + " bytes from position "
          + pos + "): " + e.getMessage(), e);
    }
  }

  /** A count read from the wire, checked against what is left of the buffer (each item takes at least {@code minBytes}). */
  @Override
  public FanoutBatch transform(FanoutBatch batch) {
    return batch;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
