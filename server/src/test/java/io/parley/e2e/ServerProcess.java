package io.parley.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged jar ({@code target/parley.jar}) run as a child process, as a user runs it. Given
 * port 0, the server chooses a free port itself and {@link #port} is the one its start-up line
 * names ("listening on http://host:port"), so no other process can take it in between.
 */
final class ServerProcess {
  static final Path JAR = Path.of(System.getProperty("parley.jar", "../target/parley.jar"));

  /** The port named in the start-up line: "listening on http://127.0.0.1:8080 — …". */
  private static final Pattern LISTENING = Pattern.compile("listening on https?://\\S+:(\\d+)");

  final Process process;
  final int port;
  final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();

  private ServerProcess(Process process) {
    this.process = process;
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          System.out.println("[parley:" + process.pid() + "] " + line);
          lines.add(line);
        }
      } catch (IOException e) {
        // the process ended
      }
    }, "parley-output-" + process.pid());
    reader.setDaemon(true);
    reader.start();
    try {
      this.port = listeningPort(awaitLine("listening on"));
    } catch (AssertionError e) {
      process.destroyForcibly();
      throw e;
    }
  }

  /** The port a start-up line names. */
  static int listeningPort(String line) {
    Matcher m = LISTENING.matcher(line);
    if (!m.find()) {
      throw new AssertionError("no port in the start-up line: " + line);
    }
    return Integer.parseInt(m.group(1));
  }

  /** Starts the jar on {@code port} (0: any free port, see {@link #port}) and returns once it logged that it listens. */
  static ServerProcess start(Path dataDir, int port, String secret) throws IOException {
    return start(dataDir, port, secret, Map.of());
  }

  /** {@link #start(Path, int, String)} with more environment ({@code PARLEY_*} overrides). */
  static ServerProcess start(Path dataDir, int port, String secret, Map<String, String> env) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m", "-jar", JAR.toString()));
    pb.environment().put("PARLEY_HTTP_PORT", Integer.toString(port));
    pb.environment().put("PARLEY_DATA_DIR", dataDir.toString());
    pb.environment().put("PARLEY_JWT_SECRET", secret);
    pb.environment().put("PARLEY_ADMIN_PORT", "0"); // 9464 is one port for every build on the machine
    pb.environment().putAll(env);
    pb.redirectErrorStream(true);
    return new ServerProcess(pb.start());
  }

  /**
   * Starts what {@code pb} runs (a script that ends by exec'ing the jar, as a container's entrypoint
   * does) and returns once the node logged that it listens.
   */
  static ServerProcess start(ProcessBuilder pb) throws IOException {
    pb.redirectErrorStream(true);
    return new ServerProcess(pb.start());
  }

  String awaitLine(String fragment) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    try {
      while (System.nanoTime() < deadline) {
        String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (line != null && line.contains(fragment)) {
          return line;
        }
        if (line == null || !process.isAlive() && lines.isEmpty()) {
          break;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    throw new AssertionError("server never logged '" + fragment + "' (alive=" + process.isAlive() + ")");
  }

  int awaitExit() throws InterruptedException {
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("server did not exit");
    }
    return process.exitValue();
  }

  void kill9() throws InterruptedException {
    process.destroyForcibly(); // SIGKILL on Linux
    process.waitFor(30, TimeUnit.SECONDS);
  }

  void terminate() {
    process.destroy(); // SIGTERM on Linux
  }
}
