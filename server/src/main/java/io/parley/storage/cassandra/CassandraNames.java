package io.parley.storage.cassandra;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Every Cassandra keyspace and table name Parley uses is built here, and only here. Statements
 * name their tables fully qualified ({@code keyspace.table}), so one client session serves any
 * keyspace and every test run can isolate itself in a keyspace of its own.
 */
public final class CassandraNames {
  /** Unquoted CQL identifiers: a letter, then letters, digits or underscores; at most 48 chars. */
  private static final Pattern IDENTIFIER = Pattern.compile("[a-z][a-z0-9_]{0,47}");

  public static final String DEFAULT_KEYSPACE = "parley";

  static final String MESSAGES = "messages";
  static final String CONVERSATIONS = "conversations";
  static final String MEMBERSHIP_BY_USER = "membership_by_user";
  static final String MEMBERS_BY_CONVERSATION = "members_by_conversation";
  static final String DM_PAIRS = "dm_pairs";
  static final String MESSAGE_DEDUPE = "message_dedupe";
  static final String PUSH_DEVICES = "push_devices";
  static final String PUSH_ADDRESSES = "push_addresses";
  static final String PUSH_EMAILS = "push_emails";
  static final String MESSAGES_BY_BUCKET = "messages_by_bucket";
  static final String MESSAGE_BUCKETS = "message_buckets";
  static final String MESSAGE_ORIGINALS = "message_originals";
  static final String SCHEMA_VERSION = "schema_version";
  static final String MESSAGE_AHEAD = "message_ahead";

  private final String keyspace;

  /** @param keyspace lower-case letters, digits and underscores, starting with a letter */
  public CassandraNames(String keyspace) {
    Objects.requireNonNull(keyspace, "keyspace");
    if (!IDENTIFIER.matcher(keyspace).matches()) {
      throw new IllegalArgumentException("cassandra keyspace must match " + IDENTIFIER.pattern() + ": '" + keyspace + "'");
    }
    this.keyspace = keyspace;
  }

  public String keyspace() {
    return keyspace;
  }

  /** Messages by conversation, newest first: schema version 1, read only by the migration to version 2. */
  public String messages() {
    return table(MESSAGES);
  }

  /** One row per conversation: metadata, member count and the inline member set. */
  public String conversations() {
    return table(CONVERSATIONS);
  }

  /** Reverse index: a user's conversations with the user's read mark. */
  public String membershipByUser() {
    return table(MEMBERSHIP_BY_USER);
  }

  /** Members of a conversation, one row each (point look-ups for large groups). */
  public String membersByConversation() {
    return table(MEMBERS_BY_CONVERSATION);
  }

  /** The DM of an ordered pair of users. */
  public String dmPairs() {
    return table(DM_PAIRS);
  }

  /** (sender, client msg id) → the stored message with its frame: schema version 1, read only by the migration. */
  public String messageDedupe() {
    return table(MESSAGE_DEDUPE);
  }

  /** Push registrations by user, one row per device. */
  public String pushDevices() {
    return table(PUSH_DEVICES);
  }

  /** (provider, address) → the (user, device) holding that push address. */
  public String pushAddresses() {
    return table(PUSH_ADDRESSES);
  }

  /** user → the email address push digests go to. */
  public String pushEmails() {
    return table(PUSH_EMAILS);
  }

  /** Messages by (conversation, time bucket), newest first (schema version 2). */
  public String messagesByBucket() {
    return table(MESSAGES_BY_BUCKET);
  }

  /** Per conversation, the id ranges of its buckets: (first id) → bucket, newest first (schema version 2). */
  public String messageBuckets() {
    return table(MESSAGE_BUCKETS);
  }

  /** (sender, client msg id) → the original's (conversation, server id, ts), with a TTL (schema version 2). */
  public String messageOriginals() {
    return table(MESSAGE_ORIGINALS);
  }

  /**
   * Per log partition, the (sender, client msg id)s of retries stored ahead of their first attempt,
   * with a TTL (schema version 3; see {@link AheadKeys}).
   */
  public String messageAhead() {
    return table(MESSAGE_AHEAD);
  }

  /** The schema migrations applied, one row per version (claimed, then done). */
  public String schemaVersion() {
    return table(SCHEMA_VERSION);
  }

  private String table(String name) {
    return keyspace + '.' + name;
  }

  @Override
  public String toString() {
    return keyspace;
  }
}
