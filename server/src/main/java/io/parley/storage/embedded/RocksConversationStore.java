package io.parley.storage.embedded;

import static io.parley.storage.embedded.RocksStorage.longAt;
import static io.parley.storage.embedded.RocksStorage.longKey;
import static io.parley.storage.embedded.RocksStorage.startsWith;
import static io.parley.storage.embedded.RocksStorage.userKey;
import static io.parley.storage.embedded.RocksStorage.utf8;

import io.parley.history.Conversation;
import io.parley.history.ConversationStore;
import io.parley.history.UserConversation;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.ParleyException;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * Conversations and membership in RocksDB. Every operation runs on one metadata thread, which
 * makes check-then-write operations (DM get-or-create, add under the size cap) atomic.
 */
public final class RocksConversationStore implements ConversationStore {
  private final RocksStorage storage;
  private final WorkerExecutor meta;
  private final ColumnFamilyHandle convs;
  private final ColumnFamilyHandle members;
  private final ColumnFamilyHandle memberships;
  private final ColumnFamilyHandle dms;
  private final ColumnFamilyHandle metaCf;

  /** @param meta a single-thread executor */
  public RocksConversationStore(RocksStorage storage, WorkerExecutor meta) {
    this.storage = storage;
    this.meta = meta;
    this.convs = storage.cf(RocksStorage.CONVS);
    this.members = storage.cf(RocksStorage.MEMBERS);
    this.memberships = storage.cf(RocksStorage.MEMBERSHIPS);
    this.dms = storage.cf(RocksStorage.DMS);
    this.metaCf = storage.cf(RocksStorage.META);
  }

  @Override
  public Future<Conversation> createGroup(long id, String name, String owner, Collection<String> users, long now) {
    return run(() -> {
      Set<String> all = new LinkedHashSet<>();
      all.add(owner);
      all.addAll(users);
      try (WriteBatch wb = new WriteBatch()) {
        writeNew(wb, id, Conversation.GROUP, name, owner, all, now);
        storage.db.write(storage.durableWrites(), wb);
      }
      return new Conversation(id, Conversation.GROUP, name, owner, now, all.size(), 0, List.copyOf(all));
    });
  }

  @Override
  public Future<Created> getOrCreateDm(long newId, String a, String b, long now) {
    return run(() -> {
      byte[] pairKey = dmKey(a, b);
      byte[] existing = storage.db.get(dms, pairKey);
      if (existing != null) {
        return new Created(load(longAt(existing, 0)).orElseThrow(), false);
      }
      Set<String> all = new LinkedHashSet<>(List.of(a, b));
      try (WriteBatch wb = new WriteBatch()) {
        writeNew(wb, newId, Conversation.DM, null, a, all, now);
        wb.put(dms, pairKey, longKey(newId));
        storage.db.write(storage.durableWrites(), wb);
      }
      return new Created(new Conversation(newId, Conversation.DM, null, a, now, 2, 0, List.copyOf(all)), true);
    });
  }

  private void writeNew(WriteBatch wb, long id, String type, String name, String owner, Set<String> all, long now)
      throws RocksDBException {
    wb.put(convs, longKey(id), row(id, type, name, owner, now, all.size()));
    for (String u : all) {
      addMember(wb, id, u, now);
    }
    // creations can reach this thread slightly out of id order: the floor only rises
    wb.put(metaCf, RocksStorage.FLOOR_META, longKey(Math.max(id, storage.readLong(metaCf, RocksStorage.FLOOR_META))));
  }

  private void addMember(WriteBatch wb, long conv, String user, long now) throws RocksDBException {
    wb.put(members, memberKey(conv, user), longKey(now));
    wb.put(memberships, userKey(user, longKey(conv)),
        utf8(new JsonObject().put("joined_at", now).put("last_read_id", 0L).put("muted", false).encode()));
  }

  @Override
  public Future<Optional<Conversation>> get(long id) {
    return run(() -> load(id));
  }

  @Override
  public Future<List<String>> members(long conv) {
    return run(() -> memberList(conv));
  }

  @Override
  public Future<Boolean> isMember(long conv, String user) {
    return run(() -> storage.db.get(members, memberKey(conv, user)) != null);
  }

  @Override
  public Future<Conversation> addMembers(long conv, Collection<String> users, int maxMembers, long now) {
    return run(() -> {
      byte[] rowBytes = storage.db.get(convs, longKey(conv));
      if (rowBytes == null) {
        throw ParleyException.of(ErrorCode.NOT_FOUND, "no conversation " + conv);
      }
      JsonObject row = new JsonObject(new String(rowBytes, StandardCharsets.UTF_8));
      List<String> fresh = new ArrayList<>();
      for (String u : new LinkedHashSet<>(users)) {
        if (storage.db.get(members, memberKey(conv, u)) == null) {
          fresh.add(u);
        }
      }
      int count = row.getInteger("members_count") + fresh.size();
      if (count > maxMembers) {
        throw ParleyException.of(ErrorCode.GROUP_TOO_LARGE, "a group holds at most " + maxMembers + " members");
      }
      if (!fresh.isEmpty()) {
        try (WriteBatch wb = new WriteBatch()) {
          for (String u : fresh) {
            addMember(wb, conv, u, now);
          }
          wb.put(convs, longKey(conv), utf8(row.put("members_count", count).encode()));
          storage.db.write(storage.durableWrites(), wb);
        }
      }
      return load(conv).orElseThrow();
    });
  }

