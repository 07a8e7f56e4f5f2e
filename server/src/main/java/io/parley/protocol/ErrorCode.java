package io.parley.protocol;

/**
 * Stable error codes of protocol v1, shared by WebSocket {@code error} frames, REST error bodies
 * and event-bus failures ({@code message.fail(code.failureCode(), text)}).
 *
 * <p>Each code carries its wire name and its event-bus number explicitly, never derived from the
 * constant's name or position: clients branch on the name, and a failure that crosses the event
 * bus carries the number (today only routing's answers to signals, within a node; across nodes,
 * nodes of different versions must read it alike), so neither may change when the enum is
 * reordered or a constant is renamed. The numbers are those of the first release (1000 + the
 * declaration order it had); a new code takes the next unused number. {@code ErrorCodeTest} pins
 * both.
 */
public enum ErrorCode {
  BAD_REQUEST(1000, "bad_request", 400),
  UNKNOWN_OP(1001, "unknown_op", 400),
  NOT_MEMBER(1002, "not_member", 403),
  NOT_FOUND(1003, "not_found", 404),
  FORBIDDEN(1004, "forbidden", 403),
  TOO_LARGE(1005, "too_large", 413),
  RATE_LIMITED(1006, "rate_limited", 429),
  GROUP_TOO_LARGE(1007, "group_too_large", 422),
  CONFLICT(1008, "conflict", 409),
  UNAVAILABLE(1009, "unavailable", 503),
  INTERNAL(1010, "internal", 500),
  /** Storage refused the send for good (cluster profile: parked in the dead-letter topic); not stored, not delivered. */
  REJECTED(1011, "rejected", 422);

  private static final ErrorCode[] BY_FAILURE_CODE = byFailureCode();

  private final int failureCode;
  private final String wire;
  private final int httpStatus;

  ErrorCode(int failureCode, String wire, int httpStatus) {
    this.failureCode = failureCode;
    this.wire = wire;
    this.httpStatus = httpStatus;
  }

  /** The wire name, e.g. {@code not_member}. */
  public String wire() {
    return wire;
  }

  public int httpStatus() {
    return httpStatus;
  }

  /** The code used with {@code Message.fail(int, String)} on the event bus. */
  public int failureCode() {
    return failureCode;
  }

  /** The code an event-bus failure carries; {@link #INTERNAL} for a number no code has (e.g. a newer node's). */
  public static ErrorCode fromFailureCode(int code) {
    int i = code - 1000;
    ErrorCode c = i >= 0 && i < BY_FAILURE_CODE.length ? BY_FAILURE_CODE[i] : null;
    return c == null ? INTERNAL : c;
  }

  private static ErrorCode[] byFailureCode() {
    int max = 0;
    for (ErrorCode c : values()) {
      if (c.failureCode < 1000) {
        throw new IllegalStateException(c + ": failure codes start at 1000");
      }
      max = Math.max(max, c.failureCode);
    }
    ErrorCode[] out = new ErrorCode[max - 1000 + 1];
    for (ErrorCode c : values()) {
      if (out[c.failureCode - 1000] != null) {
        throw new IllegalStateException(c + " and " + out[c.failureCode - 1000] + " share failure code " + c.failureCode);
      }
      out[c.failureCode - 1000] = c;
    }
    return out;
  }
}
