package io.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Unit tests of {@link ErrorCode}: wire names, HTTP statuses and the event-bus failure-code round
 * trip. The table below pins every code's number and name: clients branch on the name, and nodes of
 * different versions exchange the number, so a reorder or rename of the enum must fail here.
 */
class ErrorCodeTest {

  private record Pinned(ErrorCode code, int failureCode, String wire) {}

  /** Every code as the wire knows it; 1000 + position are the first release's numbers, kept for interoperation. */
  private static final List<Pinned> PINNED = List.of(
      new Pinned(ErrorCode.BAD_REQUEST, 1000, "bad_request"),
      new Pinned(ErrorCode.UNKNOWN_OP, 1001, "unknown_op"),
      new Pinned(ErrorCode.NOT_MEMBER, 1002, "not_member"),
      new Pinned(ErrorCode.NOT_FOUND, 1003, "not_found"),
      new Pinned(ErrorCode.FORBIDDEN, 1004, "forbidden"),
      new Pinned(ErrorCode.TOO_LARGE, 1005, "too_large"),
      new Pinned(ErrorCode.RATE_LIMITED, 1006, "rate_limited"),
      new Pinned(ErrorCode.GROUP_TOO_LARGE, 1007, "group_too_large"),
      new Pinned(ErrorCode.CONFLICT, 1008, "conflict"),
      new Pinned(ErrorCode.UNAVAILABLE, 1009, "unavailable"),
      new Pinned(ErrorCode.INTERNAL, 1010, "internal"),
      new Pinned(ErrorCode.REJECTED, 1011, "rejected"));

  @Test
  void wireNames() {
    assertThat(ErrorCode.NOT_MEMBER.wire()).isEqualTo("not_member");
    assertThat(ErrorCode.GROUP_TOO_LARGE.wire()).isEqualTo("group_too_large");
    assertThat(ErrorCode.BAD_REQUEST.wire()).isEqualTo("bad_request");
  }

  @Test
  void everyCodeHasItsPinnedNumberAndName() {
    assertThat(PINNED).extracting(Pinned::code).as("every code is pinned, once")
        .containsExactlyInAnyOrder(ErrorCode.values());
    for (Pinned p : PINNED) {
      assertThat(p.code().failureCode()).as("failure code of %s", p.code()).isEqualTo(p.failureCode());
      assertThat(p.code().wire()).as("wire name of %s", p.code()).isEqualTo(p.wire());
    }
  }

  @Test
  void numbersAndNamesAreUnique() {
    Set<Integer> numbers = new HashSet<>();
    Set<String> names = new HashSet<>();
    for (ErrorCode c : ErrorCode.values()) {
      assertThat(numbers.add(c.failureCode())).as("number of %s is unique", c).isTrue();
      assertThat(names.add(c.wire())).as("name of %s is unique", c).isTrue();
    }
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

  @Test
  void anUnknownNumberIsInternal() {
    int max = Arrays.stream(ErrorCode.values()).mapToInt(ErrorCode::failureCode).max().orElseThrow();
    assertThat(ErrorCode.fromFailureCode(max + 1)).isEqualTo(ErrorCode.INTERNAL);
    assertThat(ErrorCode.fromFailureCode(Integer.MAX_VALUE)).isEqualTo(ErrorCode.INTERNAL);
    assertThat(ErrorCode.fromFailureCode(Integer.MIN_VALUE)).isEqualTo(ErrorCode.INTERNAL);
    assertThat(ErrorCode.fromFailureCode(0)).isEqualTo(ErrorCode.INTERNAL);
  }

  @Test
  void wireNamesDoNotDependOnTheDefaultLocale() {
    Locale saved = Locale.getDefault();
    try {
      // Turkish lower-cases I to dotless ı: "INTERNAL".toLowerCase() is "ınternal" there
      Locale.setDefault(new Locale("tr", "TR"));
      for (Pinned p : PINNED) {
        assertThat(p.code().wire()).as("wire name of %s under tr-TR", p.code()).isEqualTo(p.wire());
      }
      assertThat(ErrorCode.INTERNAL.wire()).isEqualTo("internal");
      assertThat(ServerFrames.error(null, null, ErrorCode.INTERNAL, "x")).contains("\"code\":\"internal\"");
    } finally {
      Locale.setDefault(saved);
    }
  }
}
