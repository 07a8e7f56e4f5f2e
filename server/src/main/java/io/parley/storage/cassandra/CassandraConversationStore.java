package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.history.Conversation;
import io.parley.history.ConversationStore;
import io.parley.history.UserConversation;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.ParleyException;
import io.vertx.cassandra.CassandraClient;
import io.vertx.cassandra.ResultSet;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * Conversations and membership in Cassandra (see {@link CassandraSchema} for the tables).
 *
 * <p>Atomicity, without any lock:
 *
 * <ul>
 *   <li><b>DM get-or-create</b>: a lightweight transaction {@code INSERT ... IF NOT EXISTS} on
 *       {@code dm_pairs} elects one creator; a loser takes the winner's id from the LWT's answer.
 *       The conversation's rows are written after the pair by the winner; a caller that finds the
 *       pair but not yet the conversation waits for it (bounded), then writes the same rows itself
 *       with {@code IF NOT EXISTS} (so a creator that died half-way is repaired, and nothing that
 *       was already there, such as a read mark, is overwritten).
 *   <li><b>Membership changes</b> (add under the cap, remove): a compare-and-set on the
 *       conversation row — {@code UPDATE ... SET members = members ± ?, members_count = ?,
 *       members_version = v + 1 IF members_version = v}. The version (rather than the count)
 *       guards the CAS so an add racing a remove-then-add cannot land on a stale member set with
 *       a count that happens to match. A lost CAS re-reads and retries with jittered backoff, at
 *       most {@value #MAX_ATTEMPTS} times. The row (set + count) is the authority; the two index
 *       tables are written after a successful CAS (a failure there fails the call).
 *   <li><b>markRead</b>: an LWT {@code UPDATE ... SET last_read_id = ? IF last_read_id < ?}; the
 *       mark only rises, and a non-member (no row) is never given one.
 * </ul>
 *
 * <p>Statements are prepared once, in {@link #create}. Everything is asynchronous.
 */
public final class CassandraConversationStore implements ConversationStore {
  static final int MAX_ATTEMPTS = 30;
  private static final int CHUNK = 128;
  private static final int DM_WAIT_ATTEMPTS = 10;

  private final Vertx vertx;
  private final CassandraClient client;
  private final Statements st;

  private record Statements(
      PreparedStatement insertGroup, PreparedStatement insertDmConv, PreparedStatement insertMembership,
      PreparedStatement insertMembershipIfAbsent, PreparedStatement insertMember, PreparedStatement selectConv,
      PreparedStatement selectMembers, PreparedStatement selectIsMember, PreparedStatement selectMemberships,
      PreparedStatement casAdd, PreparedStatement casRemove, PreparedStatement deleteMembership,
      PreparedStatement deleteMember, PreparedStatement markRead, PreparedStatement selectDm,
      PreparedStatement insertDm, PreparedStatement setMuted, PreparedStatement selectMuted) {}

  private CassandraConversationStore(Vertx vertx, CassandraClient client, Statements st) {
    this.vertx = vertx;
    this.client = client;
    this.st = st;
  }

  /** Prepares the statements (the schema must exist) and returns the ready store. */
  public static Future<CassandraConversationStore> create(Vertx vertx, CassandraClient client, CassandraNames n) {
    String conv = n.conversations();
    String byUser = n.membershipByUser();
    String byConv = n.membersByConversation();
    List<String> cql = List.of(
        "INSERT INTO " + conv + " (conversation_id, type, name, owner, created_at, members_count, members_version, "
            + "last_message_id, members) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?)",
        "INSERT INTO " + conv + " (conversation_id, type, name, owner, created_at, members_count, members_version, "
            + "last_message_id, members) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?) IF NOT EXISTS",
        "INSERT INTO " + byUser + " (user_id, conversation_id, joined_at, last_read_id, muted) VALUES (?, ?, ?, 0, false)",
        "INSERT INTO " + byUser + " (user_id, conversation_id, joined_at, last_read_id, muted) VALUES (?, ?, ?, 0, false)"
            + " IF NOT EXISTS",
        "INSERT INTO " + byConv + " (conversation_id, user_id, joined_at) VALUES (?, ?, ?)",
        "SELECT type, name, owner, created_at, members_count, members_version, last_message_id, members FROM " + conv
            + " WHERE conversation_id = ?",
        "SELECT members FROM " + conv + " WHERE conversation_id = ?",
        "SELECT user_id FROM " + byConv + " WHERE conversation_id = ? AND user_id = ?",
        "SELECT conversation_id, last_read_id, muted FROM " + byUser + " WHERE user_id = ?",
        "UPDATE " + conv + " SET members = members + ?, members_count = ?, members_version = ? WHERE conversation_id = ?"
            + " IF members_version = ?",
        "UPDATE " + conv + " SET members = members - ?, members_count = ?, members_version = ? WHERE conversation_id = ?"
            + " IF members_version = ?",
        "DELETE FROM " + byUser + " WHERE user_id = ? AND conversation_id = ?",
        "DELETE FROM " + byConv + " WHERE conversation_id = ? AND user_id = ?",
        "UPDATE " + byUser + " SET last_read_id = ? WHERE user_id = ? AND conversation_id = ? IF last_read_id < ?",
        "SELECT conversation_id, owner, created_at FROM " + n.dmPairs() + " WHERE user_lo = ? AND user_hi = ?",
        "INSERT INTO " + n.dmPairs() + " (user_lo, user_hi, conversation_id, owner, created_at) VALUES (?, ?, ?, ?, ?)"
            + " IF NOT EXISTS",
        "UPDATE " + byUser + " SET muted = ? WHERE user_id = ? AND conversation_id = ? IF EXISTS",
        "SELECT muted FROM " + byUser + " WHERE user_id = ? AND conversation_id = ?");
    List<Future<PreparedStatement>> prepared = cql.stream().map(client::prepare).toList();
    return Future.all(prepared).map(all -> {
      List<PreparedStatement> p = prepared.stream().map(Future::result).toList();
      return new CassandraConversationStore(vertx, client, new Statements(p.get(0), p.get(1), p.get(2), p.get(3),
          p.get(4), p.get(5), p.get(6), p.get(7), p.get(8), p.get(9), p.get(10), p.get(11), p.get(12), p.get(13),
          p.get(14), p.get(15), p.get(16), p.get(17)));
    });
  }

  @Override
  public Future<Conversation> createGroup(long id, String name, String owner, Collection<String> users, long now) {
    Set<String> all = new LinkedHashSet<>();
    all.add(owner);
    all.addAll(users);
    // the index rows first: a conversation that can be read has its index rows
    return writeIndexRows(id, List.copyOf(all), now, false)
        .compose(v -> client.execute(st.insertGroup.bind(id, Conversation.GROUP, name, owner, now, all.size(), all)))
        .map(rs -> new Conversation(id, Conversation.GROUP, name, owner, now, all.size(), 0, List.copyOf(all)));
  }

  @Override
  public Future<Created> getOrCreateDm(long newId, String a, String b, long now) {
    String lo = a.compareTo(b) <= 0 ? a : b;
    String hi = a.compareTo(b) <= 0 ? b : a;
    return client.executeWithFullFetch(st.selectDm.bind(lo, hi)).compose(rows -> {
      if (!rows.isEmpty()) {
        return existingDm(rows.get(0), lo, hi);
      }
      return client.execute(st.insertDm.bind(lo, hi, newId, a, now)).compose(rs -> {
        if (rs.wasApplied()) {
          return materializeDm(newId, a, lo, hi, now).map(c -> new Created(c, true));
        }
        return existingDm(rs.one(), lo, hi);
      });
    });
  }

  /** The DM a pair row points at; waits a little for a creator still writing it, then repairs. */
  private Future<Created> existingDm(Row pair, String lo, String hi) {
    long id = pair.getLong("conversation_id");
    String owner = pair.getString("owner");
    long createdAt = pair.getLong("created_at");
    return awaitDm(id, 0)
        .compose(found -> found.isPresent()
            ? Future.succeededFuture(found.get())
            : materializeDm(id, owner, lo, hi, createdAt))
        .map(c -> new Created(c, false));
  }

  private Future<Optional<Conversation>> awaitDm(long id, int attempt) {
    return get(id).compose(found -> {
      if (found.isPresent() || attempt >= DM_WAIT_ATTEMPTS) {
        return Future.succeededFuture(found);
      }
      return vertx.timer(5L + 10L * attempt).compose(t -> awaitDm(id, attempt + 1));
    });
  }

  /** Writes the DM's rows, none overwriting what exists (so the winner and a repairer agree). */
  private Future<Conversation> materializeDm(long id, String owner, String lo, String hi, long createdAt) {
    List<String> pair = List.of(lo, hi);
    return writeIndexRows(id, pair, createdAt, true)
        .compose(v -> client.execute(st.insertDmConv.bind(id, Conversation.DM, null, owner, createdAt, 2, Set.copyOf(pair))))
        .compose(rs -> get(id))
        .map(c -> c.orElseThrow(() -> new IllegalStateException("dm " + id + " vanished")));
  }

  @Override
  public Future<Optional<Conversation>> get(long id) {
    return client.executeWithFullFetch(st.selectConv.bind(id))
        .map(rows -> rows.isEmpty() || rows.get(0).isNull("type") ? Optional.empty() : Optional.of(toConversation(id, rows.get(0))));
  }

  @Override
  public Future<List<String>> members(long conv) {
    return client.executeWithFullFetch(st.selectMembers.bind(conv))
        .map(rows -> rows.isEmpty() ? List.of() : List.copyOf(rows.get(0).getSet("members", String.class)));
  }

  @Override
  public Future<Boolean> isMember(long conv, String user) {
    return client.executeWithFullFetch(st.selectIsMember.bind(conv, user)).map(rows -> !rows.isEmpty());
  }

  @Override
  public Future<Conversation> addMembers(long conv, Collection<String> users, int maxMembers, long now) {
    return addAttempt(conv, List.copyOf(new LinkedHashSet<>(users)), maxMembers, now, 1);
  }

  private Future<Conversation> addAttempt(long conv, List<String> users, int maxMembers, long now, int attempt) {
    return client.executeWithFullFetch(st.selectConv.bind(conv)).compose(rows -> {
      if (rows.isEmpty() || rows.get(0).isNull("type")) {
        return Future.failedFuture(ParleyException.of(ErrorCode.NOT_FOUND, "no conversation " + conv));
      }
      Conversation current = toConversation(conv, rows.get(0));
      long version = rows.get(0).getLong("members_version");
      Set<String> present = Set.copyOf(current.members());
      List<String> fresh = users.stream().filter(u -> !present.contains(u)).toList();
      if (fresh.isEmpty()) {
        return Future.succeededFuture(current);
      }
      int count = current.membersCount() + fresh.size();
      if (count > maxMembers) {
        return Future.failedFuture(
            ParleyException.of(ErrorCode.GROUP_TOO_LARGE, "a group holds at most " + maxMembers + " members"));
      }
      return client.execute(st.casAdd.bind(Set.copyOf(fresh), count, version + 1, conv, version)).compose(rs -> {
        if (!rs.wasApplied()) {
          return retry(attempt, "add members to " + conv, () -> addAttempt(conv, users, maxMembers, now, attempt + 1));
        }
        return writeIndexRows(conv, fresh, now, false)
            .compose(v -> get(conv))
            .map(c -> c.orElseThrow(() -> ParleyException.of(ErrorCode.NOT_FOUND, "no conversation " + conv)));
      });
    });
  }

  @Override
  public Future<Boolean> removeMember(long conv, String user) {
    return removeAttempt(conv, user, 1);
  }

  private Future<Boolean> removeAttempt(long conv, String user, int attempt) {
    return client.executeWithFullFetch(st.selectConv.bind(conv)).compose(rows -> {
      if (rows.isEmpty() || rows.get(0).isNull("type")) {
        return Future.succeededFuture(false);
      }
      Row row = rows.get(0);
      if (!row.getSet("members", String.class).contains(user)) {
        return Future.succeededFuture(false);
      }
      long version = row.getLong("members_version");
      int count = row.getInt("members_count") - 1;
      return client.execute(st.casRemove.bind(Set.of(user), count, version + 1, conv, version)).compose(rs -> {
        if (!rs.wasApplied()) {
          return retry(attempt, "remove " + user + " from " + conv, () -> removeAttempt(conv, user, attempt + 1));
        }
        return Future.all(client.execute(st.deleteMembership.bind(user, conv)), client.execute(st.deleteMember.bind(conv, user)))
            .map(true);
      });
    });
  }

  @Override
  public Future<List<UserConversation>> listForUser(String user) {
    return client.executeWithFullFetch(st.selectMemberships.bind(user)).compose(rows -> {
      List<Future<Optional<UserConversation>>> each = new ArrayList<>(rows.size());
      for (Row r : rows) {
        long conv = r.getLong("conversation_id");
        long lastRead = r.isNull("last_read_id") ? 0L : r.getLong("last_read_id");
        boolean muted = !r.isNull("muted") && r.getBoolean("muted");
        each.add(get(conv).map(c -> c.map(found -> new UserConversation(found, lastRead, muted))));
      }
      return Future.all(each).map(all -> each.stream().map(Future::result).flatMap(Optional::stream).toList());
    });
  }

  @Override
  public Future<Void> markRead(String user, long conv, long serverId) {
    return client.execute(st.markRead.bind(serverId, user, conv, serverId)).mapEmpty();
  }

  /** An LWT ({@code IF EXISTS}) like markRead's: a non-member (no row) is never given one. */
  @Override
  public Future<Boolean> setMuted(String user, long conv, boolean muted) {
    return client.execute(st.setMuted.bind(muted, user, conv)).map(ResultSet::wasApplied);
  }

  @Override
  public Future<Set<String>> mutedAmong(long conv, Collection<String> users) {
    List<String> distinct = List.copyOf(new LinkedHashSet<>(users));
    List<Future<Boolean>> each = distinct.stream()
        .map(u -> client.executeWithFullFetch(st.selectMuted.bind(u, conv))
            .map(rows -> !rows.isEmpty() && !rows.get(0).isNull("muted") && rows.get(0).getBoolean("muted")))
        .toList();
    return Future.all(each).map(all -> {
      Set<String> out = new LinkedHashSet<>();
      for (int i = 0; i < distinct.size(); i++) {
        if (each.get(i).result()) {
          out.add(distinct.get(i));
        }
      }
      return out;
    });
  }

  /** Index rows of new members, in chunks so a large group does not flood the connection. */
  private Future<Void> writeIndexRows(long conv, List<String> users, long now, boolean ifAbsent) {
    PreparedStatement membership = ifAbsent ? st.insertMembershipIfAbsent : st.insertMembership;
    Future<Void> chain = Future.succeededFuture();
    for (int from = 0; from < users.size(); from += CHUNK) {
      List<String> chunk = users.subList(from, Math.min(users.size(), from + CHUNK));
      chain = chain.compose(v -> {
        List<Future<ResultSet>> writes = new ArrayList<>(chunk.size() * 2);
        for (String u : chunk) {
          writes.add(client.execute(membership.bind(u, conv, now)));
          writes.add(client.execute(st.insertMember.bind(conv, u, now)));
        }
        return Future.all(writes).mapEmpty();
      });
    }
    return chain;
  }

  /** Runs {@code again} after a jittered backoff, or fails once the attempts are used up. */
  private <T> Future<T> retry(int attempt, String what, Supplier<Future<T>> again) {
    if (attempt >= MAX_ATTEMPTS) {
      return Future.failedFuture(ParleyException.of(ErrorCode.UNAVAILABLE,
          "gave up after " + attempt + " contended attempts to " + what));
    }
    long delay = 1 + ThreadLocalRandom.current().nextLong(Math.min(50, 2L * attempt));
    return vertx.timer(delay).compose(t -> again.get());
  }

  private static Conversation toConversation(long id, Row r) {
    Set<String> members = r.getSet("members", String.class);
    return new Conversation(id, r.getString("type"), r.getString("name"), r.getString("owner"),
        r.getLong("created_at"), r.getInt("members_count"),
        r.isNull("last_message_id") ? 0L : r.getLong("last_message_id"), List.copyOf(members));
  }
}