  @Override
  public Future<Boolean> removeMember(long conv, String user) {
    return run(() -> {
      byte[] rowBytes = storage.db.get(convs, longKey(conv));
      if (rowBytes == null || storage.db.get(members, memberKey(conv, user)) == null) {
        return false;
      }
      JsonObject row = new JsonObject(new String(rowBytes, StandardCharsets.UTF_8));
      try (WriteBatch wb = new WriteBatch()) {
        wb.delete(members, memberKey(conv, user));
        wb.delete(memberships, userKey(user, longKey(conv)));
        wb.put(convs, longKey(conv), utf8(row.put("members_count", row.getInteger("members_count") - 1).encode()));
        storage.db.write(storage.durableWrites(), wb);
      }
      return true;
    });
  }

  @Override
  public Future<List<UserConversation>> listForUser(String user) {
    return run(() -> {
      List<UserConversation> out = new ArrayList<>();
      byte[] prefix = userKey(user, new byte[0]);
      try (RocksIterator it = storage.db.newIterator(memberships)) {
        for (it.seek(prefix); it.isValid() && startsWith(it.key(), prefix); it.next()) {
          byte[] k = it.key();
          if (k.length != prefix.length + 8) {
            continue;
          }
          long conv = longAt(k, prefix.length);
          JsonObject m = new JsonObject(new String(it.value(), StandardCharsets.UTF_8));
          long lastRead = m.getLong("last_read_id", 0L);
          boolean muted = m.getBoolean("muted", false);
          load(conv).ifPresent(c -> out.add(new UserConversation(c, lastRead, muted)));
        }
      }
      return out;
    });
  }

  @Override
  public Future<Void> markRead(String user, long conv, long serverId) {
    return run(() -> {
      byte[] key = userKey(user, longKey(conv));
      byte[] v = storage.db.get(memberships, key);
      if (v != null) {
        JsonObject m = new JsonObject(new String(v, StandardCharsets.UTF_8));
        if (serverId > m.getLong("last_read_id", 0L)) {
          storage.db.put(memberships, storage.relaxedWrites(), key, utf8(m.put("last_read_id", serverId).encode()));
        }
      }
      return null;
    });
  }

  @Override
  public Future<Boolean> setMuted(String user, long conv, boolean muted) {
    return run(() -> {
      byte[] key = userKey(user, longKey(conv));
      byte[] v = storage.db.get(memberships, key);
      if (v == null) {
        return false;
      }
      JsonObject m = new JsonObject(new String(v, StandardCharsets.UTF_8));
      storage.db.put(memberships, storage.durableWrites(), key, utf8(m.put("muted", muted).encode()));
      return true;
    });
  }

  @Override
  public Future<Set<String>> mutedAmong(long conv, Collection<String> users) {
    return run(() -> {
      Set<String> out = new LinkedHashSet<>();
      for (String u : users) {
        byte[] v = storage.db.get(memberships, userKey(u, longKey(conv)));
        if (v != null && new JsonObject(new String(v, StandardCharsets.UTF_8)).getBoolean("muted", false)) {
          out.add(u);
        }
      }
      return out;
    });
  }

  private Optional<Conversation> load(long id) throws RocksDBException {
    byte[] rowBytes = storage.db.get(convs, longKey(id));
    if (rowBytes == null) {
      return Optional.empty();
    }
    JsonObject row = new JsonObject(new String(rowBytes, StandardCharsets.UTF_8));
    long last = storage.lastMessageId(id);
    return Optional.of(new Conversation(id, row.getString("type"), row.getString("name"), row.getString("owner"),
        row.getLong("created_at"), row.getInteger("members_count"), last, memberList(id)));
  }

  private List<String> memberList(long conv) {
    List<String> out = new ArrayList<>();
    byte[] prefix = longKey(conv);
    try (RocksIterator it = storage.db.newIterator(members)) {
      for (it.seek(prefix); it.isValid() && startsWith(it.key(), prefix); it.next()) {
        byte[] k = it.key();
        out.add(new String(k, 8, k.length - 8, StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  private static byte[] row(long id, String type, String name, String owner, long now, int count) {
    return utf8(new JsonObject().put("id", id).put("type", type).put("name", name).put("owner", owner)
        .put("created_at", now).put("members_count", count).encode());
  }

  private static byte[] memberKey(long conv, String user) {
    byte[] u = utf8(user);
    byte[] k = new byte[8 + u.length];
    System.arraycopy(longKey(conv), 0, k, 0, 8);
    System.arraycopy(u, 0, k, 8, u.length);
    return k;
  }

  private static byte[] dmKey(String a, String b) {
    return a.compareTo(b) <= 0 ? userKey(a, utf8(b)) : userKey(b, utf8(a));
  }

  private <T> Future<T> run(java.util.concurrent.Callable<T> op) {
    return meta.executeBlocking(op, true);
  }
}
