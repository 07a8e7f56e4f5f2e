package io.parley.protocol;

/**
 * Stable error codes of protocol v1, shared by WebSocket {@code error} frames, REST error bodies
 * and event-bus failures ({@code message.fail(code.failureCode(), text)}).
 */
public enum ErrorCode {
  BAD_REQUEST(400),
  UNKNOWN_OP(400),
  NOT_MEMBER(403),
  NOT_FOUND(404),
  FORBIDDEN(403),
  TOO_LARGE(413),
  RATE_LIMITED(429),
  GROUP_TOO_LARGE(422),
  CONFLICT(409),
  UNAVAILABLE(503),
  INTERNAL(500);

  private final int httpStatus;

  ErrorCode(int httpStatus) {
    this.httpStatus = httpStatus;
  }

  /** The wire name, e.g. {@code not_member}. */
  public String wire() {
    return name().toLowerCase();
  }

  public int httpStatus() {
    return httpStatus;
  }

  /** The code used with {@code Message.fail(int, String)} on the event bus. */
  public int failureCode() {
    return 1000 + ordinal();
  }

  public static ErrorCode fromFailureCode(int code) {
    int i = code - 1000;
    ErrorCode[] all = values();
    return i >= 0 && i < all.length ? all[i] : INTERNAL;
  }
}
