package io.parley.storage.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksDB;
import org.rocksdb.util.Environment;

/**
 * {@link RocksLibrary#copyOf}: the native library is copied out of the jar once, byte for byte, and
 * the copy is reused while intact; a damaged copy is written again; a resource that is not in a jar
 * is refused (the load then falls back to RocksDB's own). Loading itself is once per JVM, so the
 * storage tests cover it.
 */
class RocksLibraryTest {
  private static final String LIBRARY = Environment.getJniLibraryFileName("rocksdb");
  private final ClassLoader loader = RocksDB.class.getClassLoader();

  private byte[] inJar() throws IOException {
    try (InputStream in = loader.getResourceAsStream(LIBRARY)) {
      return in.readAllBytes();
    }
  }

  @Test
  void copiedOnceAndReusedWhileIntact(@TempDir Path dir) throws Exception {
    Path copy = RocksLibrary.copyOf(dir, LIBRARY, loader);
    assertThat(copy).startsWith(dir);
    assertThat(copy.getFileName().toString()).isEqualTo(Environment.getJniLibraryFileName("rocksdbjni"));
    byte[] expected = inJar();
    assertThat(Arrays.equals(Files.readAllBytes(copy), expected)).as("the jar's bytes").isTrue();

    FileTime written = FileTime.fromMillis(1_000_000);
    Files.setLastModifiedTime(copy, written);
    assertThat(RocksLibrary.copyOf(dir, LIBRARY, loader)).isEqualTo(copy);
    assertThat(Files.getLastModifiedTime(copy)).as("not written again").isEqualTo(written);
    try (var files = Files.list(copy.getParent())) {
      assertThat(files.toList()).as("no partial file left").containsExactly(copy);
    }

    byte[] damaged = expected.clone();
    damaged[damaged.length / 2] ^= 1;
    Files.write(copy, damaged);
    assertThat(RocksLibrary.copyOf(dir, LIBRARY, loader)).isEqualTo(copy);
    assertThat(Arrays.equals(Files.readAllBytes(copy), expected)).as("a damaged copy is replaced").isTrue();
  }

  @Test
  void onlyAResourceInAJarIsCopied(@TempDir Path dir) throws Exception {
    Path classes = dir.resolve("classes");
    Files.createDirectories(classes);
    Files.writeString(classes.resolve("lib.so"), "not a library");
    ClassLoader plain = new java.net.URLClassLoader(new java.net.URL[] {classes.toUri().toURL()}, null);
    assertThatThrownBy(() -> RocksLibrary.copyOf(dir.resolve("cache"), "lib.so", plain)).isInstanceOf(IOException.class)
        .hasMessageContaining("not in a jar");
    assertThatThrownBy(() -> RocksLibrary.copyOf(dir.resolve("cache"), "missing.so", plain)).isInstanceOf(IOException.class);
  }
}
