package io.parley.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fuzzer's generator: from one {@link Random} (so a seed gives the same cases again), valid
 * client frames of every op, mutated (a field deleted, a wrong type, huge or negative numbers and
 * ids, very long strings, odd Unicode, thousands of levels of nesting, duplicate keys, trailing
 * garbage, truncation), and framing cases (fragments with control frames between them, pings, pongs
 * and closes with odd payloads, binary frames, bad UTF-8, reserved bits and opcodes, unmasked
 * frames, lying lengths, oversized messages). Each case says what the server must do with it, as
 * far as the protocol fixes that: close with a given code, answer an error before the next reply,
 * answer each send's {@code msg_id} once, echo each ping.
 */
final class FuzzCases {
  /** Ops a client may send (docs/protocol.md); anything else is {@code unknown_op}. */
  static final Set<String> CLIENT_OPS = Set.of("send", "delivered", "read", "typing", "sync", "presence_sub", "ping");
  /** Invalid byte sequences (RFC 3629): overlong, lone continuation, surrogate, above U+10FFFF, never-used bytes, cut short. */
  private static final byte[][] BAD_UTF8 = {{(byte) 0xC0, (byte) 0x80}, {(byte) 0xC1, (byte) 0xBF}, {(byte) 0x80},
      {(byte) 0xBF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
      {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0xFE}, {(byte) 0xFF}, {(byte) 0xE2, (byte) 0x82},
      {(byte) 0xF0, (byte) 0x9F, (byte) 0x98}, {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}};
  private static final String[] UNICODE = {"é", "日本語", "😀", "👩‍👩‍👧‍👦", "\u0000", "\u202E", "\uFEFF", "\u200B", "e\u0301",
      "\u0007", "\u2028", "\uFFFF", "𝔘𝔫𝔦", "ﷺ", "\r\n", "\"", "\\", "</script>", "%00", "\t"};
  /** Raw JSON put where a marker string was: what the encoder itself would never write. */
  private static final String[] RAW_VALUES = {"1e400", "-1e400", "123456789012345678901234567890123456789", "-0",
      "0.0000000000000000000001", "1E+2147483648", "\"\\ud800\"", "\"\\udfff\\ud800x\"", "\"a\\u0000b\"", "9223372036854775808",
      "-9223372036854775809", "18446744073709551616", "1.7976931348623157e309", "4.9e-325"};
  private static final Pattern MARKER = Pattern.compile("\"\\\\u0001R(\\d+)\\\\u0001\"");
  private static final int[] RESERVED_OPCODES = {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF};
  private static final int[] INVALID_CLOSE_CODES = {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535};

  /** The user a worker connects as, the users it knows, and the conversations it belongs to. */
  record Target(String user, String partner, String dm, String group, String token) {}

  /**
   * One case: the bytes to write, how many generated frames they are, and what the server must do.
   *
   * @param close close codes allowed when the case must end the connection (-1: a close frame without a
   *     code), or null when the connection must stay open
   * @param syncError the error code the server must answer before the fuzzer's next {@code ping}, or null
   * @param msgIds the {@code msg_id}s of sends that must get exactly one {@code ack} or {@code error}
   * @param pings payloads of WebSocket pings, each to come back in a pong, in order
   */
  record Case(String kind, List<byte[]> frames, int fuzzFrames, Set<Integer> close, String syncError, List<String> msgIds,
      List<byte[]> pings, String sample) {}

  private final Random rnd;
  private final Target target;
  private final int frameMaxBytes;
  private long seq;
  private final List<String> raws = new ArrayList<>();

  FuzzCases(Random rnd, Target target, int frameMaxBytes) {
    this.rnd = rnd;
    this.target = target;
    this.frameMaxBytes = frameMaxBytes;
  }

  Case next() {
    int k = rnd.nextInt(1000);
    if (k < 680) {
      return json();
    } else if (k < 770) {
      return fragmented();
    } else if (k < 840) {
      return control();
    } else if (k < 870) {
      return binary();
    } else if (k < 900) {
      return badUtf8();
    } else if (k < 950) {
      return framing();
    } else if (k < 990) {
      return closeFrame();
    }
    return oversized();
  }

  // ---- JSON texts -----------------------------------------------------------------------------

  /** A client frame of a random op, mutated or not: the text of one message. */
  String jsonText() {
    return mutatedText(baseFrame());
  }

  /** {@code f} (which it changes), mutated 0–3 times and encoded, then maybe mutated as text. */
  String mutatedText(JsonObject f) {
    raws.clear();
    int mutations = rnd.nextInt(4) == 0 ? 0 : 1 + rnd.nextInt(3);
    for (int i = 0; i < mutations; i++) {
      mutate(f);
    }
    String text = withRaws(f.encode());
    return rnd.nextInt(4) == 0 ? mutateText(text) : text;
  }

  private JsonObject baseFrame() {
    switch (rnd.nextInt(9)) {
      case 0:
      case 1:
      case 2: {
        JsonObject s = new JsonObject().put("op", "send").put("msg_id", target.user() + "-" + (seq++)).put("conv", conv())
            .put("body", string(rnd.nextInt(40)));
        if (rnd.nextInt(4) == 0) {
          JsonArray media = new JsonArray();
          for (int i = rnd.nextInt(4); i > 0; i--) {
            media.add(new JsonObject().put("type", "image").put("url", "https://127.0.0.1/m/" + rnd.nextInt(1000)));
          }
          s.put("media", media);
        }
        return s;
      }
      case 3:
        return new JsonObject().put("op", rnd.nextBoolean() ? "delivered" : "read").put("conv", conv()).put("server_id", id());
      case 4:
        return new JsonObject().put("op", "typing").put("conv", conv());
      case 5: {
        // usually "seen everything" (cheap); "0" asks for a backfill of up to 200 messages
        JsonObject convs = new JsonObject().put(conv(), rnd.nextInt(8) == 0 ? "0" : "9223372036854775807");
        return new JsonObject().put("op", "sync").put("convs", convs);
      }
      case 6:
        return new JsonObject().put("op", "presence_sub")
            .put("users", new JsonArray().add(target.partner()).add("fz-other-" + rnd.nextInt(50)));
      case 7:
        return new JsonObject().put("op", "ping");
      default:
        return new JsonObject().put("op", rnd.nextBoolean() ? "pong" : string(1 + rnd.nextInt(12)));
    }
  }

  private String conv() {
    switch (rnd.nextInt(5)) {
      case 0:
      case 1:
        return target.dm();
      case 2:
        return target.group();
      case 3:
        return Long.toString(1 + (rnd.nextLong() >>> 1));
      default:
        return id();
    }
  }

  private String id() {
    String[] odd = {"0", "-1", "1", "9223372036854775807", "9223372036854775808", "18446744073709551616", "00012", "+5",
        " 7", "0x10", "1e3", "", "abc", "-9223372036854775808", "99999999999999999999999999999"};
    return rnd.nextBoolean() ? Long.toString(1 + rnd.nextInt(1_000_000)) : odd[rnd.nextInt(odd.length)];
  }

  private void mutate(JsonObject f) {
    List<String> keys = new ArrayList<>(f.fieldNames());
    String key = keys.isEmpty() ? "op" : keys.get(rnd.nextInt(keys.size()));
    switch (rnd.nextInt(7)) {
      case 0:
        f.remove(key);
        break;
      case 1:
        f.put(key, wrongType());
        break;
      case 2:
        f.put(key, rnd.nextBoolean() ? raw(RAW_VALUES[rnd.nextInt(RAW_VALUES.length)]) : bigNumber());
        break;
      case 3:
        f.put(key, longString());
        break;
      case 4:
        f.put(key, unicode(1 + rnd.nextInt(30)));
        break;
      case 5:
        f.put(rnd.nextBoolean() ? key : string(1 + rnd.nextInt(10)), raw(deep()));
        break;
      default:
        f.put(string(1 + rnd.nextInt(10)), wrongType());
    }
  }

  private Object wrongType() {
    switch (rnd.nextInt(11)) {
      case 0:
        return rnd.nextInt();
      case 1:
        return -1;
      case 2:
        return rnd.nextDouble() * 1e6;
      case 3:
        return rnd.nextBoolean();
      case 4:
        return null;
      case 5:
        return new JsonArray().add(1).add("x");
      case 6:
        return new JsonObject().put("a", 1);
      case 7:
        return "";
      case 8:
        return new JsonArray();
      case 9:
        return new JsonObject();
      default:
        return string(rnd.nextInt(20));
    }
  }

  private Object bigNumber() {
    switch (rnd.nextInt(5)) {
      case 0:
        return Long.MAX_VALUE;
      case 1:
        return Long.MIN_VALUE;
      case 2:
        return new BigInteger(200, rnd);
      case 3:
        return Double.MAX_VALUE;
      default:
        return -rnd.nextLong();
    }
  }

  /** Lengths around the body limit (64 KiB) and up to the frame limit; long ones are rare (they cost). */
  private String longString() {
    int[] lengths = {256, 1024, 4096, 65535, 65536, 65537, 100_000, 200_000, frameMaxBytes - 200};
    int n = lengths[rnd.nextInt(100) < 95 ? rnd.nextInt(3) : 3 + rnd.nextInt(lengths.length - 3)];
    char c = (char) ('a' + rnd.nextInt(26));
    return rnd.nextBoolean() ? String.valueOf(c).repeat(n) : "é".repeat(n / 2);
  }

  /** Nesting thousands of levels deep: arrays, objects or both. */
  private String deep() {
    int[] depths = {10, 500, 999, 1000, 1001, 2000, 5000, 20_000};
    int d = depths[rnd.nextInt(depths.length)];
    StringBuilder b = new StringBuilder(d * 6);
    int kind = rnd.nextInt(3);
    for (int i = 0; i < d; i++) {
      b.append(kind == 0 || (kind == 2 && i % 2 == 0) ? "[" : "{\"a\":");
    }
    b.append("1");
    for (int i = d - 1; i >= 0; i--) {
      b.append(kind == 0 || (kind == 2 && i % 2 == 0) ? "]" : "}");
    }
    return b.toString();
  }

  private String string(int n) {
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append((char) ('a' + rnd.nextInt(26)));
    }
    return b.toString();
  }

