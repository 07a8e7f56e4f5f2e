package io.parley.bench;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A Parley server the bench launched itself ({@code --launch}): {@code java -jar parley.jar} on
 * the embedded profile with a fresh data directory, any free port (read from its start-up line)
 * and the environment given; its output goes to a log file. Stopped by its PID (SIGTERM, then
 * SIGKILL after 60 s), and its data directory deleted.
 */
final class ServerProcess implements AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("listening on http://[^:]+:(\\d+)");

  final Process process;
  final int port;
  final Path log;
  private final Path dataDir;

  private ServerProcess(Process process, int port, Path log, Path dataDir) {
    this.process = process;
    this.port = port;
    this.log = log;
    this.dataDir = dataDir;
  }

  /** The server jar beside the bench's own jar ({@code target/parley.jar}), else {@code target/parley.jar}. */
  static Path defaultJar() {
    try {
      Path self = Path.of(Bench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (Files.isRegularFile(self)) {
        return self.resolveSibling("parley.jar");
      }
    } catch (URISyntaxException | RuntimeException e) {
      // fall through to the path relative to the working directory
    }
    return Path.of("target", "parley.jar");
  }

  /**
   * Starts the server and waits (up to 120 s) for its start-up line.
   *
   * @param cpus for {@code taskset -c} (e.g. "0"), or null to run unpinned
   * @param javaOpts the server JVM's options (e.g. -Xmx2g)
   */
  static ServerProcess start(Path jar, Map<String, String> env, String cpus, List<String> javaOpts, Path log)
      throws IOException, InterruptedException {
    if (!Files.isRegularFile(jar)) {
      throw new Options.UsageException("--launch: no server jar at " + jar + " (build it: mvn -B -q package -DskipTests"
          + " -pl server, or give --server-jar)");
    }
    Path dataDir = Files.createTempDirectory("parley-bench-data-");
    List<String> cmd = new ArrayList<>();
    if (cpus != null) {
      cmd.addAll(List.of("taskset", "-c", cpus));
    }
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(javaOpts);
    cmd.addAll(List.of("-jar", jar.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putIfAbsent("PARLEY_ADMIN_PORT", "0"); // no admin listener unless asked: 9464 is one port per host
    pb.environment().putAll(env);
    pb.environment().put("PARLEY_HTTP_PORT", "0");
    pb.environment().put("PARLEY_DATA_DIR", dataDir.toString());
    Files.createDirectories(log.toAbsolutePath().getParent());
    Process p = pb.start();
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Thread copier = new Thread(() -> copy(p, log, port), "parley-server-output");
    copier.setDaemon(true);
    copier.start();
    Integer found = null;
    try {
      found = port.get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      // below: the server died or never said where it listens
    }
    if (found == null) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      deleteTree(dataDir);
      throw new IllegalStateException("the launched server did not log that it listens (exit "
          + (p.isAlive() ? "none" : p.exitValue()) + "); see " + log);
    }
    ServerProcess s = new ServerProcess(p, found, log, dataDir);
    Runtime.getRuntime().addShutdownHook(new Thread(s::kill, "parley-server-kill"));
    return s;
  }

  private static void copy(Process p, Path log, CompletableFuture<Integer> port) {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        BufferedWriter out = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
      for (String line; (line = in.readLine()) != null; ) {
        out.write(line);
        out.newLine();
        // line by line: a reader of the log (the fuzzer counting warnings) sees it as it is now
        out.flush();
        if (!port.isDone()) {
          Matcher m = LISTENING.matcher(line);
          if (m.find()) {
            port.complete(Integer.parseInt(m.group(1)));
          }
        }
      }
    } catch (IOException e) {
      // the process ended or the log cannot be written: the waiter times out or has its port
    } finally {
      port.complete(null);
    }
  }

  long pid() {
    return process.pid();
  }

  private void kill() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
  }

  /** SIGTERM (a graceful drain), SIGKILL after 60 s; then the data directory goes. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        Bench.log("launched server %d did not stop within 60 s of SIGTERM: killing it", process.pid());
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    deleteTree(dataDir);
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      Bench.log("warning: could not delete %s: %s", dir, e);
    }
  }
}
