package io.parley.storage.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.testing.Await;
import io.parley.push.PushRegistration;
import io.parley.push.PushRegistrations;
import io.parley.push.PushRegistrationsContract;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@link PushRegistrationsContract} against {@link RocksPushRegistrations}, plus: registrations survive a reopen. */
class RocksPushRegistrationsTest extends PushRegistrationsContract {
  @TempDir
  Path dir;
  private RocksFixture rocks;
  private RocksPushRegistrations registrations;

  @BeforeEach
  void setUp() {
    rocks = new RocksFixture(dir);
    registrations = new RocksPushRegistrations(rocks.storage, rocks.metaWriter, rocks.readers);
  }

  @AfterEach
  void tearDown() throws Exception {
    rocks.close();
  }

  @Override
  protected PushRegistrations registrations() {
    return registrations;
  }

  @Test
  void registrationsSurviveReopen() throws Exception {
    Await.result(registrations.put(new PushRegistration("alice", "phone", "fcm", "tok", new JsonObject(), 5, 6), 10));
    rocks.reopen();
    registrations = new RocksPushRegistrations(rocks.storage, rocks.metaWriter, rocks.readers);

    assertThat(Await.result(registrations.list("alice"))).singleElement()
        .extracting(PushRegistration::address, PushRegistration::registeredAt).containsExactly("tok", 5L);
    assertThat(Await.result(registrations.owner("fcm", "tok"))).isPresent();
    // the users with registrations are read back too: listAll skips everyone else without reading
    assertThat(Await.result(registrations.listAll(java.util.List.of("alice", "bob"))).keySet()).containsExactly("alice");
  }
}
