package io.parley.protocol;

import io.vertx.core.eventbus.ReplyException;

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

  /**
   * The protocol error a failed event-bus request carries: the recipient's code and text when it
   * failed the request with {@code msg.fail(code.failureCode(), text)}; {@code unavailable} when
   * nobody answered (timeout, no handler); {@code internal} for anything else. A
   * {@code ParleyException} is returned as it is.
   */
  public static ParleyException fromBusFailure(Throwable t) {
    if (t instanceof ReplyException re) {
      return switch (re.failureType()) {
        case RECIPIENT_FAILURE -> of(ErrorCode.fromFailureCode(re.failureCode()), re.getMessage());
        case TIMEOUT, NO_HANDLERS -> of(ErrorCode.UNAVAILABLE, "routing unavailable, retry");
        default -> of(ErrorCode.INTERNAL, "internal error");
      };
    }
    return t instanceof ParleyException pe ? pe : of(ErrorCode.INTERNAL, "internal error");
  }
}
