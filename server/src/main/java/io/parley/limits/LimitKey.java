package io.parley.limits;

import java.util.Objects;

/**
 * The bucket a rate limit applies to: whose ({@code user}) and what ({@code bucket}). Every bucket
 * name is built here, by the factories, and nowhere else. A bucket belongs to one user so that a
 * shared adapter can keep all of a user's buckets together (in Redis: in the user's hash-tag slot).
 */
public record LimitKey(String user, String bucket) {

  public LimitKey {
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(bucket, "bucket");
    if (bucket.isEmpty() || bucket.indexOf('{') >= 0 || bucket.indexOf('}') >= 0) {
      throw new IllegalArgumentException("bucket must be non-empty and without braces: '" + bucket + "'");
    }
  }

  /** The user's sends, over all of the user's connections and nodes. */
  public static LimitKey send(String user) {
    return new LimitKey(user, "send");
  }

  /** The user's typing signals in one conversation, over all of the user's connections and nodes. */
  public static LimitKey typing(String user, long conv) {
    return new LimitKey(user, "typing:" + conv);
  }
}
