package io.parley.push;

import io.vertx.core.json.JsonObject;

/**
 * One device's push registration: where a provider reaches that device of that user.
 *
 * @param provider {@code apns}, {@code fcm} or {@code webpush}
 * @param address the provider's address of the device: the APNs or FCM token, or the Web Push
 *     endpoint URL; an address belongs to one (user, device) at a time
 * @param params the provider's other fields as a JSON object: APNs {@code topic} and
 *     {@code sandbox}; Web Push {@code p256dh} and {@code auth}; FCM none
 * @param registeredAt epoch millis when this address was first registered for this device
 * @param lastSeen epoch millis of the device's latest registration (apps register at every start)
 */
public record PushRegistration(String user, String device, String provider, String address, JsonObject params,
    long registeredAt, long lastSeen) {

  public static final String APNS = "apns";
  public static final String FCM = "fcm";
  public static final String WEBPUSH = "webpush";

  /** The registration as stored: everything but user and device (the key). */
  public JsonObject toStored() {
    return new JsonObject().put("provider", provider).put("address", address).put("params", params)
        .put("registered_at", registeredAt).put("last_seen", lastSeen);
  }

  public static PushRegistration fromStored(String user, String device, JsonObject stored) {
    return new PushRegistration(user, device, stored.getString("provider"), stored.getString("address"),
        stored.getJsonObject("params", new JsonObject()), stored.getLong("registered_at"), stored.getLong("last_seen"));
  }

  /** This registration re-registered at {@code now}: the first registration time stays when the address did. */
  public PushRegistration replacing(PushRegistration previous) {
    if (previous != null && previous.provider.equals(provider) && previous.address.equals(address)) {
      return new PushRegistration(user, device, provider, address, params, previous.registeredAt, lastSeen);
    }
    return this;
  }
}
