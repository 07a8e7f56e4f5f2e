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
import java.util.concurrent.Callable;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * Push registrations in RocksDB: family {@code push_devices} (user, device → registration) and
 * family {@code push_addresses} (provider, address → its holder). Every change runs on the
 * single-thread metadata executor, so moving an address and the per-user cap are atomic; reads run
 * on the reader pool (a change is one write batch, so a read sees it whole or not at all), off the
 * metadata thread that conversation changes need.
 */
public final class RocksPushRegistrations implements PushRegistrations {
  private final RocksStorage storage;
  private final WorkerExecutor meta;
  private final WorkerExecutor readers;
  private final ColumnFamilyHandle devices;
  private final ColumnFamilyHandle addresses;

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
        if (holder != null && !Arrays.equals(holder, key)) {
          wb.delete(devices, holder); // the address moves: its previous holder has no registration left
        }
        if (previous != null && !Arrays.equals(addressKey(previous.provider(), previous.address()), addressKey)) {
          wb.delete(addresses, addressKey(previous.provider(), previous.address()));
        }
        wb.put(addresses, addressKey, key);
        wb.put(devices, key, utf8(stored.toStored().encode()));
        storage.db.write(storage.durableWrites(), wb);
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
      return true;
    });
  }

  @Override
  public Future<List<PushRegistration>> list(String user) {
    return read(() -> listOf(user));
  }

  @Override
  public Future<Map<String, List<PushRegistration>>> listAll(Collection<String> users) {
    return read(() -> {
      Map<String, List<PushRegistration>> out = new HashMap<>();
      for (String u : new LinkedHashSet<>(users)) {
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
