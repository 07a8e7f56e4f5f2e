package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.parley.testing.Await;
import io.vertx.core.json.JsonArray;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container's start without a container engine: the top-level {@code Dockerfile} is read, and
 * its ENTRYPOINT ({@code deploy/docker/entrypoint.sh}) runs on this machine with exactly the
 * environment its ENV lines give the image, against the built jar, the in-image paths its COPY
 * lines make replaced by the files they copy. Only the data directory (the image's VOLUME) becomes
 * a temporary one and the port a free one. Then its HEALTHCHECK command itself is run until the
 * node is ready, and the node is stopped by its PID with SIGTERM, as {@code docker stop} does.
 * scripts/container-check builds and runs the real image where podman can be installed.
 */
class ContainerEntrypointIT {
  static final Path ROOT = ServerProcess.JAR.toAbsolutePath().normalize().getParent().getParent();
  static final Path DOCKERFILE = ROOT.resolve("Dockerfile");

  @TempDir
  Path dataDir;
  ServerProcess server;
  HttpServer fake;

  @AfterEach
  void cleanup() throws InterruptedException {
    if (server != null && server.process.isAlive()) {
      server.kill9();
    }
    if (fake != null) {
      fake.stop(0);
    }
  }

  @Test
  void theEntrypointWithTheImagesEnvironmentStartsANodeTheHealthcheckPassesAndSigtermStopsIt() throws Exception {
    Image image = Image.read(DOCKERFILE);
    assertThat(image.env).containsEntry("PARLEY_HTTP_HOST", "0.0.0.0").containsKey("PARLEY_DATA_DIR");
    assertThat(image.volumes).as("the data directory is the image's volume").contains(image.env.get("PARLEY_DATA_DIR"));
    assertThat(image.user).as("USER").matches("[1-9][0-9]*:[1-9][0-9]*");
    assertThat(image.exposed).contains("8080", "9464", "9465", "5701");

    Map<String, String> env = new LinkedHashMap<>();
    image.env.forEach((k, v) -> env.put(k, image.hostPath(v)));
    env.put("PARLEY_DATA_DIR", dataDir.toString());
    env.put("PARLEY_HTTP_PORT", "0"); // the node picks a free port and names it (ServerProcess.port)
    // the image's admin listener is on 0.0.0.0:9464, one port per host: on the host, no listener
    env.put("PARLEY_ADMIN_PORT", "0");
    ProcessBuilder pb = new ProcessBuilder(image.hostCommand(image.entrypoint));
    cleanEnvironment(pb.environment()).putAll(env);
    server = ServerProcess.start(pb);

    // the script exec'd the JVM: the PID it was started as is java's, so SIGTERM reaches the node
    ProcessHandle.Info info = server.process.info();
    assertThat(info.command()).hasValueSatisfying(c -> assertThat(Path.of(c).getFileName()).hasToString("java"));
    assertThat(info.arguments()).hasValueSatisfying(args -> assertThat(List.of(args))
        .contains("-XX:MaxRAMPercentage=70", "-XX:+ExitOnOutOfMemoryError", "-jar",
            ServerProcess.JAR.toAbsolutePath().normalize().toString()));

    // the HEALTHCHECK command, with the port the node took in place of the image's PARLEY_HTTP_PORT
    Map<String, String> checkEnv = new LinkedHashMap<>(env);
    checkEnv.put("PARLEY_HTTP_PORT", Integer.toString(server.port));
    Await.until("the image's HEALTHCHECK passes", () -> healthcheck(image, checkEnv) == 0, Duration.ofSeconds(30),
        Duration.ofMillis(200));
    try (Stream<Path> files = Files.list(dataDir)) {
      assertThat(files.map(p -> p.getFileName().toString())).as("the node's data in the volume's stand-in")
          .contains("jwt.secret");
    }

    server.terminate(); // SIGTERM to the PID: drain and exit 0
    assertThat(server.awaitExit()).isZero();
    assertThat(healthcheck(image, checkEnv)).as("HEALTHCHECK once the node is gone").isEqualTo(1);
  }

  @Test
  void theHealthcheckFailsWhenNothingListensAndWhenTheNodeIsNotReady() throws Exception {
    Image image = Image.read(DOCKERFILE);
    int free;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      free = s.getLocalPort();
    }
    assertThat(healthcheck(image, Map.of("PARLEY_HTTP_PORT", Integer.toString(free)))).isEqualTo(1);

    AtomicInteger status = new AtomicInteger(503);
    fake = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    fake.createContext("/health/ready", x -> {
      byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
      x.sendResponseHeaders(status.get(), body.length);
      x.getResponseBody().write(body);
      x.close();
    });
    fake.start();
    Map<String, String> env = Map.of("PARLEY_HTTP_PORT", Integer.toString(fake.getAddress().getPort()));
    assertThat(healthcheck(image, env)).as("503 (warming up, draining)").isEqualTo(1);
    status.set(200);
    assertThat(healthcheck(image, env)).as("200").isZero();
  }

  /** Runs the Dockerfile's HEALTHCHECK command as the engine would, in the image's environment. */
  private static int healthcheck(Image image, Map<String, String> env) {
    ProcessBuilder pb = new ProcessBuilder(image.hostCommand(image.healthcheck)).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    cleanEnvironment(pb.environment()).putAll(env);
    try {
      Process p = pb.start();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("the healthcheck did not end within 30 s");
      }
      return p.exitValue();
    } catch (IOException e) {
      throw new AssertionError("the healthcheck could not run", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /**
   * The environment of a process that stands for the container: no PARLEY_* of this build (the
   * test command exports the servers' addresses), no JAVA_OPTS, and this JDK's java first on PATH.
   */
  private static Map<String, String> cleanEnvironment(Map<String, String> env) {
    env.keySet().removeIf(k -> k.startsWith("PARLEY_") || k.equals("JAVA_OPTS") || k.equals("JAVA_TOOL_OPTIONS"));
    env.put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + env.getOrDefault("PATH", "/usr/bin:/bin"));
    return env;
  }

  /** What the Dockerfile's instructions say about the image (the subset Parley's uses). */
  static final class Image {
    private static final Pattern ENV_PAIR = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\\S+)");
    private static final Pattern ARG_USE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
    /** ARG defaults, substituted where USER uses them */
    final Map<String, String> args = new LinkedHashMap<>();
    final Map<String, String> env = new LinkedHashMap<>();
    /** in-image path → file on this machine, from the COPY lines */
    final Map<String, Path> copies = new LinkedHashMap<>();
    final List<String> volumes = new ArrayList<>();
    final List<String> exposed = new ArrayList<>();
    String user = "";
    List<String> entrypoint = List.of();
    List<String> healthcheck = List.of();

    static Image read(Path dockerfile) throws IOException {
      Image image = new Image();
      // instructions: comments dropped, continuation lines joined
      String text = Files.readString(dockerfile).replaceAll("(?m)^\\s*#.*\\n", "").replaceAll("\\\\\\n", " ");
      for (String line : text.split("\n")) {
        String[] parts = line.strip().split("\\s+", 2);
        if (parts.length < 2) {
          continue;
        }
        String args = parts[1].strip();
        switch (parts[0].toUpperCase()) {
          case "ENV" -> {
            Matcher m = ENV_PAIR.matcher(args);
            while (m.find()) {
              image.env.put(m.group(1), m.group(2));
            }
          }
          case "COPY" -> {
            String[] words = args.split("\\s+");
            String dest = words[words.length - 1];
            for (int i = 0; i < words.length - 1; i++) {
              Path source = ROOT.resolve(words[i]);
              image.copies.put(dest.endsWith("/") ? dest + source.getFileName() : dest, source);
            }
          }
          case "VOLUME" -> new JsonArray(args).forEach(v -> image.volumes.add((String) v));
          case "EXPOSE" -> image.exposed.addAll(List.of(args.split("\\s+")));
          case "ARG" -> {
            Matcher m = ENV_PAIR.matcher(args);
            if (m.matches()) {
              image.args.put(m.group(1), m.group(2));
            }
          }
          case "USER" -> image.user = ARG_USE.matcher(args).replaceAll(m -> image.args.getOrDefault(m.group(1), ""));
          case "ENTRYPOINT" -> image.entrypoint = strings(new JsonArray(args));
          case "HEALTHCHECK" -> image.healthcheck = strings(new JsonArray(args.substring(args.indexOf("CMD ") + 4)));
          default -> { }
        }
      }
      assertThat(image.entrypoint).as("ENTRYPOINT in exec form").isNotEmpty();
      assertThat(image.healthcheck).as("HEALTHCHECK CMD in exec form").isNotEmpty();
      return image;
    }

    /** An in-image path of a copied file as the file on this machine; any other value unchanged. */
    String hostPath(String value) {
      Path p = copies.get(value);
      return p == null ? value : p.toString();
    }

    /** A command of the image with its copied programs replaced by the files they were copied from. */
    List<String> hostCommand(List<String> command) {
      List<String> out = new ArrayList<>();
      for (String word : command) {
        out.add(hostPath(word));
      }
      assertThat(Path.of(out.get(0))).as("%s is a file COPY puts in the image", command.get(0)).isExecutable();
      return out;
    }

    private static List<String> strings(JsonArray a) {
      List<String> out = new ArrayList<>();
      a.forEach(v -> out.add((String) v));
      return out;
    }
  }
}
