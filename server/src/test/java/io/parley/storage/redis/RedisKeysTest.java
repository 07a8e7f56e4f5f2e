package io.parley.storage.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Key names: prefixed, one hash tag per user, parsed back to the user, globs escaped. Needs no server. */
class RedisKeysTest {
  private final RedisKeys keys = new RedisKeys("parley");

  @Test
  void perUserKeysShareTheUsersHashTag() {
    assertThat(keys.connections("alice")).isEqualTo("parley:conn:{alice}");
    assertThat(keys.expiries("alice")).isEqualTo("parley:exp:{alice}");
    assertThat(keys.lastSeen("alice")).isEqualTo("parley:seen:{alice}");
    assertThat(keys.rateLimit("alice", "send")).isEqualTo("parley:rl:send:{alice}");
    assertThat(keys.rateLimit("alice", "typing:42")).isEqualTo("parley:rl:typing:42:{alice}");
  }

  @Test
  void rateLimitBucketsMustNotCarryBraces() {
    assertThatThrownBy(() -> keys.rateLimit("alice", "a{b}")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> keys.rateLimit("alice", "")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void keysParseBackToTheirUser() {
    for (String user : new String[] {"alice", "a:b", "we{ird}", "x}"}) {
      assertThat(keys.userOf(keys.connections(user))).isEqualTo(user);
      assertThat(keys.userOf(keys.expiries(user))).isEqualTo(user);
      assertThat(keys.userOf(keys.lastSeen(user))).isEqualTo(user);
      assertThat(keys.userOf(keys.rateLimit(user, "send"))).isEqualTo(user);
      assertThat(keys.userOf(keys.rateLimit(user, "typing:7"))).isEqualTo(user);
    }
    assertThat(keys.userOf("parley:rl:{alice}")).as("no bucket").isNull();
    assertThat(keys.userOf("parley:rl:send:alice")).isNull();
    assertThat(keys.userOf("other:conn:{alice}")).as("another prefix").isNull();
    assertThat(keys.userOf("parley:conn:alice")).isNull();
    assertThat(keys.userOf("parley:nope:{alice}")).isNull();
  }

  @Test
  void patternMatchesThePrefixLiterally() {
    assertThat(keys.pattern()).isEqualTo("parley:*");
    assertThat(new RedisKeys("run*1[a]?\\").pattern()).isEqualTo("run\\*1\\[a\\]\\?\\\\:*");
  }

  @Test
  void prefixMustBeNonBlankWithoutBraces() {
    assertThatThrownBy(() -> new RedisKeys(" ")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new RedisKeys("a{b}")).isInstanceOf(IllegalArgumentException.class);
  }
}
