package io.parley.e2e;

import io.parley.app.Node;
import io.parley.config.ConfigLoader;
import io.parley.testing.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A Parley node started in this JVM on a fresh data dir, on the embedded default, listening on a
 * port the node itself chose ({@code http.port} 0), so no other process can take it first.
 */
final class TestNode implements AutoCloseable {
  final Node node;
  final int port;
  final Path dataDir;

  private TestNode(Node node, int port, Path dataDir) {
    this.node = node;
    this.port = port;
    this.dataDir = dataDir;
  }

  static TestNode start(Path dataDir, Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>();
    env.put("PARLEY_HTTP_PORT", "0");
    env.put("PARLEY_DATA_DIR", dataDir.toString());
    env.put("PARLEY_GATEWAY_INSTANCES", "2");
    env.put("PARLEY_WARMUP_MS", "0"); // tests stay fast; WarmupE2ETest turns it on
    // No shedding for event-loop lag unless a test asks for it (OverloadE2ETest): on a test machine
    // other builds load, a node's loops lag hundreds of ms without any overload of its own, and a
    // test that waits for an ack would get unavailable
    env.put("PARLEY_OVERLOAD_LOOP_LAG_MS", "0");
    // no admin listener unless a test asks for one (MetricsE2ETest): 9464 is one port for every build on the machine
    env.put("PARLEY_ADMIN_PORT", "0");
    env.putAll(overrides);
    Node node = new Node(ConfigLoader.load(env, Map.of()));
    Await.result(node.start(), Clients.WAIT);
    return new TestNode(node, node.httpPort(), dataDir);
  }

  /**
   * A port free a moment ago, for the operator listeners ({@code admin.port}, {@code bridge.port}:
   * 0 turns them off, so the node cannot pick one itself); another process taking it in between
   * fails the start, not the assertions.
   */
  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private boolean closed;

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    Await.result(node.stop(), Clients.WAIT);
  }
}
