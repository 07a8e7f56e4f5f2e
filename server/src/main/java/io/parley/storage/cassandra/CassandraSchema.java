package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.vertx.cassandra.CassandraClient;
import io.vertx.cassandra.CassandraClientOptions;
import io.vertx.cassandra.ResultSet;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster profile's schema: a versioned list of migrations, applied in order at every node's
 * start ({@link #apply}) and recorded in {@code schema_version} (one row per version: description,
 * owner, claimed_at, done_at).
 *
 * <p>Every node first creates the keyspace and {@code schema_version} ({@code IF NOT EXISTS}).
 * Then, per migration not yet done, one starter claims it with a lightweight transaction
 * ({@code INSERT ... IF NOT EXISTS}: exactly one of several nodes starting at once wins), runs it,
 * renews its claim every {@link #LEASE_MS}/4 while it runs, and marks it done
 * ({@code UPDATE ... IF owner = me}). The other starters wait for {@code done_at}, polling; a claim
 * not renewed for {@link #LEASE_MS} (its owner died) is taken over by compare-and-set on
 * (owner, claimed_at), and the migration runs again from its start. Every migration is idempotent
 * ({@code IF NOT EXISTS}; copies are upserts of the same values), so a second run, a run cut short
 * or a takeover changes nothing that is already right. A node serves only after every migration
 * is done. A later version adds a migration at the end of {@link #migrations()}, never edits one.
 *
 * <p>Version 1, the tables of the first release (statements {@link #v1Statements()}):
 * <ul>
 *   <li>{@code messages ((conversation_id), message_id DESC)} and {@code message_dedupe
 *       ((sender, client_msg_id))} with conversation_id, message_id and the frame — replaced by
 *       version 2 and no longer read or written except by its copy; left in place (an operator,
 *       or a later version, drops them once no node of version 1 runs).
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
 *   <li>{@code push_devices ((user_id), device_id)}: provider, address, params (JSON),
 *       registered_at, last_seen — a user's push registrations, one row per device.
 *   <li>{@code push_addresses ((provider, address))}: user_id, device_id — the one holder of a
 *       push token or endpoint.
 *   <li>{@code push_emails ((user_id))}: email, updated_at — the address a user's push digest goes
 *       to (the token's {@code email} claim, remembered at connect).
 * </ul>
 *
 * <p>Version 2, bounded partitions ({@link #v2Statements()}, then {@link MessageMigration}):
 * {@code messages_by_bucket ((conversation_id, bucket), message_id DESC)}, the bucket segments
 * {@code message_buckets ((conversation_id), first_id DESC)} and the slim dedupe rows
 * {@code message_originals ((sender, client_msg_id))} → conversation, server id, ts, with a TTL
 * (see {@link MessageTables}, {@link CassandraMessageArchive}). Version 1's messages are copied
 * into buckets, conversation by conversation in id order, and its dedupe rows into slim rows with
 * the configured TTL (counted from the copy). Upgrade with every node of version 1 stopped: a
 * version 1 node still routing after the copy writes to the old tables, which nobody reads.
 *
 * <p>Version 3 ({@link #v3Statements()}): {@code message_ahead ((log_partition), sender,
 * client_msg_id)} → conversation_id, with the dedupe TTL: the keys of retried sends stored ahead of
 * their first attempt, which routing loads per log partition ({@link AheadKeys}). Nothing to copy:
 * a version 2 node never skips a dedupe read. Upgrade with every version 2 node stopped (a version
 * 2 node routing after a version 3 node took part of the log would not record its keys).
 */
public final class CassandraSchema {
  public static final String SIMPLE_STRATEGY = "SimpleStrategy";
  public static final String NETWORK_TOPOLOGY_STRATEGY = "NetworkTopologyStrategy";

  /** A claim on a migration not renewed for this long is taken over (its owner is presumed dead). */
  static final long LEASE_MS = 60_000;
  /** How often a starter waiting for another's migration looks again. */
  static final long POLL_MS = 250;
  private static final Logger LOG = LoggerFactory.getLogger(CassandraSchema.class);

  /** One step of the schema: its version, what it does, and the (idempotent) work. */
  public record Migration(int version, String description, Function<CassandraClient, Future<Void>> run) {}

  private final CassandraNames names;
  private final String strategy;
  private final int replicationFactor;
  private final long bucketMs;
  private final int dedupeTtlS;

  /** The default: SimpleStrategy with replication factor 1 (a single development node). */
  public CassandraSchema(CassandraNames names) {
    this(names, SIMPLE_STRATEGY, 1);
  }

  /** With one-day message buckets and 7 days of dedupe rows for the migration's copies. */
  public CassandraSchema(CassandraNames names, String strategy, int replicationFactor) {
    this(names, strategy, replicationFactor, CassandraMessageArchive.DEFAULT_BUCKET_MS,
        CassandraMessageArchive.DEFAULT_DEDUPE_TTL_S);
  }

  /**
   * @param strategy {@link #SIMPLE_STRATEGY} or {@link #NETWORK_TOPOLOGY_STRATEGY} (the factor then
   *     applies to every datacenter)
   * @param bucketMs message bucket length the migration to version 2 copies into
   * @param dedupeTtlS TTL of the dedupe rows the migration to version 2 copies
   *     ({@code cassandra.dedupe_ttl_s})
   */
  public CassandraSchema(CassandraNames names, String strategy, int replicationFactor, long bucketMs, int dedupeTtlS) {
    if (bucketMs < 1 || dedupeTtlS < 1) {
      throw new IllegalArgumentException("bucket length and dedupe TTL must be positive: " + bucketMs + ", " + dedupeTtlS);
    }
    this.bucketMs = bucketMs;
    this.dedupeTtlS = dedupeTtlS;
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

  /** Longest wait between the driver's attempts to reconnect to a node that went away. */
  static final Duration RECONNECT_MAX_DELAY = Duration.ofSeconds(2);

  /**
   * Client options for a cluster reached through {@code host:port} in local datacenter {@code dc}:
   * LOCAL_QUORUM reads and writes (LOCAL_SERIAL for conditional ones).
   *
   * @param requestTimeoutMs how long one statement may take, long enough for schema statements
   *     ({@code cassandra.request_timeout_ms})
   * @param connections connections per node of the local datacenter, 1,024 requests in flight each
   *     ({@code cassandra.connections}): one was exhausted at 1,000 msgs/s ("No connection was
   *     available") when gateways still read dedupe rows on top of routing's writes
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
        // the driver's default backs off to 60 s between reconnection attempts: after an outage of
        // a minute the cluster then stayed unavailable for up to another 50 s with Cassandra up
        .withDuration(DefaultDriverOption.RECONNECTION_MAX_DELAY, RECONNECT_MAX_DELAY)
        .build();
    CassandraClientOptions options = new CassandraClientOptions().addContactPoint(host, port);
    options.dataStaxClusterBuilder().withLocalDatacenter(dc).withConfigLoader(config);
    return options;
  }

  /** Creates the keyspace and the version table: run by every starter before the migrations. */
  public List<String> bootstrapStatements() {
    return List.of(
        "CREATE KEYSPACE IF NOT EXISTS " + names.keyspace()
            + " WITH replication = {'class': '" + strategy + "', 'replication_factor': " + replicationFactor + "}",
        "CREATE TABLE IF NOT EXISTS " + names.schemaVersion() + " ("
            + "version int PRIMARY KEY, description text, owner text, claimed_at bigint, done_at bigint)");
  }

  /** Version 1: the tables of the first release (keyspace excluded). */
  public List<String> v1Statements() {
    return List.of(
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

  /**
   * Version 2's tables: messages in time buckets, their segments, slim dedupe rows. The dedupe rows
   * all expire (TTL per write), so they are compacted in one-day time windows, which drops whole
   * expired files instead of rewriting them.
   */
  public List<String> v2Statements() {
    return List.of(
        "CREATE TABLE IF NOT EXISTS " + names.messagesByBucket() + " ("
            + "conversation_id bigint, bucket bigint, message_id bigint, sender text, client_msg_id text, frame text, "
            + "PRIMARY KEY ((conversation_id, bucket), message_id)) WITH CLUSTERING ORDER BY (message_id DESC)",
        "CREATE TABLE IF NOT EXISTS " + names.messageBuckets() + " ("
            + "conversation_id bigint, first_id bigint, bucket bigint, "
            + "PRIMARY KEY ((conversation_id), first_id)) WITH CLUSTERING ORDER BY (first_id DESC)",
        "CREATE TABLE IF NOT EXISTS " + names.messageOriginals() + " ("
            + "sender text, client_msg_id text, conversation_id bigint, message_id bigint, ts bigint, "
            + "PRIMARY KEY ((sender, client_msg_id))) WITH compaction = {'class': 'TimeWindowCompactionStrategy', "
            + "'compaction_window_unit': 'DAYS', 'compaction_window_size': 1}");
  }

  /**
   * Version 3's table: per log partition, the keys of retries stored ahead of their first attempt
   * ({@link AheadKeys}), each row with the dedupe TTL (per write), so compacted like the dedupe rows.
   */
  public List<String> v3Statements() {
    return List.of(
        "CREATE TABLE IF NOT EXISTS " + names.messageAhead() + " ("
            + "log_partition int, sender text, client_msg_id text, conversation_id bigint, "
            + "PRIMARY KEY ((log_partition), sender, client_msg_id)) WITH compaction = {'class': "
            + "'TimeWindowCompactionStrategy', 'compaction_window_unit': 'DAYS', 'compaction_window_size': 1}");
  }

  /** The migrations, in order. */
  public List<Migration> migrations() {
    return List.of(
        new Migration(1, "tables of the first release", c -> run(c, v1Statements())),
        new Migration(2, "messages in time buckets, slim dedupe rows with a TTL; version 1's copied",
            c -> run(c, v2Statements()).compose(v -> new MessageMigration(c, names, bucketMs, dedupeTtlS).run())),
        new Migration(3, "keys of retries stored ahead of their first attempt, per log partition",
            c -> run(c, v3Statements())));
  }

  /**
   * Brings the keyspace to the newest version (see the class comment); completes when every
   * migration is done, by this starter or another. Safe to call from several nodes at once.
   */
  public Future<Void> apply(Vertx vertx, CassandraClient client) {
    String me = UUID.randomUUID().toString();
    Future<Void> chain = run(client, bootstrapStatements());
    for (Migration m : migrations()) {
      chain = chain.compose(v -> ensure(vertx, client, m, me));
    }
    return chain;
  }

  /** The versions recorded as done, in order (tests, operators). */
  public Future<List<Integer>> doneVersions(CassandraClient client) {
    return client.executeWithFullFetch("SELECT version, done_at FROM " + names.schemaVersion()).map(rows -> {
      List<Integer> out = new ArrayList<>();
      for (Row r : rows) {
        if (!r.isNull("done_at")) {
          out.add(r.getInt("version"));
        }
      }
      out.sort(null);
      return out;
    });
  }

  private Future<Void> ensure(Vertx vertx, CassandraClient client, Migration m, String me) {
    return claimRow(client, m).compose(row -> {
      if (row != null && !row.isNull("done_at")) {
        return Future.succeededFuture();
      }
      if (row != null) {
        return awaitDone(vertx, client, m, me);
      }
      return lwt(client, SimpleStatement.newInstance("INSERT INTO " + names.schemaVersion()
              + " (version, description, owner, claimed_at) VALUES (?, ?, ?, ?) IF NOT EXISTS",
              m.version(), m.description(), me, System.currentTimeMillis()))
          .compose(won -> won ? runClaimed(vertx, client, m, me) : awaitDone(vertx, client, m, me));
    });
  }

  /** Runs a migration this starter holds the claim of, renewing the claim meanwhile, then marks it done. */
  private Future<Void> runClaimed(Vertx vertx, CassandraClient client, Migration m, String me) {
    LOG.info("schema of keyspace {}: applying version {} ({})", names.keyspace(), m.version(), m.description());
    long t0 = System.nanoTime();
    long renew = vertx.setPeriodic(LEASE_MS / 4, id -> lwt(client, SimpleStatement.newInstance("UPDATE "
            + names.schemaVersion() + " SET claimed_at = ? WHERE version = ? IF owner = ?",
            System.currentTimeMillis(), m.version(), me))
        .onFailure(e -> LOG.warn("schema version {}: renewing the claim failed: {}", m.version(), e.toString())));
    Future<Void> work;
    try {
      work = m.run().apply(client);
    } catch (RuntimeException e) {
      work = Future.failedFuture(e);
    }
    return work.eventually(() -> {
          vertx.cancelTimer(renew);
          return Future.succeededFuture();
        })
        .compose(v -> lwt(client, SimpleStatement.newInstance("UPDATE " + names.schemaVersion()
            + " SET done_at = ? WHERE version = ? IF owner = ?", System.currentTimeMillis(), m.version(), me)))
        .compose(marked -> {
          if (!marked) {
            // another starter took the claim over meanwhile (ours looked dead): its run decides
            return awaitDone(vertx, client, m, me);
          }
          LOG.info("schema of keyspace {}: version {} done in {} ms", names.keyspace(), m.version(),
              (System.nanoTime() - t0) / 1_000_000);
          return Future.succeededFuture();
        });
  }

  /** Waits until another starter marked the migration done, taking its claim over if it stops renewing it. */
  private Future<Void> awaitDone(Vertx vertx, CassandraClient client, Migration m, String me) {
    Promise<Void> tick = Promise.promise();
    vertx.setTimer(POLL_MS, id -> tick.complete());
    return tick.future().compose(v -> claimRow(client, m)).compose(row -> {
      if (row == null) {
        return ensure(vertx, client, m, me);
      }
      if (!row.isNull("done_at")) {
        return Future.succeededFuture();
      }
      long claimedAt = row.getLong("claimed_at");
      if (claimedAt > System.currentTimeMillis() - LEASE_MS) {
        return awaitDone(vertx, client, m, me);
      }
      LOG.warn("schema version {}: the claim of {} was not renewed for {} ms, taking it over", m.version(),
          row.getString("owner"), LEASE_MS);
      return lwt(client, SimpleStatement.newInstance("UPDATE " + names.schemaVersion()
              + " SET owner = ?, claimed_at = ? WHERE version = ? IF owner = ? AND claimed_at = ?",
              me, System.currentTimeMillis(), m.version(), row.getString("owner"), claimedAt))
          .compose(won -> won ? runClaimed(vertx, client, m, me) : awaitDone(vertx, client, m, me));
    });
  }

  /** The migration's row of {@code schema_version}, or null. */
  private Future<Row> claimRow(CassandraClient client, Migration m) {
    return client.executeWithFullFetch(SimpleStatement.newInstance("SELECT owner, claimed_at, done_at FROM "
            + names.schemaVersion() + " WHERE version = ?", m.version()))
        .map(rows -> rows.isEmpty() ? null : rows.get(0));
  }

  /** Runs a conditional statement; completes with whether it was applied. */
  private static Future<Boolean> lwt(CassandraClient client, SimpleStatement statement) {
    return client.execute(statement).map(ResultSet::wasApplied);
  }

  /** Runs statements one after the other. */
  private static Future<Void> run(CassandraClient client, List<String> cql) {
    Future<?> chain = Future.succeededFuture();
    for (String statement : cql) {
      chain = chain.compose(v -> client.execute(statement));
    }
    return chain.mapEmpty();
  }

  /** Drops the keyspace and everything in it (tests). */
  public Future<Void> drop(CassandraClient client) {
    return client.execute("DROP KEYSPACE IF EXISTS " + names.keyspace()).mapEmpty();
  }
}
