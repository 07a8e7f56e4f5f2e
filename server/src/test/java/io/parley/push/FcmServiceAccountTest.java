package io.parley.push;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.config.ConfigException;
import io.parley.config.PushSettings;
import io.parley.pushfakes.FakeFcmService;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FcmServiceAccount}: the fields of a service account key file; the project from
 * {@code push.fcm.project_id} or else the file; a file without a usable field, or no project
 * either way, is a configuration error naming the key; the private key is never in its string.
 */
class FcmServiceAccountTest {
  static String pem;
  @TempDir
  Path dir;

  @BeforeAll
  static void key() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    pem = FakeFcmService.pem(g.generateKeyPair().getPrivate());
  }

  private static JsonObject json() {
    return new JsonObject().put("type", "service_account").put("project_id", "from-file").put("private_key", pem)
        .put("client_email", "push@from-file.iam.gserviceaccount.com").put("token_uri", "https://oauth2.googleapis.com/token");
  }

  private static PushSettings settings(String file, String project) {
    return new PushSettings(10, 0, "", "", file, project, "https://fcm.googleapis.com", true, "", 25, "parley@localhost", "OPTIONAL", "", "", "", "", "", "", "https://api.push.apple.com", "https://api.sandbox.push.apple.com", "");
  }

  private Path write(JsonObject json) throws Exception {
    Path f = dir.resolve("sa.json");
    Files.writeString(f, json.encode(), StandardCharsets.UTF_8);
    return f;
  }

  @Test
  void theFileAndTheConfiguredProject() throws Exception {
    FcmServiceAccount a = FcmServiceAccount.resolve(settings(write(json()).toString(), "")).orElseThrow();
    assertThat(a.clientEmail()).isEqualTo("push@from-file.iam.gserviceaccount.com");
    assertThat(a.tokenUri()).isEqualTo("https://oauth2.googleapis.com/token");
    assertThat(a.projectId()).as("the file's").isEqualTo("from-file");
    assertThat(FcmServiceAccount.resolve(settings(write(json()).toString(), "configured")).orElseThrow().projectId())
        .isEqualTo("configured");
    assertThat(a.toString()).doesNotContain("PRIVATE KEY").doesNotContain(pem.substring(40, 80));
    assertThat(FcmServiceAccount.resolve(settings("", "configured"))).as("no file: FCM off").isEmpty();
  }

  @Test
  void noProjectEitherWayNamesTheProjectKey() throws Exception {
    JsonObject json = json();
    json.remove("project_id");
    Path f = write(json);
    assertThatThrownBy(() -> FcmServiceAccount.resolve(settings(f.toString(), ""))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("push.fcm.project_id");
    assertThat(FcmServiceAccount.resolve(settings(f.toString(), "p1")).orElseThrow().projectId()).isEqualTo("p1");
  }

  @Test
  void anUnusableFileNamesTheFileKeyAndNotTheSecret() throws Exception {
    for (String field : new String[] {"client_email", "private_key", "token_uri"}) {
      JsonObject json = json();
      json.remove(field);
      Path f = write(json);
      assertThatThrownBy(() -> FcmServiceAccount.resolve(settings(f.toString(), ""))).isInstanceOf(ConfigException.class)
          .hasMessageContaining("push.fcm.service_account_file").hasMessageContaining(field);
    }
    Path garbled = write(json().put("private_key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
    assertThatThrownBy(() -> FcmServiceAccount.resolve(settings(garbled.toString(), ""))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("push.fcm.service_account_file").hasMessageContaining("RSA private key")
        .message().doesNotContain("AAAA");
    Path notJson = dir.resolve("x.json");
    Files.writeString(notJson, "{", StandardCharsets.UTF_8);
    assertThatThrownBy(() -> FcmServiceAccount.resolve(settings(notJson.toString(), ""))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("push.fcm.service_account_file");
    assertThatThrownBy(() -> FcmServiceAccount.resolve(settings(dir.resolve("missing.json").toString(), "")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("push.fcm.service_account_file");
    Path ftp = write(json().put("token_uri", "ftp://example.com/token"));
    assertThatThrownBy(() -> FcmServiceAccount.resolve(settings(ftp.toString(), ""))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("token_uri");
  }
}
