package io.parley.storage.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.testing.Await;
import java.time.Duration;
import io.parley.push.PushRegistration;
import io.parley.push.PushRegistrations;
import io.parley.push.PushRegistrationsContract;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link PushRegistrationsContract} against {@link CassandraPushRegistrations} on a real
 * Cassandra (a keyspace of its own, see {@link CassandraFixture}), plus: applying the schema again
 * keeps the registrations.
 */
class CassandraPushRegistrationsIT extends PushRegistrationsContract {
  private static CassandraFixture cassandra;
  private static CassandraPushRegistrations registrations;

  @BeforeAll
  static void start() throws Exception {
    cassandra = new CassandraFixture();
    registrations = Await.result(CassandraPushRegistrations.create(cassandra.client, cassandra.names), Duration.ofSeconds(30));
  }

  @AfterAll
  static void stop() throws Exception {
    if (cassandra != null) {
      cassandra.close();
    }
  }

  @Override
  protected PushRegistrations registrations() {
    return registrations;
  }

  @Test
  void applyingTheSchemaAgainKeepsRegistrations() throws Exception {
    Await.result(registrations.put(new PushRegistration("schema-user", "phone", "fcm", "schema-tok", new JsonObject(), 5, 6), 10));
    Await.result(cassandra.schema.apply(cassandra.vertx, cassandra.client));
    assertThat(Await.result(registrations.list("schema-user"))).extracting(PushRegistration::address).containsExactly("schema-tok");
  }
}
