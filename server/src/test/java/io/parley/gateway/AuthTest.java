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
    Auth.Identity withEmail = Await.result(auth.identify(auth.issue("alice", "alice@example.com", 60)));
    assertThat(withEmail).isEqualTo(new Auth.Identity("alice", "alice@example.com"));
    assertThat(Await.result(auth.identify(auth.issue("bob", 60)))).isEqualTo(new Auth.Identity("bob", null));
  }

  @Test
  void anotherSecretsTokenIsUnauthorized() {
    String foreign = new Auth(vertx, "fedcba9876543210fedcba9876543210").issue("mallory", "m@example.com", 60);
    assertThat(Await.failure(auth.identify(foreign))).isInstanceOf(Auth.Unauthorized.class);
  }
}
