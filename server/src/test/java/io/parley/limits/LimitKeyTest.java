package io.parley.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Bucket names: one per concern, per user, typing per conversation; no braces (Redis hash tags). */
class LimitKeyTest {
  @Test
  void bucketsPerConcernAndConversation() {
    assertThat(LimitKey.send("alice")).isEqualTo(new LimitKey("alice", "send"));
    assertThat(LimitKey.typing("alice", 42)).isEqualTo(new LimitKey("alice", "typing:42"));
    assertThat(LimitKey.typing("alice", 42)).isNotEqualTo(LimitKey.typing("alice", 43))
        .isNotEqualTo(LimitKey.typing("bob", 42));
  }

  @Test
  void bucketNamesMustBeNonEmptyWithoutBraces() {
    assertThatThrownBy(() -> new LimitKey("alice", "")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new LimitKey("alice", "a{b}")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new LimitKey(null, "send")).isInstanceOf(NullPointerException.class);
  }
}
