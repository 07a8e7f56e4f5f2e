package io.parley.storage.embedded;

import io.vertx.core.Context;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.ConfigOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.HashLinkedListMemTableConfig;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded profile's one RocksDB database under the data dir, with a column family per table.
 * Every RocksDB call blocks, so callers make them on worker executors, never on an event loop;
 * the blocking methods here ({@link #open}, {@link #idFloor}, {@link #close} and the package's
 * helpers) fail with an {@link IllegalStateException} when called on one. Writes of acked data go through
 * {@link #durableWrites()}: the WAL is synced when {@code storage.fsync} is on (the default), and
 * always written before a write returns, so a killed process loses nothing that was acked.
 */
public final class RocksStorage implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RocksStorage.class);

  static final String MESSAGES = "messages";
  static final String DEDUPE = "dedupe";
  /**
   * No longer written: a conversation's newest id is the last key of its range in {@link #MESSAGES}
   * ({@link #lastMessageId}). Kept in the list because RocksDB opens a database only with all of
   * its families, and data dirs written by earlier versions have it.
   */
  static final String CONV_LAST = "conv_last";
  static final String CONVS = "convs";
  static final String MEMBERS = "members";
  static final String MEMBERSHIPS = "memberships";
  static final String DMS = "dms";
  static final String META = "meta";
  /** Push registrations: user + NUL + device → registration ({@link RocksPushRegistrations}). */
  static final String PUSH_DEVICES = "push_devices";
  /** Push addresses: provider + NUL + address → user + NUL + device, the address's one holder. */
  static final String PUSH_ADDRESSES = "push_addresses";
  /** Push's backlog: sequence number (8 bytes, big-endian) → job ({@link RocksPushQueue}). */
  static final String PUSH_QUEUE = "push_queue";
  /** Users' email addresses for push digests: user → address ({@link RocksPushRegistrations}). */
  static final String PUSH_EMAILS = "push_emails";
  private static final String[] FAMILIES = {MESSAGES, DEDUPE, CONV_LAST, CONVS, MEMBERS, MEMBERSHIPS, DMS, META,
      PUSH_DEVICES, PUSH_ADDRESSES, PUSH_QUEUE, PUSH_EMAILS};

  /**
   * The longest dedupe key: a user id (≤ 64 bytes), a separator and a msg_id (≤ 64 characters, up
   * to 4 bytes each in UTF-8). The dedupe memtable hashes keys capped at this length, so whole keys.
   */
  static final int DEDUPE_KEY_MAX = 64 + 1 + 4 * 64;
  /** Hash buckets of a dedupe memtable (8 bytes each). */
  static final int DEDUPE_BUCKETS = 1 << 18;
  static final byte[] FLOOR_LOG = "id_floor.log".getBytes(StandardCharsets.UTF_8);
  static final byte[] FLOOR_META = "id_floor.meta".getBytes(StandardCharsets.UTF_8);

  final RocksDB db;
  private final DBOptions dbOptions;
  private final List<ColumnFamilyOptions> cfOptions;
  private final List<ColumnFamilyHandle> handles;
  private final WriteOptions durable;
  private final WriteOptions relaxed;

  static {
    RocksLibrary.load();
  }

  private RocksStorage(RocksDB db, DBOptions dbOptions, List<ColumnFamilyOptions> cfOptions,
      List<ColumnFamilyHandle> handles, boolean fsync) {
    this.db = db;
    this.dbOptions = dbOptions;
    this.cfOptions = cfOptions;
    this.handles = handles;
    this.durable = new WriteOptions().setSync(fsync);
    this.relaxed = new WriteOptions().setSync(false);
  }

  /** Opens (creating when missing) the database under {@code dataDir/rocksdb}. Blocking. */
  public static RocksStorage open(Path dataDir, boolean fsync) {
    requireOffEventLoop("open");
    Path dir = dataDir.resolve("rocksdb");
    try {
      Files.createDirectories(dir);
      ColumnFamilyOptions cfOptions = withCommonSettings(new ColumnFamilyOptions());
      ColumnFamilyOptions messagesOptions = messagesOptions();
      ColumnFamilyOptions dedupeOptions = dedupeOptions();
      List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
      descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions));
      for (String f : FAMILIES) {
        descriptors.add(new ColumnFamilyDescriptor(f.getBytes(StandardCharsets.UTF_8), f.equals(MESSAGES) ? messagesOptions : f.equals(DEDUPE) ? dedupeOptions : cfOptions));
      }
      DBOptions dbOptions = new DBOptions()
          .setCreateIfMissing(true)
          .setCreateMissingColumnFamilies(true)
          .setMaxBackgroundJobs(2)
          // the dedupe family's hash memtable takes no concurrent inserts; the log writer and the
          // metadata writer are the only writers, and a write group's leader applies both in turn
          .setAllowConcurrentMemtableWrite(false)
          .setKeepLogFileNum(3);
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      RocksDB db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
      LOG.info("storage open at {} (fsync={})", dir.toAbsolutePath(), fsync);
      return new RocksStorage(db, dbOptions, List.of(cfOptions, messagesOptions, dedupeOptions), handles, fsync);
    } catch (Exception e) {
      throw new IllegalStateException("cannot open storage at " + dir.toAbsolutePath() + ": " + e.getMessage(), e);
    }
  }

  /**
   * The messages family's options: the common ones plus an insert hint per conversation. Message
   * keys are (conversation, id) and ids only grow, so each new row lands right after the previous
   * one of its conversation; with the hint the memtable starts its search there instead of at the
   * top of the skip list (the log writer spent 13% less CPU at 20,000 msgs/s; docs/benchmarks.md).
   * RocksJava has no setter for this option, so it goes through an option string.
   */
  private static ColumnFamilyOptions messagesOptions() {
    Properties hint = new Properties();
    hint.setProperty("memtable_insert_with_hint_prefix_extractor", "rocksdb.FixedPrefix.8");
    ColumnFamilyOptions options;
    try (ConfigOptions config = new ConfigOptions()) {
      options = ColumnFamilyOptions.getColumnFamilyOptionsFromProps(config, hint);
    }
    if (options == null) {
      throw new IllegalStateException("RocksDB refused the option memtable_insert_with_hint_prefix_extractor");
    }
    return withCommonSettings(options);
  }

  /**
   * The dedupe family's options: the common ones plus a Bloom filter over the memtable's whole
   * keys. Nearly every send looks up a msg_id that is not there, and without the filter each miss
   * searched the memtable's skip list (a quarter of the log writer's CPU at 20,000 msgs/s;
   * docs/benchmarks.md). The filter takes 5% of the memtable's size.
   */
  private static ColumnFamilyOptions dedupeOptions() {
    return withCommonSettings(new ColumnFamilyOptions())
        .useCappedPrefixExtractor(DEDUPE_KEY_MAX)
        .setMemTableConfig(new HashLinkedListMemTableConfig().setBucketCount(DEDUPE_BUCKETS))
        .setMemtableWholeKeyFiltering(true)
        .setMemtablePrefixBloomSizeRatio(0.05);
  }

  /**
   * What every family has: level-style compaction, and Bloom filters, which make the per-send
   * dedupe look-up of a new msg_id (nearly always a miss) cheap.
   */
  private static ColumnFamilyOptions withCommonSettings(ColumnFamilyOptions options) {
    return options.optimizeLevelStyleCompaction()
        .setTableFormatConfig(new BlockBasedTableConfig().setFilterPolicy(new BloomFilter(10)));
  }

  ColumnFamilyHandle cf(String name) {
    for (int i = 0; i < FAMILIES.length; i++) {
      if (FAMILIES[i].equals(name)) {
        return handles.get(i + 1);
      }
    }
    throw new IllegalArgumentException(name);
  }

  WriteOptions durableWrites() {
    return durable;
  }

  WriteOptions relaxedWrites() {
    return relaxed;
  }

  /** The highest id either writer has handed out, so a restarted generator never repeats one. */
  public long idFloor() {
    requireOffEventLoop("idFloor");
    try {
      return Math.max(readLong(cf(META), FLOOR_LOG), readLong(cf(META), FLOOR_META));
    } catch (RocksDBException e) {
      throw new IllegalStateException(e);
    }
  }

  long readLong(ColumnFamilyHandle cf, byte[] key) throws RocksDBException {
    requireOffEventLoop("get");
    byte[] v = db.get(cf, key);
    return v == null ? 0 : ByteBuffer.wrap(v).getLong();
  }

  /** The newest message id of a conversation (0 when it has none): the last key of its range. Blocking. */
  long lastMessageId(long conv) {
    requireOffEventLoop("seek");
    try (RocksIterator it = db.newIterator(cf(MESSAGES))) {
      it.seekForPrev(longLongKey(conv, Long.MAX_VALUE));
      return it.isValid() && longAt(it.key(), 0) == conv ? longAt(it.key(), 8) : 0;
    }
  }

  /** Syncs the WAL, flushes memtables and closes. Blocking. */
  @Override
  public void close() {
    requireOffEventLoop("close");
    try {
      db.flushWal(true);
      try (FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
        db.flush(fo, handles);
      }
    } catch (RocksDBException e) {
      LOG.warn("flush on close failed: {}", e.getMessage());
    }
    for (ColumnFamilyHandle h : handles) {
      h.close();
    }
    db.close();
    durable.close();
    relaxed.close();
    dbOptions.close();
    cfOptions.forEach(ColumnFamilyOptions::close);
    LOG.info("storage closed");
  }

  /**
   * Fails when the calling thread is a Vert.x event loop: a RocksDB call there would stall every
   * connection on that loop (a flush or compaction stall can take seconds).
   */
  static void requireOffEventLoop(String what) {
    if (Context.isOnEventLoopThread()) {
      throw new IllegalStateException("RocksDB " + what + " called on event loop thread " + Thread.currentThread().getName()
          + "; use a worker executor");
    }
  }

  static byte[] longKey(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  static byte[] longLongKey(long a, long b) {
    return ByteBuffer.allocate(16).putLong(a).putLong(b).array();
  }

  static long longAt(byte[] b, int offset) {
    return ByteBuffer.wrap(b, offset, 8).getLong();
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** {@code a + 0x00 + b}: user-prefixed keys (user ids never contain NUL). */
  static byte[] userKey(String user, byte[] suffix) {
    byte[] u = utf8(user);
    byte[] k = new byte[u.length + 1 + suffix.length];
    System.arraycopy(u, 0, k, 0, u.length);
    System.arraycopy(suffix, 0, k, u.length + 1, suffix.length);
    return k;
  }

  static boolean startsWith(byte[] key, byte[] prefix) {
    if (key.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (key[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }
}
