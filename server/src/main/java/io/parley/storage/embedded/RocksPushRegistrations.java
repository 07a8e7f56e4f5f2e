package io.parley.storage.embedded;

import static io.parley.storage.embedded.RocksStorage.startsWith;
import static io.parley.storage.embedded.RocksStorage.userKey;
import static io.parley.storage.embedded.RocksStorage.utf8;

import io.parley.protocol.ErrorCode;
import io.parley.protocol.ParleyException;
import io.parley.push.PushRegistration;
import io.parley.push.PushRegistrations;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * Push registrations in RocksDB: family {@code push_devices} (user, device → registration) and
 * family {@code push_addresses} (provider, address → its holder), and family {@code push_emails}
 * (user → the email address digests go to). Every change runs on the
 * single-thread metadata executor, so moving an address and the per-user cap are atomic; reads run
 * on the reader pool (a change is one write batch, so a read sees it whole or not at all), off the
 * metadata thread that conversation changes need.
 *
 * <p>Fan-out hands push every recipient of every message, and nearly all of them have no
 * registration (and are online anyway): a RocksDB iterator per recipient cost every message about
 * 16 µs of server CPU in a 1:1 run where nobody had registered. So the adapter keeps the set of
 * users that have at least one registration in memory (one string per such user), read once from
 * the family on the metadata executor and kept current by the changes, which run there too;
 * {@link #listAll} reads RocksDB only for the users in it.
 */
public final class RocksPushRegistrations implements PushRegistrations {
  private final RocksStorage storage;
  private final WorkerExecutor meta;
  private final WorkerExecutor readers;
  private final ColumnFamilyHandle devices;
  private final ColumnFamilyHandle addresses;
  private final ColumnFamilyHandle emails;
  /** Users with at least one registration; changed only on the metadata executor, after it was read. */
  private final Set<String> registered = ConcurrentHashMap.newKeySet();
  private final Future<Void> loaded;

  /**
   * @param meta a single-thread executor (the conversation store's: one writer of metadata)
   * @param readers the pool reads run on
   */
  public RocksPushRegistrations(RocksStorage storage, WorkerExecutor meta, WorkerExecutor readers) {
    this.storage = storage;
    this.meta = meta;
    this.readers = readers;
    this.devices = storage.cf(RocksStorage.PUSH_DEVICES);
    this.addresses = storage.cf(RocksStorage.PUSH_ADDRESSES);
    this.emails = storage.cf(RocksStorage.PUSH_EMAILS);
    // first on the metadata executor (ordered), so every change sees the set read
    this.loaded = run(() -> {
      try (RocksIterator it = storage.db.newIterator(devices)) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          byte[] k = it.key();
          registered.add(new String(k, 0, indexOfNul(k), StandardCharsets.UTF_8));
        }
      }
      return null;
    });
  }

  @Override
  public Future<PushRegistration> put(PushRegistration r, int maxDevices) {
    return run(() -> {
      byte[] key = userKey(r.user(), utf8(r.device()));
      PushRegistration previous = load(r.user(), r.device());
      if (previous == null && countOf(r.user()) >= maxDevices) {
        throw ParleyException.of(ErrorCode.CONFLICT, "at most " + maxDevices + " devices per user have push registrations");
      }
      PushRegistration stored = r.replacing(previous);
      byte[] addressKey = addressKey(r.provider(), r.address());
      try (WriteBatch wb = new WriteBatch()) {
        byte[] holder = storage.db.get(addresses, addressKey);
        String movedFrom = null;
        if (holder != null && !Arrays.equals(holder, key)) {
          wb.delete(devices, holder); // the address moves: its previous holder has no registration left
          movedFrom = new String(holder, 0, indexOfNul(holder), StandardCharsets.UTF_8);
        }
        if (previous != null && !Arrays.equals(addressKey(previous.provider(), previous.address()), addressKey)) {
          wb.delete(addresses, addressKey(previous.provider(), previous.address()));
        }
        wb.put(addresses, addressKey, key);
        wb.put(devices, key, utf8(stored.toStored().encode()));
        storage.db.write(storage.durableWrites(), wb);
        registered.add(r.user());
        if (movedFrom != null) {
          forgetIfNone(movedFrom);
        }
      }
      return stored;
    });
  }

  @Override
  public Future<Boolean> remove(String user, String device) {
    return run(() -> {
      PushRegistration previous = load(user, device);
      if (previous == null) {
        return false;
      }
      try (WriteBatch wb = new WriteBatch()) {
        wb.delete(devices, userKey(user, utf8(device)));
        wb.delete(addresses, addressKey(previous.provider(), previous.address()));
        storage.db.write(storage.durableWrites(), wb);
      }
      forgetIfNone(user);
      return true;
    });
  }

  @Override
  public Future<Boolean> removeAddress(String provider, String address) {
    return run(() -> {
      byte[] addressKey = addressKey(provider, address);
      byte[] holder = storage.db.get(addresses, addressKey);
      if (holder == null) {
        return false;
      }
      try (WriteBatch wb = new WriteBatch()) {
        wb.delete(addresses, addressKey);
        wb.delete(devices, holder);
        storage.db.write(storage.durableWrites(), wb);
      }
      forgetIfNone(new String(holder, 0, indexOfNul(holder), StandardCharsets.UTF_8));
      return true;
    });
  }

  @Override
  public Future<List<PushRegistration>> list(String user) {
    return read(() -> listOf(user));
  }

  @Override
  public Future<Map<String, List<PushRegistration>>> listAll(Collection<String> users) {
    return loaded.compose(v -> {
      Set<String> some = new LinkedHashSet<>();
      for (String u : users) {
        if (registered.contains(u)) {
          some.add(u);
        }
      }
      return some.isEmpty() ? Future.succeededFuture(Map.of()) : readAll(some);
    });
  }

  private Future<Map<String, List<PushRegistration>>> readAll(Set<String> users) {
    return read(() -> {
      Map<String, List<PushRegistration>> out = new HashMap<>();
      for (String u : users) {
        List<PushRegistration> regs = listOf(u);
        if (!regs.isEmpty()) {
          out.put(u, regs);
        }
      }
      return out;
    });
  }

  @Override
  public Future<Optional<PushRegistration>> owner(String provider, String address) {
    return read(() -> {
      byte[] holder = storage.db.get(addresses, addressKey(provider, address));
      if (holder == null) {
        return Optional.empty();
      }
      int nul = indexOfNul(holder);
      return Optional.ofNullable(load(new String(holder, 0, nul, StandardCharsets.UTF_8),
          new String(holder, nul + 1, holder.length - nul - 1, StandardCharsets.UTF_8)));
    });
  }

  @Override
  public Future<Integer> count(String user) {
    return read(() -> countOf(user));
  }

  @Override
  public Future<Void> putEmail(String user, String email) {
    return run(() -> {
      storage.db.put(emails, storage.durableWrites(), utf8(user), utf8(email));
      return null;
    });
  }

  @Override
  public Future<Optional<String>> email(String user) {
    return read(() -> {
      byte[] v = storage.db.get(emails, utf8(user));
      return v == null ? Optional.empty() : Optional.of(new String(v, StandardCharsets.UTF_8));
    });
  }

  private PushRegistration load(String user, String device) throws RocksDBException {
    byte[] v = storage.db.get(devices, userKey(user, utf8(device)));
    return v == null ? null : PushRegistration.fromStored(user, device, new JsonObject(new String(v, StandardCharsets.UTF_8)));
  }

  private List<PushRegistration> listOf(String user) {
    List<PushRegistration> out = new ArrayList<>();
    byte[] prefix = userKey(user, new byte[0]);
    try (RocksIterator it = storage.db.newIterator(devices)) {
      for (it.seek(prefix); it.isValid() && startsWith(it.key(), prefix); it.next()) {
        byte[] k = it.key();
        String device = new String(k, prefix.length, k.length - prefix.length, StandardCharsets.UTF_8);
        out.add(PushRegistration.fromStored(user, device, new JsonObject(new String(it.value(), StandardCharsets.UTF_8))));
      }
    }
    return out;
  }

  /** On the metadata executor, after a change that may have left {@code user} without registrations. */
  private void forgetIfNone(String user) {
    if (countOf(user) == 0) {
      registered.remove(user);
    }
  }

  private int countOf(String user) {
    int n = 0;
    byte[] prefix = userKey(user, new byte[0]);
    try (RocksIterator it = storage.db.newIterator(devices)) {
      for (it.seek(prefix); it.isValid() && startsWith(it.key(), prefix); it.next()) {
        n++;
      }
    }
    return n;
  }

  /** Provider + NUL + address (provider names never contain NUL). */
  private static byte[] addressKey(String provider, String address) {
    return userKey(provider, utf8(address));
  }

  private static int indexOfNul(byte[] b) {
    for (int i = 0; i < b.length; i++) {
      if (b[i] == 0) {
        return i;
      }
    }
    throw new IllegalStateException("push address holder without separator");
  }

  private <T> Future<T> run(Callable<T> op) {
    return meta.executeBlocking(op, true);
  }

  private <T> Future<T> read(Callable<T> op) {
    return readers.executeBlocking(op, false);
  }
}
