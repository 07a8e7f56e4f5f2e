package io.parley.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.push.PushRegistration;
import io.parley.push.PushRegistrations;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@link ConnectEmails}: a valid claim is written once per change of address, not at every
 * connect; invalid claims are ignored; a failed write is forgotten so the next connect writes
 * again; the memo of written addresses is bounded.
 */
class ConnectEmailsTest {

  /** Records putEmail calls; fails them while {@code failing}. */
  static final class Recording implements PushRegistrations {
    final List<String> writes = new ArrayList<>();
    boolean failing;

    @Override
    public Future<Void> putEmail(String user, String email) {
      writes.add(user + "=" + email);
      return failing ? Future.failedFuture(new IllegalStateException("storage down")) : Future.succeededFuture();
    }

    @Override
    public Future<Optional<String>> email(String user) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<PushRegistration> put(PushRegistration r, int maxDevices) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<Boolean> remove(String user, String device) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<Boolean> removeAddress(String provider, String address) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<List<PushRegistration>> list(String user) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<Map<String, List<PushRegistration>>> listAll(Collection<String> users) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<Optional<PushRegistration>> owner(String provider, String address) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<Integer> count(String user) {
      throw new UnsupportedOperationException();
    }
  }

  private final Recording store = new Recording();

  @Test
  void writesOnlyWhenTheAddressChanges() {
    ConnectEmails emails = new ConnectEmails(store, 100);
    emails.connected("alice", "alice@example.com");
    emails.connected("alice", "alice@example.com");
    emails.connected("bob", "bob@example.com");
    emails.connected("alice", "alice@work.example");
    emails.connected("alice", null);

    assertThat(store.writes).containsExactly("alice=alice@example.com", "bob=bob@example.com", "alice=alice@work.example");
  }

  @Test
  void invalidClaimsAreIgnored() {
    ConnectEmails emails = new ConnectEmails(store, 100);
    String tooLong = "a".repeat(250) + "@b.cd";
    for (Object claim : List.of("", "alice", "@example.com", "alice@", "alice@example.com\r\nBcc: x@y.z", "a@b\nc", tooLong,
        42, true, new io.vertx.core.json.JsonObject().put("x", "a@b"))) {
      emails.connected("alice", claim);
    }
    assertThat(store.writes).isEmpty();
    assertThat(ConnectEmails.valid("a".repeat(248) + "@b.cde")).as("254 characters").isTrue();
    assertThat(ConnectEmails.valid("\"odd local\"@example.com")).as("lightly checked").isTrue();
  }

  @Test
  void aFailedWriteIsTriedAgainAtTheNextConnect() {
    ConnectEmails emails = new ConnectEmails(store, 100);
    store.failing = true;
    emails.connected("alice", "alice@example.com");
    store.failing = false;
    emails.connected("alice", "alice@example.com");
    emails.connected("alice", "alice@example.com");

    assertThat(store.writes).containsExactly("alice=alice@example.com", "alice=alice@example.com");
  }

  @Test
  void theMemoIsBoundedLeastRecentlyUsedFirst() {
    ConnectEmails emails = new ConnectEmails(store, 2);
    emails.connected("alice", "alice@example.com");
    emails.connected("bob", "bob@example.com");
    emails.connected("alice", "alice@example.com"); // alice used last: bob is the eldest now
    emails.connected("carol", "carol@example.com");
    assertThat(emails.size()).isEqualTo(2);

    emails.connected("alice", "alice@example.com");
    emails.connected("bob", "bob@example.com");
    assertThat(store.writes).containsExactly("alice=alice@example.com", "bob=bob@example.com", "carol=carol@example.com",
        "bob=bob@example.com");
  }
}
