package io.parley.push;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.parley.testing.Await;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.ParleyException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/**
 * Contract of the {@link PushRegistrations} port, run against every adapter by subclassing: put
 * and list; re-registering replaces (and frees the old address); an address moves to its latest
 * (user, device); the first registration time stays when the same address is registered again;
 * the per-user device cap ({@code conflict}) that still lets a registered device re-register;
 * remove and removeAddress (only while the address is still held); listAll for several users; the email
 * address remembered per user.
 * Every test uses user names of its own, so adapters need no reset between tests.
 */
public abstract class PushRegistrationsContract {

  protected abstract PushRegistrations registrations();

  private final String run = UUID.randomUUID().toString().substring(0, 8);

  private String user(String name) {
    return name + "-" + run;
  }

  private static PushRegistration webpush(String user, String device, String endpoint, long at) {
    return new PushRegistration(user, device, PushRegistration.WEBPUSH, endpoint,
        new JsonObject().put("p256dh", "key-" + device).put("auth", "auth-" + device), at, at);
  }

  private static PushRegistration fcm(String user, String device, String token, long at) {
    return new PushRegistration(user, device, PushRegistration.FCM, token, new JsonObject(), at, at);
  }

  @Test
  void putThenListAndOwner() throws Exception {
    String alice = user("alice");
    Await.result(registrations().put(webpush(alice, "laptop", "https://push.example/" + run + "/1", 10), 10));
    Await.result(registrations().put(fcm(alice, "phone", "tok-" + run, 11), 10));

    List<PushRegistration> regs = Await.result(registrations().list(alice));
    assertThat(regs).extracting(PushRegistration::device).containsExactly("laptop", "phone");
    PushRegistration laptop = regs.get(0);
    assertThat(laptop.provider()).isEqualTo("webpush");
    assertThat(laptop.address()).isEqualTo("https://push.example/" + run + "/1");
    assertThat(laptop.params().getString("p256dh")).isEqualTo("key-laptop");
    assertThat(laptop.registeredAt()).isEqualTo(10);
    assertThat(Await.result(registrations().count(alice))).isEqualTo(2);
    assertThat(Await.result(registrations().owner("fcm", "tok-" + run))).get()
        .extracting(PushRegistration::user, PushRegistration::device).containsExactly(alice, "phone");
    assertThat(Await.result(registrations().owner("webpush", "tok-" + run))).as("addresses are per provider").isEmpty();
  }

  @Test
  void reRegisteringReplacesAndFreesTheOldAddress() throws Exception {
    String alice = user("alice");
    Await.result(registrations().put(fcm(alice, "phone", "old-" + run, 10), 10));
    PushRegistration stored = Await.result(registrations().put(fcm(alice, "phone", "new-" + run, 20), 10));

    assertThat(stored.registeredAt()).isEqualTo(20);
    assertThat(Await.result(registrations().list(alice))).extracting(PushRegistration::address).containsExactly("new-" + run);
    assertThat(Await.result(registrations().owner("fcm", "old-" + run))).isEmpty();
    assertThat(Await.result(registrations().owner("fcm", "new-" + run))).isPresent();
  }

  @Test
  void sameAddressAgainKeepsTheFirstRegistrationTime() throws Exception {
    String alice = user("alice");
    Await.result(registrations().put(fcm(alice, "phone", "tok-" + run, 10), 10));
    PushRegistration again = Await.result(registrations().put(fcm(alice, "phone", "tok-" + run, 30), 10));

    assertThat(again.registeredAt()).isEqualTo(10);
    assertThat(again.lastSeen()).isEqualTo(30);
    PushRegistration listed = Await.result(registrations().list(alice)).get(0);
    assertThat(listed.registeredAt()).isEqualTo(10);
    assertThat(listed.lastSeen()).isEqualTo(30);
  }

  @Test
  void anAddressMovesToItsLatestHolder() throws Exception {
    String alice = user("alice");
    String bob = user("bob");
    String endpoint = "https://push.example/" + run + "/shared";
    Await.result(registrations().put(webpush(alice, "phone", endpoint, 10), 10));
    Await.result(registrations().put(webpush(bob, "tablet", endpoint, 20), 10));

    assertThat(Await.result(registrations().list(alice))).isEmpty();
    assertThat(Await.result(registrations().list(bob))).extracting(PushRegistration::device).containsExactly("tablet");
    assertThat(Await.result(registrations().owner("webpush", endpoint))).get()
        .extracting(PushRegistration::user, PushRegistration::device).containsExactly(bob, "tablet");
    // the same user's other device takes it over too
    Await.result(registrations().put(webpush(bob, "desk", endpoint, 30), 10));
    assertThat(Await.result(registrations().list(bob))).extracting(PushRegistration::device).containsExactly("desk");
  }

