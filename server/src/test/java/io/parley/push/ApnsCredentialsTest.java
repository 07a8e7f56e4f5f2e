package io.parley.push;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.config.ConfigException;
import io.parley.config.PushSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ApnsCredentials}: the {@code .p8} key with the configured key id and team id, and the CA
 * file when one is named; APNs is off without a key file; a file that is not a P-256 private key,
 * or a CA file without a certificate, is a configuration error naming the key; the key is never in
 * its string.
 */
class ApnsCredentialsTest {
  static MockApns apns;
  @TempDir
  Path dir;

  @BeforeAll
  static void start() throws Exception {
    apns = new MockApns();
  }

  @AfterAll
  static void stop() {
    apns.close();
  }

  private static PushSettings settings(String keyFile, String caFile) {
    return new PushSettings(10, 0, "", "", "", "", "https://fcm.googleapis.com", true, "", 25, "parley@localhost",
        "OPTIONAL", "", "", keyFile, keyFile.isEmpty() ? "" : MockApns.KEY_ID,
        keyFile.isEmpty() ? "" : MockApns.TEAM_ID, "", "https://api.push.apple.com", "https://api.sandbox.push.apple.com", caFile);
  }

  @Test
  void theKeyFileWithItsIdsAndTheCaFile() throws Exception {
    Path key = apns.writeKeyFile(dir.resolve("AuthKey.p8"));
    ApnsCredentials c = ApnsCredentials.resolve(settings(key.toString(), "")).orElseThrow();
    assertThat(c.keyId()).isEqualTo(MockApns.KEY_ID);
    assertThat(c.teamId()).isEqualTo(MockApns.TEAM_ID);
    assertThat(c.privateKeyPem()).isEqualTo(Files.readString(key));
    assertThat(c.trustedCaPem()).as("the JDK's trust store").isEmpty();
    assertThat(c.toString()).doesNotContain("PRIVATE KEY").doesNotContain(c.privateKeyPem().substring(40, 80));

    ApnsCredentials withCa = ApnsCredentials.resolve(settings(key.toString(), apns.caFile())).orElseThrow();
    assertThat(withCa.trustedCaPem()).contains("BEGIN CERTIFICATE");
    assertThat(ApnsCredentials.resolve(settings("", ""))).as("no key file: APNs off").isEmpty();
  }

  @Test
  void aFileThatIsNotAP256KeyNamesTheKey() throws Exception {
    Path missing = dir.resolve("missing.p8");
    assertThatThrownBy(() -> ApnsCredentials.resolve(settings(missing.toString(), ""))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("push.apns.key_file");

    Path garbage = Files.writeString(dir.resolve("garbage.p8"), "not a key", StandardCharsets.US_ASCII);
    assertThatThrownBy(() -> ApnsCredentials.resolve(settings(garbage.toString(), ""))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("push.apns.key_file").hasMessageContaining("PKCS#8");

    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    Path rsaKey = Files.writeString(dir.resolve("rsa.p8"), io.parley.pushfakes.FakeFcmService.pem(rsa.generateKeyPair().getPrivate()));
    assertThatThrownBy(() -> ApnsCredentials.resolve(settings(rsaKey.toString(), ""))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("push.apns.key_file").hasMessageContaining("not an EC private key");

    KeyPairGenerator p384 = KeyPairGenerator.getInstance("EC");
    p384.initialize(new ECGenParameterSpec("secp384r1"));
    Path p384Key = Files.writeString(dir.resolve("p384.p8"), io.parley.pushfakes.FakeFcmService.pem(p384.generateKeyPair().getPrivate()));
    assertThatThrownBy(() -> ApnsCredentials.resolve(settings(p384Key.toString(), ""))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("push.apns.key_file").hasMessageContaining("P-256");

    Path key = apns.writeKeyFile(dir.resolve("AuthKey.p8"));
    Path notCa = Files.writeString(dir.resolve("ca.pem"), "nothing here");
    assertThatThrownBy(() -> ApnsCredentials.resolve(settings(key.toString(), notCa.toString()))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("push.apns.ca_file");
  }
}
