package io.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import org.junit.jupiter.api.Test;

/** How a failed event-bus request becomes the protocol error a client sees. */
class ParleyExceptionTest {

  @Test
  void aRecipientsFailureKeepsItsCodeAndText() {
    ParleyException e = ParleyException.fromBusFailure(
        new ReplyException(ReplyFailure.RECIPIENT_FAILURE, ErrorCode.NOT_MEMBER.failureCode(), "not a member of 7"));
    assertThat(e.code()).isEqualTo(ErrorCode.NOT_MEMBER);
    assertThat(e.getMessage()).isEqualTo("not a member of 7");
  }

  @Test
  void aRecipientsUnknownCodeIsInternal() {
    assertThat(ParleyException.fromBusFailure(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 7, "?")).code())
        .isEqualTo(ErrorCode.INTERNAL);
  }

  @Test
  void nobodyAnsweringIsUnavailable() {
    assertThat(ParleyException.fromBusFailure(new ReplyException(ReplyFailure.TIMEOUT, "timed out")).code())
        .isEqualTo(ErrorCode.UNAVAILABLE);
    assertThat(ParleyException.fromBusFailure(new ReplyException(ReplyFailure.NO_HANDLERS, "none")).code())
        .isEqualTo(ErrorCode.UNAVAILABLE);
  }

  @Test
  void anythingElseIsInternalAndAParleyExceptionStaysAsItIs() {
    assertThat(ParleyException.fromBusFailure(new ReplyException(ReplyFailure.ERROR, "codec")).code())
        .isEqualTo(ErrorCode.INTERNAL);
    assertThat(ParleyException.fromBusFailure(new IllegalStateException("bug")).code()).isEqualTo(ErrorCode.INTERNAL);
    ParleyException own = ParleyException.of(ErrorCode.RATE_LIMITED, "slow down");
    assertThat(ParleyException.fromBusFailure(own)).isSameAs(own);
  }
}
