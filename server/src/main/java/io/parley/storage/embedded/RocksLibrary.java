package io.parley.storage.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import org.rocksdb.RocksDB;
import org.rocksdb.util.Environment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads RocksDB's native library once per JVM, from a copy kept in the node's data directory.
 * {@link RocksDB#loadLibrary()} inflates the library (15 MB) out of the jar into a new temporary file
 * at every start, about 0.3 s of a start on this machine's cores before storage can open; the copy
 * is written once ({@code <dir>/rocksdb-<crc>/}, named by the CRC of the jar's entry, so another
 * RocksDB version gets a directory of its own) and loaded from there at the next start. A copy is
 * used only if its content has the CRC the jar names; anything that goes wrong (a read-only
 * directory, a library not in a jar) falls back to {@link RocksDB#loadLibrary()}.
 */
public final class RocksLibrary {
  private static final Logger LOG = LoggerFactory.getLogger(RocksLibrary.class);
  private static volatile Path cacheDir;

  private RocksLibrary() {}

  /**
   * Where the next load keeps its copy (the node calls this with its data directory before
   * anything opens storage; without it the load is RocksDB's own).
   */
  public static void cacheIn(Path dir) {
    cacheDir = dir;
  }

  /**
   * Loads the library: once per JVM, from {@link RocksStorage}'s class initialisation (which the JVM
   * runs once, so nothing here guards against a second call).
   */
  static void load() {
    Path dir = cacheDir;
    if (dir != null) {
      try {
        Path copy = copyOf(dir, Environment.getJniLibraryFileName("rocksdb"), RocksDB.class.getClassLoader());
        // RocksDB looks for this name in each directory it is given
        RocksDB.loadLibrary(List.of(copy.getParent().toString()));
        return;
      } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
        LOG.warn("RocksDB's library not loaded from {} ({}): loading it from the jar", dir, e.toString());
      }
    }
    RocksDB.loadLibrary();
  }

  /**
   * The copy of {@code resource} (in a jar) under {@code dir}, written if missing or not what the
   * jar holds. Returns its path, named as {@link RocksDB#loadLibrary(List)} looks for it.
   */
  static Path copyOf(Path dir, String resource, ClassLoader loader) throws IOException {
    URL url = loader.getResource(resource);
    if (url == null) {
      throw new IOException(resource + " not on the class path");
    }
    URLConnection connection = url.openConnection();
    if (!(connection instanceof JarURLConnection jar)) {
      throw new IOException(resource + " is not in a jar: " + url);
    }
    JarEntry entry = jar.getJarEntry();
    long crc = entry.getCrc();
    if (crc < 0 || entry.getSize() < 0) {
      throw new IOException(resource + ": the jar names no CRC or size");
    }
    Path target = dir.resolve("rocksdb-" + Long.toHexString(crc)).resolve(Environment.getJniLibraryFileName("rocksdbjni"));
    if (Files.isRegularFile(target) && Files.size(target) == entry.getSize() && crcOf(target) == crc) {
      return target;
    }
    Files.createDirectories(target.getParent());
    Path part = Files.createTempFile(target.getParent(), "part-", ".so");
    try {
      CRC32 written = new CRC32();
      try (InputStream in = new CheckedInputStream(url.openStream(), written)) {
        Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
      }
      if (written.getValue() != crc) {
        throw new IOException(resource + ": the copy's CRC differs from the jar's");
      }
      Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(part);
    }
    LOG.info("RocksDB's native library copied to {} (loaded from there from now on)", target);
    return target;
  }

  private static long crcOf(Path file) throws IOException {
    CRC32 crc = new CRC32();
    try (InputStream in = new CheckedInputStream(Files.newInputStream(file), crc)) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
    }
    return crc.getValue();
  }
}