  private String unicode(int pieces) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < pieces; i++) {
      b.append(UNICODE[rnd.nextInt(UNICODE.length)]);
    }
    return b.toString();
  }

  /** A marker string that {@link #withRaws} replaces by {@code json} verbatim. */
  private String raw(String json) {
    raws.add(json);
    return "\u0001R" + (raws.size() - 1) + "\u0001";
  }

  private String withRaws(String encoded) {
    if (raws.isEmpty()) {
      return encoded;
    }
    Matcher m = MARKER.matcher(encoded);
    StringBuilder out = new StringBuilder(encoded.length());
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(raws.get(Integer.parseInt(m.group(1)))));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** Text-level mutations: duplicate keys, trailing garbage, truncation, not an object at all, padding. */
  private String mutateText(String text) {
    switch (rnd.nextInt(6)) {
      case 0: {
        String[] dup = {"\"op\":\"ping\",", "\"op\":\"send\",", "\"op\":1,", "\"msg_id\":\"dup\",", "\"conv\":\"1\",", "\"op\":null,"};
        String d = dup[rnd.nextInt(dup.length)];
        return text.startsWith("{") ? (rnd.nextBoolean() ? "{" + d + text.substring(1)
            : text.substring(0, text.length() - 1) + "," + d.substring(0, d.length() - 1) + "}") : text;
      }
      case 1: {
        String[] garbage = {"x", "}", "]", ",", " {}", "{\"op\":\"ping\"}", "\u0000", "//c", "/*", " \n\t", "null", "\"", "😀"};
        return text + garbage[rnd.nextInt(garbage.length)];
      }
      case 2:
        return text.substring(0, rnd.nextInt(Math.max(1, text.length())));
      case 3: {
        String[] notObjects = {"[]", "[{\"op\":\"ping\"}]", "\"ping\"", "42", "null", "true", "", " ", "{", "}", "[", "{}",
            "{\"op\":\"ping\"", "{'op':'ping'}", "{op:ping}", "NaN", "-", "1e999999"};
        return notObjects[rnd.nextInt(notObjects.length)];
      }
      case 4:
        return " \t\r\n" + text + "\n ";
      default:
        return rnd.nextBoolean() ? deep() : "{\"op\":\"send\",\"media\":" + deep() + "}";
    }
  }

  // ---- cases ----------------------------------------------------------------------------------

  private Case json() {
    String text = jsonText();
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    return expecting("json", List.of(masked(true, FuzzClient.OP_TEXT, bytes)), 1, text, bytes.length, List.of());
  }

  /** A message in 2–8 fragments split at any byte (also inside a UTF-8 sequence), pings and pongs between them. */
  private Case fragmented() {
    String text = jsonText();
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    int broken = rnd.nextInt(6); // 0: continuation first, 1: a new text frame inside, 2: a fragmented ping inside
    List<byte[]> frames = new ArrayList<>();
    List<byte[]> pings = new ArrayList<>();
    int pieces = 2 + rnd.nextInt(7);
    int[] cuts = cuts(bytes.length, pieces);
    for (int i = 0; i < pieces; i++) {
      byte[] part = java.util.Arrays.copyOfRange(bytes, cuts[i], cuts[i + 1]);
      boolean last = i == pieces - 1;
      int opcode = i == 0 && broken != 0 ? FuzzClient.OP_TEXT : FuzzClient.OP_CONT;
      frames.add(masked(last, opcode, part));
      if (!last && rnd.nextInt(3) == 0) {
        byte[] p = randomBytes(rnd.nextInt(126));
        if (rnd.nextBoolean()) {
          frames.add(masked(true, FuzzClient.OP_PING, p));
          pings.add(p);
        } else {
          frames.add(masked(true, FuzzClient.OP_PONG, p));
        }
      }
      if (!last && i == 0 && broken == 1) {
        frames.add(masked(true, FuzzClient.OP_TEXT, "{\"op\":\"ping\"}".getBytes(StandardCharsets.UTF_8)));
      }
      if (!last && i == 0 && broken == 2) {
        frames.add(masked(false, FuzzClient.OP_PING, randomBytes(rnd.nextInt(20))));
      }
    }
    if (broken <= 2) {
      return new Case("fragments.broken", frames, frames.size(), Set.of(1002), null, List.of(), List.of(), text);
    }
    return expecting("fragments", frames, frames.size(), text, bytes.length, pings);
  }

  private int[] cuts(int length, int pieces) {
    int[] c = new int[pieces + 1];
    for (int i = 1; i < pieces; i++) {
      c[i] = length == 0 ? 0 : rnd.nextInt(length + 1);
    }
    c[pieces] = length;
    java.util.Arrays.sort(c, 1, pieces);
    return c;
  }

  /** Pings (any payload up to 125 bytes) and unsolicited pongs; sometimes a ping too long or with reserved bits. */
  private Case control() {
    List<byte[]> frames = new ArrayList<>();
    List<byte[]> pings = new ArrayList<>();
    int n = 1 + rnd.nextInt(5);
    for (int i = 0; i < n; i++) {
      byte[] p = randomBytes(rnd.nextInt(10) == 0 ? 125 : rnd.nextInt(126));
      if (rnd.nextBoolean()) {
        frames.add(masked(true, FuzzClient.OP_PING, p));
        pings.add(p);
      } else {
        frames.add(masked(true, FuzzClient.OP_PONG, p));
      }
    }
    switch (rnd.nextInt(8)) {
      case 0:
        frames.add(masked(true, rnd.nextBoolean() ? FuzzClient.OP_PING : FuzzClient.OP_PONG, randomBytes(126 + rnd.nextInt(900))));
        return new Case("control.too_long", frames, frames.size(), Set.of(1002), null, List.of(), List.of(), "control > 125 bytes");
      case 1:
        frames.add(FuzzClient.frame(true, 1 + rnd.nextInt(7), FuzzClient.OP_PING, true, randomBytes(4), 0, rnd));
        return new Case("control.rsv", frames, frames.size(), Set.of(1002), null, List.of(), List.of(), "ping with RSV bits");
      default:
        return new Case("control", frames, frames.size(), null, null, List.of(), pings, "pings/pongs");
    }
  }

  /** Binary messages (whole or fragmented): {@code bad_request}. */
  private Case binary() {
    byte[] data = rnd.nextBoolean() ? randomBytes(rnd.nextInt(2000)) : jsonText().getBytes(StandardCharsets.UTF_8);
    if (data.length > frameMaxBytes) {
      data = java.util.Arrays.copyOf(data, 100);
    }
    List<byte[]> frames = new ArrayList<>();
    if (rnd.nextBoolean()) {
      frames.add(masked(true, FuzzClient.OP_BINARY, data));
    } else {
      int[] cuts = cuts(data.length, 3);
      frames.add(masked(false, FuzzClient.OP_BINARY, java.util.Arrays.copyOfRange(data, cuts[0], cuts[1])));
      frames.add(masked(false, FuzzClient.OP_CONT, java.util.Arrays.copyOfRange(data, cuts[1], cuts[2])));
      frames.add(masked(true, FuzzClient.OP_CONT, java.util.Arrays.copyOfRange(data, cuts[2], cuts[3])));
    }
    return new Case("binary", frames, frames.size(), null, "bad_request", List.of(), List.of(), data.length + " binary bytes");
  }

  /** A text message with an invalid UTF-8 sequence (whole or fragmented): close 1007. */
  private Case badUtf8() {
    byte[] text = jsonText().getBytes(StandardCharsets.UTF_8);
    if (text.length > frameMaxBytes - 10) {
      text = "{\"op\":\"ping\"}".getBytes(StandardCharsets.UTF_8);
    }
    byte[] bad = BAD_UTF8[rnd.nextInt(BAD_UTF8.length)];
    // insert it before an ASCII byte (or at the end), so it cannot complete a sequence of the text
    int at = text.length;
    for (int tries = 0; tries < 8; tries++) {
      int i = rnd.nextInt(text.length + 1);
      if (i == text.length || (text[i] & 0x80) == 0) {
        at = i;
        break;
      }
    }
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(text, 0, at);
    b.write(bad, 0, bad.length);
    b.write(text, at, text.length - at);
    byte[] all = b.toByteArray();
    List<byte[]> frames = new ArrayList<>();
    if (rnd.nextBoolean()) {
      frames.add(masked(true, FuzzClient.OP_TEXT, all));
    } else {
      int[] cuts = cuts(all.length, 2);
      frames.add(masked(false, FuzzClient.OP_TEXT, java.util.Arrays.copyOfRange(all, cuts[0], cuts[1])));
      frames.add(masked(true, FuzzClient.OP_CONT, java.util.Arrays.copyOfRange(all, cuts[1], cuts[2])));
    }
    return new Case("bad_utf8", frames, frames.size(), Set.of(1007), null, List.of(), List.of(), "bad UTF-8 " + hex(bad));
  }

  /** Frames RFC 6455 forbids: each a protocol error (1002), or a length over the limit (1009). */
  private Case framing() {
    byte[] ping = "{\"op\":\"ping\"}".getBytes(StandardCharsets.UTF_8);
    switch (rnd.nextInt(7)) {
      case 0:
        return one("framing.rsv", FuzzClient.frame(true, 1 + rnd.nextInt(7), FuzzClient.OP_TEXT, true, ping, 0, rnd), 1002);
      case 1: {
        int op = RESERVED_OPCODES[rnd.nextInt(RESERVED_OPCODES.length)];
        return one("framing.opcode_" + op, FuzzClient.frame(true, 0, op, true, ping, 0, rnd), 1002);
      }
      case 2:
        return one("framing.unmasked", FuzzClient.frame(true, 0, FuzzClient.OP_TEXT, false, ping, 0, rnd), 1002);
      case 3:
        return one("framing.continuation_first", FuzzClient.frame(true, 0, FuzzClient.OP_CONT, true, ping, 0, rnd), 1002);
      case 4:
        // a length of 2^63 and more reads as negative
        return one("framing.negative_length", FuzzClient.lyingHeader(FuzzClient.OP_TEXT, Long.MIN_VALUE + rnd.nextInt(1000)), 1002);
      case 5:
        return one("framing.huge_length", FuzzClient.lyingHeader(rnd.nextBoolean() ? FuzzClient.OP_TEXT : FuzzClient.OP_BINARY,
            frameMaxBytes + 1L + (rnd.nextLong() >>> 2)), 1009);
      default:
        // the 16- or 64-bit length field for a payload the 7-bit one holds: §5.2 says the minimal form MUST be used
        return one("framing.long_length_form", FuzzClient.frame(true, 0, FuzzClient.OP_TEXT, true, ping, rnd.nextBoolean() ? 16 : 64,
            rnd), 1002);
    }
  }

  /** Close frames: empty, one byte, valid and invalid codes, bad UTF-8 reasons, over 125 bytes. */
  private Case closeFrame() {
    switch (rnd.nextInt(6)) {
      case 0:
        return one("close.empty", masked(true, FuzzClient.OP_CLOSE, new byte[0]), -1);
      case 1:
        return one("close.one_byte", masked(true, FuzzClient.OP_CLOSE, new byte[] {3}), 1002);
      case 2: {
        int[] valid = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000 + rnd.nextInt(2000)};
        int code = valid[rnd.nextInt(valid.length)];
        // whole characters only, within a control frame's 123 bytes of reason
        String reason = "";
        for (String more = unicode(1); reason.length() < 8 && (reason + more).getBytes(StandardCharsets.UTF_8).length <= 40;
            more = unicode(1)) {
          reason += more;
        }
        return one("close.valid", masked(true, FuzzClient.OP_CLOSE, closePayload(code, reason.getBytes(StandardCharsets.UTF_8))), code);
      }
      case 3: {
        int code = INVALID_CLOSE_CODES[rnd.nextInt(INVALID_CLOSE_CODES.length)];
        return one("close.invalid_code", masked(true, FuzzClient.OP_CLOSE, closePayload(code, new byte[0])), 1002);
      }
      case 4:
        return one("close.bad_utf8_reason", masked(true, FuzzClient.OP_CLOSE,
            closePayload(1000, BAD_UTF8[rnd.nextInt(BAD_UTF8.length)])), 1007);
      default:
        return one("close.too_long", masked(true, FuzzClient.OP_CLOSE, closePayload(1000, randomAscii(124 + rnd.nextInt(200)))), 1002);
    }
  }

  /** A message over the frame limit, in one frame or in fragments: close 1009. */
  private Case oversized() {
    int n = frameMaxBytes + 1 + rnd.nextInt(50_000);
    byte[] body = ("{\"op\":\"send\",\"msg_id\":\"big\",\"conv\":\"1\",\"body\":\"" + "x".repeat(n) + "\"}").getBytes(StandardCharsets.UTF_8);
    int op = rnd.nextInt(4) == 0 ? FuzzClient.OP_BINARY : FuzzClient.OP_TEXT;
    if (rnd.nextBoolean()) {
      return one("oversized.frame", masked(true, op, body), 1009);
    }
    int[] cuts = cuts(body.length, 4);
    List<byte[]> frames = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      frames.add(masked(i == 3, i == 0 ? op : FuzzClient.OP_CONT, java.util.Arrays.copyOfRange(body, cuts[i], cuts[i + 1])));
    }
    return new Case("oversized.fragments", frames, frames.size(), Set.of(1009), null, List.of(), List.of(), n + " bytes in 4 fragments");
  }

  // ---- helpers --------------------------------------------------------------------------------

  /** What a whole text message requires: 1009 when over the limit, else what decoding and the op say. */
  private Case expecting(String kind, List<byte[]> frames, int fuzzFrames, String text, int bytes, List<byte[]> pings) {
    if (bytes > frameMaxBytes) {
      return new Case(kind + ".oversized", frames, fuzzFrames, Set.of(1009), null, List.of(), List.of(), text);
    }
    JsonObject json;
    try {
      json = new JsonObject(text);
    } catch (RuntimeException e) {
      return new Case(kind + ".not_an_object", frames, fuzzFrames, null, "bad_request", List.of(), pings, text);
    }
    Object op = json.getValue("op");
    if (!(op instanceof String o)) {
      return new Case(kind + ".no_op", frames, fuzzFrames, null, "bad_request", List.of(), pings, text);
    }
    if (!CLIENT_OPS.contains(o)) {
      return new Case(kind + ".unknown_op", frames, fuzzFrames, null, "unknown_op", List.of(), pings, text);
    }
    Object msgId = json.getValue("msg_id");
    if (o.equals("send") && msgId instanceof String s && !s.isEmpty() && s.length() <= 64) {
      if (!wholeCharacters(s)) {
        // no UTF-8 form to echo it in: the error cannot carry it (docs/protocol.md, msg_id)
        return new Case(kind + ".send_bad_msg_id", frames, fuzzFrames, null, "bad_request", List.of(), pings, text);
      }
      return new Case(kind + ".send", frames, fuzzFrames, null, null, List.of(s), pings, text);
    }
    return new Case(kind + "." + (o.equals("send") ? "send_no_msg_id" : o), frames, fuzzFrames, null, null, List.of(), pings, text);
  }

  /** No lone surrogate: the string has a UTF-8 form. */
  static boolean wholeCharacters(String s) {
    return s.codePoints().noneMatch(cp -> cp >= 0xD800 && cp <= 0xDFFF);
  }

  private Case one(String kind, byte[] frame, int closeCode) {
    return new Case(kind, List.of(frame), 1, Set.of(closeCode), null, List.of(), List.of(), kind);
  }

  private byte[] masked(boolean fin, int opcode, byte[] payload) {
    return FuzzClient.frame(fin, 0, opcode, true, payload, 0, rnd);
  }

  private static byte[] closePayload(int code, byte[] reason) {
    byte[] p = new byte[2 + reason.length];
    p[0] = (byte) (code >>> 8);
    p[1] = (byte) code;
    System.arraycopy(reason, 0, p, 2, reason.length);
    return p;
  }

  private byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    rnd.nextBytes(b);
    return b;
  }

  private byte[] randomAscii(int n) {
    return string(n).getBytes(StandardCharsets.US_ASCII);
  }

  private static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) {
      s.append(String.format("%02X", x & 0xFF));
    }
    return s.toString();
  }
}
