package io.parley.push;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.config.ConfigException;
import io.parley.config.PushSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link VapidKeys}: written and read back (mode 600); generated once into the data dir on the
 * embedded profile and the same key on the next start; off on the cluster profile without a file,
 * and off wherever {@code push.webpush.enabled} is false; a
 * broken or mismatched file is a configuration error naming the key; the public key is a 65-byte
 * uncompressed point.
 */
class VapidKeysTest {
  @TempDir
  Path dir;

  private static PushSettings settings(String file) {
    return settings(file, true);
  }

  private static PushSettings settings(String file, boolean enabled) {
    return new PushSettings(10, 0, file, "", "", "", "https://fcm.googleapis.com", enabled, "", 25, "parley@localhost",
        "OPTIONAL", "", "", "", "", "", "", "https://api.push.apple.com", "https://api.sandbox.push.apple.com", "");
  }

  @Test
  void generatedOnceOnTheEmbeddedProfile() throws Exception {
    VapidKeys first = VapidKeys.resolve(settings(""), "embedded", dir).orElseThrow();
    VapidKeys again = VapidKeys.resolve(settings(""), "embedded", dir).orElseThrow();

    assertThat(again.publicKeyBase64Url()).isEqualTo(first.publicKeyBase64Url());
    assertThat(Base64.getUrlDecoder().decode(first.publicKeyBase64Url())).hasSize(65).startsWith((byte) 4);
    Path file = dir.resolve(VapidKeys.GENERATED_FILE);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    assertThat(VapidKeys.resolve(settings(file.toString()), "cluster", dir.resolve("other")).orElseThrow()
        .publicKeyBase64Url()).isEqualTo(first.publicKeyBase64Url());
  }

  @Test
  void offOnTheClusterProfileWithoutAFile() {
    assertThat(VapidKeys.resolve(settings(""), "cluster", dir)).isEmpty();
    assertThat(dir.resolve(VapidKeys.GENERATED_FILE)).doesNotExist();
  }

  @Test
  void offWhenDisabledEvenWithAFileOrOnTheEmbeddedProfile() throws Exception {
    Path file = dir.resolve("given.pem");
    VapidKeys.generate().write(file);
    assertThat(VapidKeys.resolve(settings("", false), "embedded", dir)).isEmpty();
    assertThat(dir.resolve(VapidKeys.GENERATED_FILE)).as("nothing generated").doesNotExist();
    assertThat(VapidKeys.resolve(settings(file.toString(), false), "cluster", dir)).isEmpty();
  }

  @Test
  void badFilesNameTheKey() throws Exception {
    Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a key");
    assertThatThrownBy(() -> VapidKeys.resolve(settings(garbage.toString()), "cluster", dir))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("push.webpush.vapid_key_file:");
    assertThatThrownBy(() -> VapidKeys.resolve(settings(dir.resolve("missing.pem").toString()), "embedded", dir))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("push.webpush.vapid_key_file:");

    // the private key of one pair with the public key of another
    Path a = dir.resolve("a.pem");
    Path b = dir.resolve("b.pem");
    VapidKeys.generate().write(a);
    VapidKeys.generate().write(b);
    String mixed = Files.readString(a).split("-----BEGIN PUBLIC KEY-----")[0]
        + "-----BEGIN PUBLIC KEY-----" + Files.readString(b).split("-----BEGIN PUBLIC KEY-----")[1];
    Path m = Files.writeString(dir.resolve("mixed.pem"), mixed);
    assertThatThrownBy(() -> VapidKeys.resolve(settings(m.toString()), "cluster", dir))
        .isInstanceOf(ConfigException.class).hasMessageContaining("does not belong");
  }
}
