package io.parley.protocol;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Frames a client sends, parsed and validated at the edge. Invalid input throws {@link ParleyException}. */
public sealed interface ClientFrame {

  Pattern USER_ID = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
  Pattern DEVICE_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  /**
   * A send; {@code first}: the client's {@code "first"} field — true on its first attempt at this
   * msg_id, false on a retry, null when absent (a client that does not say; treated as a possible
   * retry everywhere).
   */
  record Send(String msgId, long conv, String body, JsonArray media, Boolean first) implements ClientFrame {
    public Send(String msgId, long conv, String body, JsonArray media) {
      this(msgId, conv, body, media, null);
    }
  }

  record Delivered(long conv, long serverId) implements ClientFrame {}

  record Read(long conv, long serverId) implements ClientFrame {}

  record Typing(long conv) implements ClientFrame {}

  /** Conversation id → last server id seen (0 for none), in the client's order. */
  record Sync(Map<Long, Long> convs) implements ClientFrame {}

  record PresenceSub(List<String> users) implements ClientFrame {}

  record Ping() implements ClientFrame {}

  /** Limits that apply to parsing. */
  record Limits(int maxBodyBytes, int maxMediaItems, int maxSyncConvs, int maxPresenceUsers) {}

  static boolean validUser(String s) {
    return s != null && USER_ID.matcher(s).matches();
  }

  /**
   * Parses one text frame. The returned {@code msgId} of a failed send is reported through
   * {@link #msgIdOf(JsonObject)} by the caller, so errors can carry it.
   */
  static ClientFrame parse(JsonObject json, Limits limits) {
    Object op = json.getValue("op");
    if (!(op instanceof String)) {
      throw bad("missing or non-string field 'op'");
    }
    switch ((String) op) {
      case "send":
        return parseSend(json, limits);
      case "delivered":
        return new Delivered(id(json, "conv"), id(json, "server_id"));
      case "read":
        return new Read(id(json, "conv"), id(json, "server_id"));
      case "typing":
        return new Typing(id(json, "conv"));
      case "sync":
        return parseSync(json, limits);
      case "presence_sub":
        return parsePresenceSub(json, limits);
      case "ping":
        return new Ping();
      default:
        throw ParleyException.of(ErrorCode.UNKNOWN_OP, "unknown op '" + op + "'");
    }
  }

  /** Decodes text into a JSON object, or fails with {@code bad_request}. */
  static JsonObject decode(String text) {
    try {
      return new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw bad("frame is not a JSON object");
    }
  }

  /** The client msg_id of a frame if it has a usable one, for error replies; else null. */
  static String msgIdOf(JsonObject json) {
    Object v = json.getValue("msg_id");
    return v instanceof String s && validMsgId(s) ? s : null;
  }

  /**
   * 1–64 UTF-16 units forming whole characters. A lone surrogate (a JSON escape such as
   * {@code "\\ud800"}) has no UTF-8 form: the ack would carry a {@code ?} in its place and the client
   * could not match it to its send (found by scripts/fuzz).
   */
  static boolean validMsgId(String s) {
    if (s.isEmpty() || s.length() > 64) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  private static Send parseSend(JsonObject json, Limits limits) {
    Object msgId = json.getValue("msg_id");
    if (!(msgId instanceof String m) || !validMsgId(m)) {
      throw bad("'msg_id' must be a string of 1-64 characters");
    }
    long conv = id(json, "conv");
    Object body = json.getValue("body");
    if (!(body instanceof String b)) {
      throw bad("'body' must be a string");
    }
    // a UTF-16 unit is at most 3 bytes of UTF-8: a short body needs no encoding to be measured
    if (b.length() > limits.maxBodyBytes()
        || (3L * b.length() > limits.maxBodyBytes() && b.getBytes(StandardCharsets.UTF_8).length > limits.maxBodyBytes())) {
      throw ParleyException.of(ErrorCode.TOO_LARGE, "body exceeds " + limits.maxBodyBytes() + " bytes");
    }
    Object media = json.getValue("media");
    JsonArray mediaArr = null;
    if (media != null) {
      if (!(media instanceof JsonArray arr)) {
        throw bad("'media' must be an array of objects");
      }
      if (arr.size() > limits.maxMediaItems()) {
        throw ParleyException.of(ErrorCode.TOO_LARGE, "at most " + limits.maxMediaItems() + " media items");
      }
      for (Object item : arr) {
        if (!(item instanceof JsonObject)) {
          throw bad("'media' must be an array of objects");
        }
      }
      mediaArr = arr;
    }
    Object first = json.getValue("first");
    if (first != null && !(first instanceof Boolean)) {
      throw bad("'first' must be a boolean");
    }
    return new Send(m, conv, b, mediaArr, (Boolean) first);
  }

  private static Sync parseSync(JsonObject json, Limits limits) {
    Object convs = json.getValue("convs");
    if (!(convs instanceof JsonObject obj)) {
      throw bad("'convs' must be an object of conversation id to last server_id");
    }
    if (obj.size() > limits.maxSyncConvs()) {
      throw ParleyException.of(ErrorCode.TOO_LARGE, "at most " + limits.maxSyncConvs() + " conversations per sync");
    }
    Map<Long, Long> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : obj) {
      long conv = Ids.parse(e.getKey());
      if (conv <= 0) {
        throw bad("sync key '" + e.getKey() + "' is not a conversation id");
      }
      long last = e.getValue() instanceof String s ? Ids.parse(s) : -1;
      if (last < 0) {
        throw bad("sync value for " + e.getKey() + " must be a server_id string or \"0\"");
      }
      out.put(conv, last);
    }
    return new Sync(out);
  }

  private static PresenceSub parsePresenceSub(JsonObject json, Limits limits) {
    Object users = json.getValue("users");
    if (!(users instanceof JsonArray arr)) {
      throw bad("'users' must be an array of user ids");
    }
    if (arr.size() > limits.maxPresenceUsers()) {
      throw ParleyException.of(ErrorCode.TOO_LARGE, "at most " + limits.maxPresenceUsers() + " users per presence_sub");
    }
    List<String> out = new ArrayList<>(arr.size());
    for (Object u : arr) {
      if (!(u instanceof String s) || !validUser(s)) {
        throw bad("'users' must hold user ids matching [A-Za-z0-9_.-]{1,64}");
      }
      out.add(s);
    }
    return new PresenceSub(out);
  }

  private static long id(JsonObject json, String field) {
    Object v = json.getValue(field);
    long id = v instanceof String s ? Ids.parse(s) : -1;
    if (id <= 0) {
      throw bad("'" + field + "' must be an id: a string holding a positive decimal integer");
    }
    return id;
  }

  private static ParleyException bad(String message) {
    return ParleyException.of(ErrorCode.BAD_REQUEST, message);
  }
}
