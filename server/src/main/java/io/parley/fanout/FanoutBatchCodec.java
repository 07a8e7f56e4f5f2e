package io.parley.fanout;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import java.nio.charset.StandardCharsets;
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
      putString(buffer, f.from());
      putString(buffer, f.frame());
      putString(buffer, f.skipConnection());
      putString(buffer, f.preview());
      buffer.appendInt(f.recipients().size());
      for (String user : f.recipients()) {
        putString(buffer, user);
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
      int n = count(buffer.getInt(pos + 1), buffer, at[0], 8 + 8 + 8 + 4 * 5, "fan-outs");
      List<Fanout> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        long conv = buffer.getLong(at[0]);
        long serverId = buffer.getLong(at[0] + 8);
        long prev = buffer.getLong(at[0] + 16);
        at[0] += 24;
        String from = getString(buffer, at);
        String frame = getString(buffer, at);
        String skip = getString(buffer, at);
        String preview = getString(buffer, at);
        int users = count(buffer.getInt(at[0]), buffer, at[0] + 4, 4, "recipients");
        at[0] += 4;
        List<String> recipients = new ArrayList<>(users);
        for (int u = 0; u < users; u++) {
          recipients.add(getString(buffer, at));
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
  private static int count(int n, Buffer buffer, int at, int minBytes, String what) {
    if (n < 0 || (long) n * minBytes > buffer.length() - at) {
      throw new IllegalStateException(NAME + ": " + n + " " + what + " cannot fit in the " + (buffer.length() - at)
          + " bytes left");
    }
    return n;
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
    if (len == -1) {
      return null;
    }
    count(len, b, at[0], 1, "string bytes");
    String s = b.getString(at[0], at[0] + len, "UTF-8");
    at[0] += len;
    return s;
  }

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
