package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.ParleyException;
import io.parley.push.PushRegistration;
import io.parley.push.PushRegistrations;
import io.vertx.cassandra.CassandraClient;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Push registrations in Cassandra: {@code push_devices} (a user's devices, one partition per user)
 * and {@code push_addresses} (the holder of each provider address). Registrations are rare, so
 * every operation reads before it writes, without lightweight transactions: two registrations of
 * the same user racing may both pass the device cap (one over at most per racing call), and two
 * holders registering one address at the same instant may both keep a device row until the next
 * registration or a provider's "gone" answer removes the stale one. The address row always names
 * the last writer. {@code push_emails} holds each user's email address for push digests, one row
 * per user, last write wins.
 */
public final class CassandraPushRegistrations implements PushRegistrations {
  private final CassandraClient client;
  private final PreparedStatement selectDevice;
  private final PreparedStatement selectDevices;
  private final PreparedStatement insertDevice;
  private final PreparedStatement deleteDevice;
  private final PreparedStatement selectAddress;
  private final PreparedStatement insertAddress;
  private final PreparedStatement deleteAddress;
  private final PreparedStatement insertEmail;
  private final PreparedStatement selectEmail;

  private CassandraPushRegistrations(CassandraClient client, List<PreparedStatement> p) {
    this.client = client;
    this.selectDevice = p.get(0);
    this.selectDevices = p.get(1);
    this.insertDevice = p.get(2);
    this.deleteDevice = p.get(3);
    this.selectAddress = p.get(4);
    this.insertAddress = p.get(5);
    this.deleteAddress = p.get(6);
    this.insertEmail = p.get(7);
    this.selectEmail = p.get(8);
  }

  /** Prepares the statements (the schema must exist) and returns the ready store. */
  public static Future<CassandraPushRegistrations> create(CassandraClient client, CassandraNames n) {
    String dev = n.pushDevices();
    String addr = n.pushAddresses();
    String cols = "device_id, provider, address, params, registered_at, last_seen";
    List<String> cql = List.of(
        "SELECT " + cols + " FROM " + dev + " WHERE user_id = ? AND device_id = ?",
        "SELECT " + cols + " FROM " + dev + " WHERE user_id = ?",
        "INSERT INTO " + dev + " (user_id, " + cols + ") VALUES (?, ?, ?, ?, ?, ?, ?)",
        "DELETE FROM " + dev + " WHERE user_id = ? AND device_id = ?",
        "SELECT user_id, device_id FROM " + addr + " WHERE provider = ? AND address = ?",
        "INSERT INTO " + addr + " (provider, address, user_id, device_id) VALUES (?, ?, ?, ?)",
        "DELETE FROM " + addr + " WHERE provider = ? AND address = ?",
        "INSERT INTO " + n.pushEmails() + " (user_id, email, updated_at) VALUES (?, ?, ?)",
        "SELECT email FROM " + n.pushEmails() + " WHERE user_id = ?");
    List<Future<PreparedStatement>> prepared = cql.stream().map(client::prepare).toList();
    return Future.all(prepared).map(all -> new CassandraPushRegistrations(client, prepared.stream().map(Future::result).toList()));
  }

  @Override
  public Future<PushRegistration> put(PushRegistration r, int maxDevices) {
    return Future.all(load(r.user(), r.device()), listOf(r.user()), holder(r.provider(), r.address())).compose(all -> {
      PushRegistration previous = all.resultAt(0);
      List<PushRegistration> mine = all.resultAt(1);
      String[] holder = all.resultAt(2);
      if (previous == null && mine.size() >= maxDevices) {
        return Future.failedFuture(ParleyException.of(ErrorCode.CONFLICT,
            "at most " + maxDevices + " devices per user have push registrations"));
      }
      PushRegistration stored = r.replacing(previous);
      List<Future<?>> writes = new ArrayList<>();
      if (holder != null && !(holder[0].equals(r.user()) && holder[1].equals(r.device()))) {
        writes.add(removeDeviceIfAt(holder[0], holder[1], r.provider(), r.address()));
      }
      if (previous != null && !(previous.provider().equals(r.provider()) && previous.address().equals(r.address()))) {
        writes.add(client.execute(deleteAddress.bind(previous.provider(), previous.address())));
      }
      writes.add(client.execute(insertAddress.bind(r.provider(), r.address(), r.user(), r.device())));
      writes.add(client.execute(insertDevice.bind(r.user(), r.device(), r.provider(), r.address(),
          stored.params().encode(), stored.registeredAt(), stored.lastSeen())));
      return Future.all(writes).map(stored);
    });
  }

  /** Deletes the holder's device row if it still holds that address. */
  private Future<Void> removeDeviceIfAt(String user, String device, String provider, String address) {
    return load(user, device).compose(reg -> reg != null && reg.provider().equals(provider) && reg.address().equals(address)
        ? client.execute(deleteDevice.bind(user, device)).mapEmpty()
        : Future.succeededFuture());
  }

  @Override
  public Future<Boolean> remove(String user, String device) {
    return load(user, device).compose(previous -> {
      if (previous == null) {
        return Future.succeededFuture(false);
      }
      return holder(previous.provider(), previous.address()).compose(h -> {
        Future<?> addressGone = h != null && h[0].equals(user) && h[1].equals(device)
            ? client.execute(deleteAddress.bind(previous.provider(), previous.address()))
            : Future.succeededFuture();
        return Future.all(addressGone, client.execute(deleteDevice.bind(user, device))).map(true);
      });
    });
  }

  @Override
  public Future<Boolean> removeAddress(String provider, String address) {
    return holder(provider, address).compose(h -> {
      if (h == null) {
        return Future.succeededFuture(false);
      }
      return Future.all(removeDeviceIfAt(h[0], h[1], provider, address),
          client.execute(deleteAddress.bind(provider, address))).map(true);
    });
  }

  @Override
  public Future<List<PushRegistration>> list(String user) {
    return listOf(user);
  }

  @Override
  public Future<Map<String, List<PushRegistration>>> listAll(Collection<String> users) {
    List<String> distinct = List.copyOf(new LinkedHashSet<>(users));
    List<Future<List<PushRegistration>>> each = distinct.stream().map(this::listOf).toList();
    return Future.all(each).map(all -> {
      Map<String, List<PushRegistration>> out = new HashMap<>();
      for (int i = 0; i < distinct.size(); i++) {
        List<PushRegistration> regs = each.get(i).result();
        if (!regs.isEmpty()) {
          out.put(distinct.get(i), regs);
        }
      }
      return out;
    });
  }

  @Override
  public Future<Optional<PushRegistration>> owner(String provider, String address) {
    return holder(provider, address).compose(h -> h == null
        ? Future.succeededFuture(Optional.<PushRegistration>empty())
        : load(h[0], h[1]).map(reg -> Optional.ofNullable(reg)
            .filter(x -> x.provider().equals(provider) && x.address().equals(address))));
  }

  @Override
  public Future<Integer> count(String user) {
    return listOf(user).map(List::size);
  }

  @Override
  public Future<Void> putEmail(String user, String email) {
    return client.execute(insertEmail.bind(user, email, System.currentTimeMillis())).mapEmpty();
  }

  @Override
  public Future<Optional<String>> email(String user) {
    return client.executeWithFullFetch(selectEmail.bind(user))
        .map(rows -> rows.isEmpty() ? Optional.<String>empty() : Optional.ofNullable(rows.get(0).getString("email")));
  }

  private Future<PushRegistration> load(String user, String device) {
    return client.executeWithFullFetch(selectDevice.bind(user, device))
        .map(rows -> rows.isEmpty() ? null : toRegistration(user, rows.get(0)));
  }

  private Future<List<PushRegistration>> listOf(String user) {
    return client.executeWithFullFetch(selectDevices.bind(user))
        .map(rows -> rows.stream().map(row -> toRegistration(user, row)).toList());
  }

  /** {user, device} holding the address, or null. */
  private Future<String[]> holder(String provider, String address) {
    return client.executeWithFullFetch(selectAddress.bind(provider, address))
        .map(rows -> rows.isEmpty() ? null : new String[] {rows.get(0).getString("user_id"), rows.get(0).getString("device_id")});
  }

  private static PushRegistration toRegistration(String user, Row r) {
    return new PushRegistration(user, r.getString("device_id"), r.getString("provider"), r.getString("address"),
        new JsonObject(r.getString("params")), r.getLong("registered_at"), r.getLong("last_seen"));
  }
}
