package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.vertx.cassandra.CassandraClient;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per log partition, the (sender, client msg id)s of sends stored under their own id although the
 * client marked them as a retry ({@code "first": false}): a retry that reached the log before its
 * first attempt, or whose first attempt never did. Only such a key can already have an original
 * when its first attempt ({@code "first": true}) is routed, so {@link CassandraMessageArchive}
 * skips the dedupe read of a first attempt whose key is not here, and reads it (finding the
 * retry's original) when it is.
 *
 * <p>Why that is enough: a (sender, msg id) belongs to one conversation, so all its copies share a
 * log partition and are routed in log order by the partition's one owner. When the first attempt
 * is routed, its key's original, if any, is a copy logged before it; its earliest such copy was
 * stored under its own id, and, being a retry, put its key here, in the same write as its dedupe
 * row, before its batch was committed. A new owner of the partition {@link #ready loads} the
 * partition's keys before it routes any of its records: every committed record's key is then
 * known, and the uncommitted ones it routes again itself (a retry routed again as the same record
 * puts its key here again).
 *
 * <p>The keys live in memory for the partitions this node routes, and in {@code message_ahead}
 * with the dedupe TTL ({@code cassandra.dedupe_ttl_s}: past it, the dedupe row is gone too). Only
 * retries whose first attempt came late or never put a key here: a few per client failure, so the
 * sets are small; expired keys are swept every minute. Event-loop confinement: the archive's.
 */
final class AheadKeys {
  private static final Logger LOG = LoggerFactory.getLogger(AheadKeys.class);
  private static final long SWEEP_EVERY_MS = 60_000;

  private final CassandraClient client;
  private final PreparedStatement select;
  private final PreparedStatement insert;
  private final int ttlS;
  private final Map<Integer, Partition> partitions = new HashMap<>();
  private long nextSweep;

  /** One partition's keys, as loaded for one ownership of it. */
  private static final class Partition {
    final long token;
    final Future<Void> loaded;
    /** Key ({@link #key}) → expiry (epoch ms). */
    final Map<String, Long> keys = new HashMap<>();

    Partition(long token, Future<Void> loaded) {
      this.token = token;
      this.loaded = loaded;
    }
  }

  AheadKeys(CassandraClient client, PreparedStatement select, PreparedStatement insert, int ttlS) {
    this.client = client;
    this.select = select;
    this.insert = insert;
    this.ttlS = ttlS;
  }

  static String key(String sender, String msgId) {
    return sender + '\0' + msgId;
  }

  /**
   * Loads the keys of each of {@code logPartitions} this node owns and has not loaded for its
   * current ownership ({@code ownership}: {@link io.parley.routing.LogSource#ownership}); a
   * partition given up and assigned back is loaded again (its other owner may have added keys).
   * Completes when all are loaded, or fails (the caller's persist fails and is retried).
   */
  Future<Void> ready(Set<Integer> logPartitions, IntToLongFunction ownership) {
    sweep();
    List<Future<Void>> loads = new ArrayList<>();
    for (int p : logPartitions) {
      long token = ownership.applyAsLong(p);
      if (token < 0) {
        continue;
      }
      Partition known = partitions.get(p);
      if (known == null || known.token != token || known.loaded.failed()) {
        known = load(p, token);
      }
      loads.add(known.loaded);
    }
    return Future.all(loads).mapEmpty();
  }

  private Partition load(int p, long token) {
    long t0 = System.nanoTime();
    Partition[] holder = new Partition[1];
    Future<Void> loaded = client.executeWithFullFetch(select.bind(p)).map(rows -> {
      long now = System.currentTimeMillis();
      for (Row r : rows) {
        long left = r.isNull("ttl") ? ttlS : r.getInt("ttl");
        holder[0].keys.put(key(r.getString("sender"), r.getString("client_msg_id")), now + left * 1000L);
      }
      LOG.info("log partition {}: {} keys of retries stored ahead of their first attempt loaded in {} ms", p, rows.size(),
          (System.nanoTime() - t0) / 1_000_000);
      return null;
    });
    holder[0] = new Partition(token, loaded);
    partitions.put(p, holder[0]);
    return holder[0];
  }

  /**
   * Whether the first attempt at (sender, msg id) in {@code logPartition} must be looked up: its
   * key is here, or the partition's keys are not loaded for its current ownership {@code token}
   * (then nothing is known, and everything is looked up).
   */
  boolean mustLookUp(int logPartition, long token, String sender, String msgId) {
    Partition known = partitions.get(logPartition);
    if (token < 0 || known == null || known.token != token || !known.loaded.succeeded()) {
      return true;
    }
    Long expiry = known.keys.get(key(sender, msgId));
    return expiry != null && expiry > System.currentTimeMillis();
  }

  /**
   * Notes a retry stored under its own id, and returns the write that records it (to go with the
   * batch's dedupe rows).
   */
  WriteBatches.Unit add(int logPartition, long token, String sender, String msgId, long conv) {
    Partition known = partitions.get(logPartition);
    if (known != null && known.token == token) {
      known.keys.put(key(sender, msgId), System.currentTimeMillis() + ttlS * 1000L);
    }
    return WriteBatches.Unit.of(insert.bind(logPartition, sender, msgId, conv, ttlS), sender, msgId);
  }

  /** Keys held in memory for {@code logPartition} (tests). */
  int size(int logPartition) {
    Partition known = partitions.get(logPartition);
    return known == null ? 0 : known.keys.size();
  }

  private void sweep() {
    long now = System.currentTimeMillis();
    if (now < nextSweep) {
      return;
    }
    nextSweep = now + SWEEP_EVERY_MS;
    partitions.values().forEach(p -> p.keys.values().removeIf(expiry -> expiry <= now));
  }
}
