package io.parley.push;

import io.vertx.core.Future;

/** One push provider (Web Push and FCM now; APNs later): delivers a notification to one registered device. */
public interface ProviderSender {

  /** The provider's name in registrations: {@link PushRegistration#WEBPUSH}, … */
  String provider();

  /**
   * Sends {@code payload} (the notification's JSON, {@link PushPayload}) to the device. The future
   * fails only on a transport error; the provider's answer is the {@link Outcome}.
   *
   * @param conv the conversation, which keys the provider's collapse mechanism
   */
  Future<Outcome> send(PushRegistration device, long conv, String payload);

  enum Outcome {
    /** The provider accepted the notification. */
    ACCEPTED,
    /** The provider says the registration no longer exists: it is removed. */
    GONE,
    /** Any other answer (throttled, server error, refused): counted and logged. */
    FAILED
  }
}
