package io.parley.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.testing.Await;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link Auth}: a token's subject and optional email claim; a token signed with another secret is refused. */
class AuthTest {
  private final Vertx vertx = Vertx.vertx();
  private final Auth auth = new Auth(vertx, "0123456789abcdef0123456789abcdef");

  @AfterEach
  void close() {
    Await.result(vertx.close());
  }

  @Test
  void theEmailClaimComesWithTheUser() {
    long before = System.currentTimeMillis() / 1000 * 1000;
    Auth.Identity withEmail = Await.result(auth.identify(auth.issue("alice", "alice@example.com", 60)));
    assertThat(withEmail.user()).isEqualTo("alice");
    assertThat(withEmail.email()).isEqualTo("alice@example.com");
    assertThat(withEmail.expiresAtMs()).as("exp, in ms").isBetween(before + 60_000, System.currentTimeMillis() + 60_000);
    Auth.Identity bob = Await.result(auth.identify(auth.issue("bob", 60)));
    assertThat(bob.user()).isEqualTo("bob");
    assertThat(bob.email()).isNull();
  }

  @Test
  void anotherSecretsTokenIsUnauthorized() {
    String foreign = new Auth(vertx, "fedcba9876543210fedcba9876543210").issue("mallory", "m@example.com", 60);
    assertThat(Await.failure(auth.identify(foreign))).isInstanceOf(Auth.Unauthorized.class);
  }
}
