package io.parley.e2e;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Stops and starts the real servers through {@code scripts/infra/infra stop|start <server>}, run
 * from the project directory (failsafe runs tests there). The script inherits this JVM's
 * environment, so {@code PARLEY_INFRA_DIR} and the {@code PARLEY_*_PORT} variables select the
 * same servers as {@code scripts/infra/infra env} did. It stops only servers it started itself:
 * {@link #stop} checks that the server's port really closed, and fails with the script's output
 * when it did not (for example a server started by hand, or by another checkout's {@code .infra}).
 */
final class InfraControl {
  enum Server {
    KAFKA("kafka"), CASSANDRA("cassandra"), REDIS("redis");

    final String name;

    Server(String name) {
      this.name = name;
    }

    /** host:port the nodes use for this server, from the test JVM's environment. */
    InetSocketAddress address() {
      String hostPort = switch (this) {
        case KAFKA -> ClusterNodes.KAFKA.split(",")[0];
        case CASSANDRA -> ClusterNodes.CASSANDRA.split(",")[0];
        case REDIS -> {
          URI u = URI.create(ClusterNodes.REDIS);
          yield u.getHost() + ":" + (u.getPort() < 0 ? 6379 : u.getPort());
        }
      };
      int colon = hostPort.lastIndexOf(':');
      return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }
  }

  static final Path SCRIPT = Path.of(System.getProperty("parley.infra.script", "../scripts/infra/infra"));
  static final Duration STOP_TIMEOUT = Duration.ofSeconds(90);
  static final Duration START_TIMEOUT = Duration.ofSeconds(240);

  private InfraControl() {}

  /** Stops {@code server} and checks that its port no longer accepts connections. */
  static void stop(Server server) {
    String out = run("stop", server, STOP_TIMEOUT);
    if (accepts(server)) {
      throw new AssertionError(server.name + " still accepts connections on " + server.address()
          + " after 'infra stop': it was not started by " + SCRIPT + " with this PARLEY_INFRA_DIR ("
          + System.getenv().getOrDefault("PARLEY_INFRA_DIR", "<project>/.infra") + "), so a test cannot stop it.\n" + out);
    }
  }

  /**
   * Starts {@code server} (a no-op when it runs) and returns once the script says it is ready.
   * Tests that stop a server call this in a {@code finally} or an {@code @AfterEach}.
   */
  static void start(Server server) {
    run("start", server, START_TIMEOUT);
  }

  static boolean accepts(Server server) {
    try (Socket s = new Socket()) {
      s.connect(server.address(), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static String run(String command, Server server, Duration timeout) {
    if (!Files.isExecutable(SCRIPT)) {
      throw new AssertionError(SCRIPT.toAbsolutePath() + " not found or not executable (tests run from the project dir)");
    }
    long t0 = System.nanoTime();
    try {
      Path out = Files.createTempFile("infra-" + command + "-" + server.name, ".log");
      try {
        Process p = new ProcessBuilder(List.of(SCRIPT.toString(), command, server.name))
            .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          p.destroyForcibly();
          throw new AssertionError("infra " + command + " " + server.name + " did not finish within " + timeout
              + ":\n" + Files.readString(out, StandardCharsets.UTF_8));
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        System.out.printf("[infra] %s %s: exit %d in %d ms%n%s", command, server.name, p.exitValue(),
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), text.indent(2));
        if (p.exitValue() != 0) {
          throw new AssertionError("infra " + command + " " + server.name + " exited " + p.exitValue() + ":\n" + text);
        }
        return text;
      } finally {
        Files.deleteIfExists(out);
      }
    } catch (IOException e) {
      throw new AssertionError("infra " + command + " " + server.name + " failed to run", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
