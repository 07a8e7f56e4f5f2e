package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import io.vertx.cassandra.CassandraClient;
import io.vertx.cassandra.CassandraClientOptions;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Creates the cluster profile's schema at startup. Every statement is {@code IF NOT EXISTS}, so
 * running it again (every node start does; {@code CassandraConversationStoreIT} applies it twice to
 * one keyspace) changes nothing. There are no migrations: an existing keyspace or table is left as
 * it is, also when its definition differs (a node whose statements name a missing column fails at
 * start, when they are prepared). A later version that changes a table must add statements that
 * are idempotent as well ({@code ALTER TABLE ... ADD IF NOT EXISTS}, which Cassandra accepts
 * since 4.1), never edit these.
 *
 * <ul>
 *   <li>{@code messages ((conversation_id), message_id DESC)}: sender, client_msg_id and the
 *       encoded {@code msg} frame — history reads one partition newest first.
 *   <li>{@code conversations ((conversation_id))}: type, name, owner, created_at, members_count,
 *       members_version, last_message_id and {@code members set<text>}. The member set is kept
 *       inline <em>always</em> (up to the 5,000 cap): it is the authority for membership and is
 *       changed together with members_count and members_version in one compare-and-set, which is
 *       what makes adding under the cap atomic.
 *   <li>{@code membership_by_user ((user_id), conversation_id)}: joined_at, last_read_id, muted —
 *       the reverse index behind a user's conversation list.
 *   <li>{@code members_by_conversation ((conversation_id), user_id)}: joined_at — one row per
 *       member, for membership point look-ups that must not read a large group's whole set.
 *   <li>{@code dm_pairs ((user_lo, user_hi))}: the DM's conversation id, owner and created_at;
 *       the pair is ordered so (a, b) and (b, a) share a row.
 *   <li>{@code message_dedupe ((sender, client_msg_id))}: conversation_id, message_id and the
 *       frame, so a retry gets the original back even before its message row is readable.
 *   <li>{@code push_devices ((user_id), device_id)}: provider, address, params (JSON),
 *       registered_at, last_seen — a user's push registrations, one row per device.
 *   <li>{@code push_addresses ((provider, address))}: user_id, device_id — the one holder of a
 *       push token or endpoint.
 *   <li>{@code push_emails ((user_id))}: email, updated_at — the address a user's push digest goes
 *       to (the token's {@code email} claim, remembered at connect).
 * </ul>
 */
public final class CassandraSchema {
  public static final String SIMPLE_STRATEGY = "SimpleStrategy";
  public static final String NETWORK_TOPOLOGY_STRATEGY = "NetworkTopologyStrategy";

  private final CassandraNames names;
  private final String strategy;
  private final int replicationFactor;

  /** The default: SimpleStrategy with replication factor 1 (a single development node). */
  public CassandraSchema(CassandraNames names) {
    this(names, SIMPLE_STRATEGY, 1);
  }

  /**
   * @param strategy {@link #SIMPLE_STRATEGY} or {@link #NETWORK_TOPOLOGY_STRATEGY} (the factor then
   *     applies to every datacenter)
   */
  public CassandraSchema(CassandraNames names, String strategy, int replicationFactor) {
    this.names = Objects.requireNonNull(names, "names");
    if (!SIMPLE_STRATEGY.equals(strategy) && !NETWORK_TOPOLOGY_STRATEGY.equals(strategy)) {
      throw new IllegalArgumentException("cassandra replication strategy must be " + SIMPLE_STRATEGY + " or "
          + NETWORK_TOPOLOGY_STRATEGY + ": '" + strategy + "'");
    }
    if (replicationFactor < 1) {
      throw new IllegalArgumentException("cassandra replication factor must be at least 1: " + replicationFactor);
    }
    this.strategy = strategy;
    this.replicationFactor = replicationFactor;
  }

  /**
   * Client options for a cluster reached through {@code host:port} in local datacenter {@code dc}:
   * LOCAL_QUORUM reads and writes (LOCAL_SERIAL for conditional ones).
   *
   * @param requestTimeoutMs how long one statement may take, long enough for schema statements
   *     ({@code cassandra.request_timeout_ms})
   * @param connections connections per node of the local datacenter, 1,024 requests in flight each
   *     ({@code cassandra.connections}): one was exhausted by a gateway's send-index look-ups plus
   *     routing's writes at 1,000 msgs/s ("No connection was available")
   */
  public static CassandraClientOptions clientOptions(String host, int port, String dc, int requestTimeoutMs,
      int connections) {
    if (requestTimeoutMs < 1 || connections < 1) {
      throw new IllegalArgumentException("cassandra request timeout and connections must be at least 1: "
          + requestTimeoutMs + ", " + connections);
    }
    DriverConfigLoader config = DriverConfigLoader.programmaticBuilder()
        .withString(DefaultDriverOption.REQUEST_CONSISTENCY, "LOCAL_QUORUM")
        .withString(DefaultDriverOption.REQUEST_SERIAL_CONSISTENCY, "LOCAL_SERIAL")
        .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofMillis(requestTimeoutMs))
        .withInt(DefaultDriverOption.CONNECTION_POOL_LOCAL_SIZE, connections)
        .build();
    CassandraClientOptions options = new CassandraClientOptions().addContactPoint(host, port);
    options.dataStaxClusterBuilder().withLocalDatacenter(dc).withConfigLoader(config);
    return options;
  }

  /** The statements, in order. */
  public List<String> statements() {
    return List.of(
        "CREATE KEYSPACE IF NOT EXISTS " + names.keyspace()
            + " WITH replication = {'class': '" + strategy + "', 'replication_factor': " + replicationFactor + "}",
        "CREATE TABLE IF NOT EXISTS " + names.messages() + " ("
            + "conversation_id bigint, message_id bigint, sender text, client_msg_id text, frame text, "
            + "PRIMARY KEY ((conversation_id), message_id)) WITH CLUSTERING ORDER BY (message_id DESC)",
        "CREATE TABLE IF NOT EXISTS " + names.conversations() + " ("
            + "conversation_id bigint PRIMARY KEY, type text, name text, owner text, created_at bigint, "
            + "members_count int, members_version bigint, last_message_id bigint, members set<text>)",
        "CREATE TABLE IF NOT EXISTS " + names.membershipByUser() + " ("
            + "user_id text, conversation_id bigint, joined_at bigint, last_read_id bigint, muted boolean, "
            + "PRIMARY KEY ((user_id), conversation_id))",
        "CREATE TABLE IF NOT EXISTS " + names.membersByConversation() + " ("
            + "conversation_id bigint, user_id text, joined_at bigint, "
            + "PRIMARY KEY ((conversation_id), user_id))",
        "CREATE TABLE IF NOT EXISTS " + names.dmPairs() + " ("
            + "user_lo text, user_hi text, conversation_id bigint, owner text, created_at bigint, "
            + "PRIMARY KEY ((user_lo, user_hi)))",
        "CREATE TABLE IF NOT EXISTS " + names.messageDedupe() + " ("
            + "sender text, client_msg_id text, conversation_id bigint, message_id bigint, frame text, "
            + "PRIMARY KEY ((sender, client_msg_id)))",
        "CREATE TABLE IF NOT EXISTS " + names.pushDevices() + " ("
            + "user_id text, device_id text, provider text, address text, params text, registered_at bigint, "
            + "last_seen bigint, PRIMARY KEY ((user_id), device_id))",
        "CREATE TABLE IF NOT EXISTS " + names.pushAddresses() + " ("
            + "provider text, address text, user_id text, device_id text, PRIMARY KEY ((provider, address)))",
        "CREATE TABLE IF NOT EXISTS " + names.pushEmails() + " ("
            + "user_id text PRIMARY KEY, email text, updated_at bigint)");
  }

  /** Runs the statements one after the other; completes when the schema is in place. */
  public Future<Void> apply(CassandraClient client) {
    Future<?> chain = Future.succeededFuture();
    for (String cql : statements()) {
      chain = chain.compose(v -> client.execute(cql));
    }
    return chain.mapEmpty();
  }

  /** Drops the keyspace and everything in it (tests). */
  public Future<Void> drop(CassandraClient client) {
    return client.execute("DROP KEYSPACE IF EXISTS " + names.keyspace()).mapEmpty();
  }
}
