package io.parley.push;

import io.vertx.core.Future;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The push registrations of users' devices: at most one per (user, device), and each provider
 * address (token or endpoint) registered to one (user, device) at a time.
 */
public interface PushRegistrations {

  /**
   * Registers (or replaces) the registration of {@code r.user()}'s device {@code r.device()}.
   * Whoever held the same provider address before loses it (a phone that logs in as another user
   * stops getting the first user's pushes). When the device re-registers the address it had, its
   * {@code registeredAt} stays. Fails with {@code conflict} when the user already has
   * {@code maxDevices} other registered devices. Returns the registration as stored.
   */
  Future<PushRegistration> put(PushRegistration r, int maxDevices);

  /** Removes the registration of a device; false when it had none. */
  Future<Boolean> remove(String user, String device);

  /**
   * Removes the registration holding this provider address (a provider said it is gone); false
   * when no registration holds it any more (e.g. the device registered a new one meanwhile).
   */
  Future<Boolean> removeAddress(String provider, String address);

  /** The user's registrations, ordered by device id. */
  Future<List<PushRegistration>> list(String user);

  /** The registrations of each of {@code users} that has any (users without one are absent). */
  Future<Map<String, List<PushRegistration>>> listAll(Collection<String> users);

  /** The registration holding a provider address. */
  Future<Optional<PushRegistration>> owner(String provider, String address);

  /** How many devices of the user have a registration. */
  Future<Integer> count(String user);

  /**
   * Remembers the user's email address (the token's {@code email} claim, seen at connect), for the
   * digest sent instead of pushes that waited too long. Replaces the one remembered before.
   */
  Future<Void> putEmail(String user, String email);

  /** The user's remembered email address, if any. */
  Future<Optional<String>> email(String user);
}
