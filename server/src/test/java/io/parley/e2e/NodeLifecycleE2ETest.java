package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Node lifecycle on the embedded default: without a configured secret one is generated once and
 * kept in the data dir (tokens stay valid across restarts); conversations and messages persist
 * across a clean stop; ready drops when the node stops.
 */
class NodeLifecycleE2ETest {
  @TempDir
  Path dir;

  @Test
  void aGeneratedSecretIsKeptInTheDataDirAndDataSurvivesARestart() throws Exception {
    String token;
    String conv;
    try (TestNode node = TestNode.start(dir, Map.of()); Clients clients = new Clients(node.port)) {
      token = clients.token("lifecycle-alice");
      conv = clients.dm(token, "lifecycle-bob");
      clients.connect(token, "d").sendMsg("persist-1", conv, "kept");
    }
    Path secret = dir.resolve("jwt.secret");
    assertThat(secret).exists();
    assertThat(Files.readString(secret).trim()).hasSizeGreaterThanOrEqualTo(43);
    assertThat(Files.getPosixFilePermissions(secret))
        .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    try (TestNode node = TestNode.start(dir, Map.of()); Clients clients = new Clients(node.port)) {
      Clients.Response history = clients.request(HttpMethod.GET, "/v1/conversations/" + conv + "/messages", token, null);
      assertThat(history.status()).as("the old token is still valid").isEqualTo(200);
      assertThat(history.json().getJsonArray("messages").getJsonObject(0).getString("msg_id")).isEqualTo("persist-1");
      assertThat(node.node.ready()).isTrue();
      node.close();
      assertThat(node.node.ready()).isFalse();
    }
  }
}
