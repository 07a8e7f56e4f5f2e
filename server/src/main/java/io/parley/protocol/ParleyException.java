package io.parley.protocol;

/** A failure with a protocol error code; the edge turns it into an error frame or HTTP error. */
public final class ParleyException extends RuntimeException {
  private final ErrorCode code;

  public ParleyException(ErrorCode code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }

  public static ParleyException of(ErrorCode code, String message) {
    return new ParleyException(code, message);
  }
}
