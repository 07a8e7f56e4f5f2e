package io.parley.bench;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;

/**
 * What docs/protocol.md allows the server to answer, and the tally of what it did answer. The sets
 * below are copied from the protocol document (not from the server's code): the fuzzer judges the
 * server by its contract. A check returns null when the reply is a documented one, else what is wrong.
 */
final class FuzzReplies {
  /** Server → client frame ops (docs/protocol.md, "Client → server" replies and "Server → client"). */
  static final Set<String> OPS = Set.of("ack", "error", "msg", "receipt", "typing", "synced", "presence", "pong");
  /** The error codes table of docs/protocol.md, with the HTTP status of each. */
  static final Map<String, Integer> CODES = Map.ofEntries(Map.entry("bad_request", 400), Map.entry("unknown_op", 400),
      Map.entry("not_member", 403), Map.entry("not_found", 404), Map.entry("forbidden", 403), Map.entry("too_large", 413),
      Map.entry("rate_limited", 429), Map.entry("group_too_large", 422), Map.entry("conflict", 409),
      Map.entry("unavailable", 503), Map.entry("internal", 500), Map.entry("unauthorized", 401), Map.entry("rejected", 422));
  /** Close codes the server may start a close with (protocol errors, limits, idle, restart, slow reader). */
  static final Set<Integer> SERVER_CLOSE_CODES = Set.of(1001, 1002, 1007, 1009, 1012, 1013);
  /** Status codes of the REST tables and the error table. */
  static final Set<Integer> REST_STATUSES = Set.of(200, 201, 204, 400, 401, 403, 404, 409, 413, 422, 429, 503);
  private static final Pattern ID = Pattern.compile("[1-9][0-9]{0,18}");

  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

  void count(String kind) {
    counts.computeIfAbsent(kind, k -> new LongAdder()).increment();
  }

  /** Replies by kind, sorted: {@code ws.op.ack}, {@code ws.error.bad_request}, {@code ws.close.1002}, {@code rest.400.bad_request}… */
  Map<String, Long> counts() {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /**
   * A server text frame: JSON, an object with a documented op, and for the ops that carry them, ids
   * as decimal strings and an error's code from the table ({@code internal} is documented, but it
   * is a bug by definition, so it is a finding too). Counts it. Returns the decoded frame in
   * {@code out[0]} when it is an object.
   */
  String checkText(String text, JsonObject[] out) {
    JsonObject f;
    try {
      f = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      count("ws.invalid_json");
      return "server frame is not a JSON object: " + clip(text);
    }
    out[0] = f;
    Object op = f.getValue("op");
    if (!(op instanceof String o) || !OPS.contains(o)) {
      count("ws.unknown_op");
      return "server frame with an undocumented op: " + clip(text);
    }
    if (o.equals("error")) {
      Object code = f.getValue("code");
      count("ws.error." + code);
      if (!(code instanceof String c) || !CODES.containsKey(c) || c.equals("unauthorized")) {
        return "error frame with an undocumented code: " + clip(text);
      }
      if (c.equals("internal")) {
        return "error frame 'internal' (a server bug): " + clip(text);
      }
      if (!(f.getValue("message") instanceof String)) {
        return "error frame without a message: " + clip(text);
      }
      return null;
    }
    count("ws.op." + o);
    switch (o) {
      case "ack":
        return ids(f, text, "conv", "server_id") ? (f.getValue("msg_id") instanceof String && f.getValue("ts") instanceof Number
            ? null : "ack without msg_id or ts: " + clip(text)) : "ack with a bad id: " + clip(text);
      case "msg":
        return ids(f, text, "conv", "server_id") && f.getValue("from") instanceof String ? null : "bad msg frame: " + clip(text);
      case "receipt":
        return ids(f, text, "conv", "server_id") ? null : "bad receipt frame: " + clip(text);
      case "synced":
        return ids(f, text, "conv") && f.getValue("more") instanceof Boolean ? null : "bad synced frame: " + clip(text);
      case "typing":
        return ids(f, text, "conv") && f.getValue("user") instanceof String ? null : "bad typing frame: " + clip(text);
      default:
        return null;
    }
  }

  private static boolean ids(JsonObject f, String text, String... fields) {
    for (String field : fields) {
      if (!(f.getValue(field) instanceof String s) || !ID.matcher(s).matches()) {
        return false;
      }
    }
    return true;
  }

  /** A close frame's code (-1: none) against the codes this case allows. Counts it. */
  String checkClose(int code, Set<Integer> allowed) {
    // the private-use and registered ranges echo the client's own code: one line for all of them
    count("ws.close." + (code < 0 ? "no_code" : code >= 3000 && code <= 4999 ? "3000-4999" : Integer.toString(code)));
    if (allowed.contains(code)) {
      return null;
    }
    return "close " + (code < 0 ? "without a code" : Integer.toString(code)) + ", expected one of " + allowed;
  }

  /**
   * A REST answer: a documented status, and for errors the body {@code {"error":{"code","message"}}}
   * whose code belongs to that status. A 2xx other than 204 has a JSON object body. Counts it.
   */
  String checkRest(int status, String body) {
    JsonObject json = null;
    try {
      json = body.isEmpty() ? null : new JsonObject(body);
    } catch (DecodeException | ClassCastException e) {
      // below
    }
    if (status >= 400) {
      JsonObject err = json == null ? null : json.getValue("error") instanceof JsonObject e ? e : null;
      Object code = err == null ? null : err.getValue("code");
      count("rest." + status + "." + code);
      if (!REST_STATUSES.contains(status)) {
        return "undocumented status " + status + ": " + clip(body);
      }
      if (!(code instanceof String c) || !CODES.containsKey(c) || CODES.get(c) != status
          || !(err.getValue("message") instanceof String)) {
        return "status " + status + " without a documented error body: " + clip(body);
      }
      return null;
    }
    count("rest." + status);
    if (!REST_STATUSES.contains(status)) {
      return "undocumented status " + status + ": " + clip(body);
    }
    if (status != 204 && json == null) {
      return "status " + status + " without a JSON object body: " + clip(body);
    }
    return null;
  }

  static String clip(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "… (" + s.length() + " chars)" : s;
  }
}
