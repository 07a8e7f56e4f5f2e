package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.parley.protocol.Ids;
import io.parley.testing.Await;
import io.vertx.cassandra.CassandraClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * One real-Cassandra setup per test class: a Vert.x instance, one client session, and a keyspace
 * of its own ({@code parley_it_<random>}) with the schema applied, dropped again by
 * {@link #close()}. The server comes from {@code PARLEY_CASSANDRA_CONTACT} (host:port, default
 * 127.0.0.1:9042) and {@code PARLEY_CASSANDRA_DC} (default datacenter1).
 */
final class CassandraFixture implements AutoCloseable {
  final Vertx vertx;
  final CassandraClient client;
  final CassandraNames names;
  final CassandraSchema schema;
  final Ids ids = new Ids(3);
  final CassandraConversationStore conversations;
  final CassandraMessageStore messages;
  final CassandraMessageArchive archive;

  CassandraFixture() throws Exception {
    String contact = env("PARLEY_CASSANDRA_CONTACT", "127.0.0.1:9042");
    String dc = env("PARLEY_CASSANDRA_DC", "datacenter1");
    int colon = contact.lastIndexOf(':');
    String host = colon < 0 ? contact : contact.substring(0, colon);
    int port = colon < 0 ? 9042 : Integer.parseInt(contact.substring(colon + 1));
    vertx = Vertx.vertx();
    client = CassandraClient.create(vertx, CassandraSchema.clientOptions(host, port, dc, 10_000, 4));
    names = new CassandraNames("parley_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16));
    schema = new CassandraSchema(names);
    try {
      Await.result(schema.apply(vertx, client), Duration.ofSeconds(60));
      conversations = Await.result(CassandraConversationStore.create(vertx, client, names), Duration.ofSeconds(30));
      messages = Await.result(CassandraMessageStore.create(client, names), Duration.ofSeconds(30));
      archive = Await.result(CassandraMessageArchive.create(client, names), Duration.ofSeconds(30));
    } catch (Exception e) {
      close();
      throw e;
    }
  }

  /**
   * Forgets every user's memberships and every DM pair, so tests that reuse user names start
   * clean. (Conversation and message ids never repeat, so their tables need no reset.) A scan and
   * per-partition deletes: on these small tables much faster than TRUNCATE.
   */
  void resetUsers() throws Exception {
    List<Future<?>> deletes = new ArrayList<>();
    for (Row r : Await.result(client.executeWithFullFetch("SELECT DISTINCT user_id FROM " + names.membershipByUser()), Duration.ofSeconds(30))) {
      deletes.add(client.execute(SimpleStatement.newInstance(
          "DELETE FROM " + names.membershipByUser() + " WHERE user_id = ?", r.getString("user_id"))));
    }
    for (Row r : Await.result(client.executeWithFullFetch("SELECT user_lo, user_hi FROM " + names.dmPairs()), Duration.ofSeconds(30))) {
      deletes.add(client.execute(SimpleStatement.newInstance(
          "DELETE FROM " + names.dmPairs() + " WHERE user_lo = ? AND user_hi = ?", r.getString("user_lo"), r.getString("user_hi"))));
    }
    Await.result(Future.all(deletes), Duration.ofSeconds(30));
  }

  private static String env(String name, String dflt) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? dflt : v;
  }

  @Override
  public void close() throws Exception {
    try {
      Await.result(schema.drop(client), Duration.ofSeconds(60));
    } finally {
      try {
        Await.result(client.close(), Duration.ofSeconds(30));
      } finally {
        Await.result(vertx.close(), Duration.ofSeconds(30));
      }
    }
  }
}
