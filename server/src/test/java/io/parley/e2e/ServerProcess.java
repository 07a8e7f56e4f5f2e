package io.parley.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** The packaged jar ({@code target/parley.jar}) run as a child process, as a user runs it. */
final class ServerProcess {
  static final Path JAR = Path.of(System.getProperty("parley.jar", "target/parley.jar"));

  final Process process;
  final int port;
  final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();

  private ServerProcess(Process process, int port) {
    this.process = process;
    this.port = port;
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          System.out.println("[parley:" + port + "] " + line);
          lines.add(line);
        }
      } catch (IOException e) {
        // the process ended
      }
    }, "parley-output-" + port);
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts the jar and returns once it logged that it listens. */
  static ServerProcess start(Path dataDir, int port, String secret) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m", "-jar", JAR.toString()));
    pb.environment().put("PARLEY_HTTP_PORT", Integer.toString(port));
    pb.environment().put("PARLEY_DATA_DIR", dataDir.toString());
    pb.environment().put("PARLEY_JWT_SECRET", secret);
    pb.redirectErrorStream(true);
    ServerProcess s = new ServerProcess(pb.start(), port);
    s.awaitLine("listening on");
    return s;
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
