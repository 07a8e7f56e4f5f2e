package io.parley.push;

import io.vertx.core.Future;

/** One push provider (APNs, FCM, Web Push): delivers a notification to one registered device. */
public interface ProviderSender {

  /** The provider's name in registrations: {@link PushRegistration#WEBPUSH}, … */
  String provider();

  /**
   * Sends {@code payload} (the notification's JSON, {@link PushPayload}) to the device. The future
   * fails only on a transport error (the push is then retried); the provider's answer is the
   * {@link Outcome}.
   *
   * @param conv the conversation, which keys the provider's collapse mechanism
   */
  Future<Outcome> send(PushRegistration device, long conv, String payload);

  /** What the provider's answer means for this push. */
  enum Kind {
    /** The provider accepted the notification. */
    ACCEPTED,
    /** The provider says the registration no longer exists: it is removed, the push is dropped. */
    GONE,
    /**
     * The provider throttles this sender (429): every push to this provider waits until
     * {@link Outcome#retryAfterMs}, or a backoff when it named no time; this one is retried.
     */
    THROTTLED,
    /** A transient failure (5xx): this push is retried with backoff, or at {@link Outcome#retryAfterMs}. */
    RETRY,
    /** The payload is too large (413): it is sent again without the preview. */
    TOO_LARGE,
    /** Refused for good (any other 4xx): counted and logged, the push is dropped. */
    REFUSED
  }

  /**
   * A provider's answer.
   *
   * @param status the HTTP status (0 when there was none)
   * @param retryAfterMs how long the provider asked us to wait ({@code Retry-After}), -1 when it did not
   * @param reason the provider's reason, e.g. {@code BadDeviceToken} or {@code UNREGISTERED} (empty when none)
   */
  record Outcome(Kind kind, int status, long retryAfterMs, String reason) {
    public static final Outcome ACCEPTED = new Outcome(Kind.ACCEPTED, 200, -1, "");

    public static Outcome of(Kind kind, int status, String reason) {
      return new Outcome(kind, status, -1, reason == null ? "" : reason);
    }

    public static Outcome of(Kind kind, int status, long retryAfterMs, String reason) {
      return new Outcome(kind, status, retryAfterMs, reason == null ? "" : reason);
    }

    /**
     * The usual meaning of an HTTP status, for providers without finer detail: 2xx accepted, 413 too
     * large, 429 throttled, 5xx retry, other statuses refused (GONE needs the provider's own rule).
     */
    public static Outcome ofStatus(int status, long retryAfterMs, String reason) {
      Kind kind;
      if (status >= 200 && status < 300) {
        kind = Kind.ACCEPTED;
      } else if (status == 413) {
        kind = Kind.TOO_LARGE;
      } else if (status == 429) {
        kind = Kind.THROTTLED;
      } else if (status >= 500) {
        kind = Kind.RETRY;
      } else {
        kind = Kind.REFUSED;
      }
      return of(kind, status, retryAfterMs, reason);
    }

    public boolean is(Kind k) {
      return kind == k;
    }
  }
}
