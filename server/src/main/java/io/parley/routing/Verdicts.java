package io.parley.routing;

import io.parley.protocol.ErrorCode;
import io.vertx.core.json.JsonObject;

/**
 * Entries of routing's verdicts to an intake ({@code Addresses.intakeVerdicts}), built and parsed
 * only here. A verdict message is a JSON array of entries, one per record the intake wrote:
 * <ul>
 *   <li>a string: the encoded {@code msg} frame of the record's stored original (ack with it);
 *   <li>an object {@code {"rejected":{"from":..,"msg_id":..,"code":<wire name>,"message":..}}}: storage
 *       refused the record and routing parked it in the dead-letter topic; the sender gets an error
 *       frame with that code. (An intake of an older version skips such an entry as malformed and
 *       answers its sender {@code unavailable} at its send timeout.)
 * </ul>
 */
public final class Verdicts {

  private Verdicts() {}

  /** A refused send, as an intake reads it. */
  public record Rejected(String from, String msgId, ErrorCode code, String message) {}

  /** The entry saying that the send {@code (from, msgId)} was refused with {@code code}. */
  public static JsonObject rejected(String from, String msgId, ErrorCode code, String message) {
    return new JsonObject().put("rejected", new JsonObject().put("from", from).put("msg_id", msgId)
        .put("code", code.wire()).put("message", message));
  }

  /**
   * The rejection an entry object carries.
   *
   * @throws IllegalArgumentException when it is not a rejection entry
   */
  public static Rejected parseRejected(JsonObject entry) {
    if (!(entry.getValue("rejected") instanceof JsonObject r) || !(r.getValue("from") instanceof String from)
        || !(r.getValue("msg_id") instanceof String msgId)) {
      throw new IllegalArgumentException("not a rejection entry: " + entry.encode());
    }
    ErrorCode code = ErrorCode.REJECTED;
    for (ErrorCode c : ErrorCode.values()) {
      if (c.wire().equals(r.getValue("code"))) {
        code = c;
      }
    }
    return new Rejected(from, msgId, code, r.getValue("message") instanceof String m ? m : "rejected by storage");
  }
}
