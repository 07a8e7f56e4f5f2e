package io.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Unit tests of {@link ErrorCode}: wire names, HTTP statuses and the event-bus failure-code round trip. */
class ErrorCodeTest {

  @Test
  void wireNames() {
    assertThat(ErrorCode.NOT_MEMBER.wire()).isEqualTo("not_member");
    assertThat(ErrorCode.GROUP_TOO_LARGE.wire()).isEqualTo("group_too_large");
    assertThat(ErrorCode.BAD_REQUEST.wire()).isEqualTo("bad_request");
  }

  @Test
  void httpStatuses() {
    assertThat(ErrorCode.BAD_REQUEST.httpStatus()).isEqualTo(400);
    assertThat(ErrorCode.UNKNOWN_OP.httpStatus()).isEqualTo(400);
    assertThat(ErrorCode.NOT_FOUND.httpStatus()).isEqualTo(404);
    assertThat(ErrorCode.TOO_LARGE.httpStatus()).isEqualTo(413);
    assertThat(ErrorCode.RATE_LIMITED.httpStatus()).isEqualTo(429);
    assertThat(ErrorCode.UNAVAILABLE.httpStatus()).isEqualTo(503);
  }

  @Test
  void failureCodesRoundTrip() {
    for (ErrorCode c : ErrorCode.values()) {
      assertThat(ErrorCode.fromFailureCode(c.failureCode())).isEqualTo(c);
    }
    assertThat(ErrorCode.fromFailureCode(-1)).isEqualTo(ErrorCode.INTERNAL);
    assertThat(ErrorCode.fromFailureCode(999)).isEqualTo(ErrorCode.INTERNAL);
    assertThat(ErrorCode.fromFailureCode(1000 + ErrorCode.values().length)).isEqualTo(ErrorCode.INTERNAL);
  }
}