  @Test
  void atMostMaxDevicesPerUser() throws Exception {
    String alice = user("alice");
    Await.result(registrations().put(fcm(alice, "d1", "t1-" + run, 1), 2));
    Await.result(registrations().put(fcm(alice, "d2", "t2-" + run, 2), 2));

    Throwable t = Await.failure(registrations().put(fcm(alice, "d3", "t3-" + run, 3), 2));
    assertThat(t).isInstanceOf(ParleyException.class);
    assertThat(((ParleyException) t).code()).isEqualTo(ErrorCode.CONFLICT);
    assertThat(Await.result(registrations().owner("fcm", "t3-" + run))).isEmpty();
    // a registered device may re-register at the cap
    Await.result(registrations().put(fcm(alice, "d2", "t2b-" + run, 4), 2));
    assertThat(Await.result(registrations().list(alice))).extracting(PushRegistration::address)
        .containsExactly("t1-" + run, "t2b-" + run);
  }

  @Test
  void removeAndRemoveAddress() throws Exception {
    String alice = user("alice");
    Await.result(registrations().put(fcm(alice, "phone", "p-" + run, 1), 10));
    Await.result(registrations().put(fcm(alice, "tablet", "t-" + run, 1), 10));

    assertThat(Await.result(registrations().remove(alice, "phone"))).isTrue();
    assertThat(Await.result(registrations().remove(alice, "phone"))).isFalse();
    assertThat(Await.result(registrations().owner("fcm", "p-" + run))).isEmpty();

    assertThat(Await.result(registrations().removeAddress("fcm", "t-" + run))).isTrue();
    assertThat(Await.result(registrations().removeAddress("fcm", "t-" + run))).isFalse();
    assertThat(Await.result(registrations().list(alice))).isEmpty();
    assertThat(Await.result(registrations().count(alice))).isZero();
  }

  @Test
  void removeAddressLeavesADeviceThatMovedOn() throws Exception {
    String alice = user("alice");
    Await.result(registrations().put(fcm(alice, "phone", "a-" + run, 1), 10));
    Await.result(registrations().put(fcm(alice, "phone", "b-" + run, 2), 10));

    assertThat(Await.result(registrations().removeAddress("fcm", "a-" + run))).isFalse();
    assertThat(Await.result(registrations().list(alice))).extracting(PushRegistration::address).containsExactly("b-" + run);
  }

  @Test
  void listAllGroupsByUserAndLeavesOutUsersWithout() throws Exception {
    String alice = user("alice");
    String bob = user("bob");
    String carol = user("carol");
    Await.result(registrations().put(fcm(alice, "phone", "a-" + run, 1), 10));
    Await.result(registrations().put(fcm(alice, "tablet", "a2-" + run, 1), 10));
    Await.result(registrations().put(fcm(bob, "phone", "b-" + run, 1), 10));

    Map<String, List<PushRegistration>> all = Await.result(registrations().listAll(List.of(alice, bob, carol, alice)));
    assertThat(all).containsOnlyKeys(alice, bob);
    assertThat(all.get(alice)).extracting(PushRegistration::device).containsExactlyInAnyOrder("phone", "tablet");
    assertThat(all.get(bob)).extracting(PushRegistration::address).containsExactly("b-" + run);
  }

  /** Push asks listAll for every recipient of every message: it must follow every change at once. */
  @Test
  void listAllFollowsMovesAndRemovals() throws Exception {
    String alice = user("alice");
    String bob = user("bob");
    String carol = user("carol");
    assertThat(Await.result(registrations().listAll(List.of(alice, bob, carol)))).isEmpty();

    Await.result(registrations().put(fcm(alice, "phone", "moving-" + run, 1), 10));
    assertThat(Await.result(registrations().listAll(List.of(alice, bob))).keySet()).containsExactly(alice);
    // the token moves to bob: alice has no registration left
    Await.result(registrations().put(fcm(bob, "phone", "moving-" + run, 2), 10));
    assertThat(Await.result(registrations().listAll(List.of(alice, bob))).keySet()).containsExactly(bob);
    // the provider says it is gone
    assertThat(Await.result(registrations().removeAddress(PushRegistration.FCM, "moving-" + run))).isTrue();
    assertThat(Await.result(registrations().listAll(List.of(alice, bob)))).isEmpty();

    Await.result(registrations().put(webpush(carol, "laptop", "https://push.example/" + run + "/c", 3), 10));
    Await.result(registrations().put(fcm(carol, "phone", "c-" + run, 4), 10));
    assertThat(Await.result(registrations().remove(carol, "laptop"))).isTrue();
    assertThat(Await.result(registrations().listAll(List.of(carol))).get(carol))
        .extracting(PushRegistration::device).containsExactly("phone");
    assertThat(Await.result(registrations().remove(carol, "phone"))).isTrue();
    assertThat(Await.result(registrations().listAll(List.of(carol)))).isEmpty();
  }

  @Test
  void emailIsRememberedAndReplaced() throws Exception {
    String alice = user("alice"), bob = user("bob");
    assertThat(Await.result(registrations().email(alice))).as("none yet").isEmpty();

    Await.result(registrations().putEmail(alice, "alice@example.com"));
    Await.result(registrations().putEmail(bob, "bob@example.com"));
    assertThat(Await.result(registrations().email(alice))).contains("alice@example.com");

    Await.result(registrations().putEmail(alice, "alice@work.example"));
    assertThat(Await.result(registrations().email(alice))).contains("alice@work.example");
    assertThat(Await.result(registrations().email(bob))).as("per user").contains("bob@example.com");
    assertThat(Await.result(registrations().list(alice))).as("an email is not a device").isEmpty();
  }
}
