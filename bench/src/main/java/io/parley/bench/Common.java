package io.parley.bench;

import io.vertx.core.json.JsonArray;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;

/** Settings shared by all scenarios (target address, output, run id, concurrency limits). */
final class Common {
  final String host;
  /** The first of {@link #ports}: REST calls (tokens, conversations) go there. */
  final int port;
  /**
   * The websocket ports ({@code --ports P1,P2,...}, default the single {@code --port}); connection
   * with global index {@code i} goes to {@code ports[i % ports.length]} (see {@link #portFor}).
   */
  final int[] ports;
  final boolean json;
  final Path outDir;
  final long serverPid;
  final double warmupSeconds;
  /** dm/group: the warm-up's send rate starts at this fraction of --rate and rises linearly to it. */
  final double rampFrom;
  /** dm/group: the longest wait after the last send for outstanding acks and deliveries. */
  final double drainSeconds;
  final int eventLoops;
  /** Maximum number of REST calls or websocket connects in flight at once. */
  final int concurrency;
  /** Short random id so that user names never collide with an earlier run against the same server. */
  final String runId;

  Common(Options o) {
    host = o.str("host", "127.0.0.1");
    boolean portGiven = o.has("port");
    int single = o.integer("port", 8080);
    String list = o.str("ports", null);
    if (list != null && portGiven) {
      throw new Options.UsageException("give either --port or --ports, not both");
    }
    ports = list == null ? new int[] {checkPort(single, "--port")} : parsePorts(list);
    port = ports[0];
    json = o.flag("json");
    outDir = Path.of(o.str("out", "bench-out"));
    serverPid = o.number("server-pid", -1);
    warmupSeconds = o.decimal("warmup", 2);
    rampFrom = o.decimal("ramp-from", 0.1);
    drainSeconds = o.decimal("drain", 10);
    eventLoops = o.integer("event-loops", 2);
    concurrency = o.integer("concurrency", 200);
    runId = o.str("run", newRunId());
    if (!runId.matches("[a-z0-9]{1,16}")) {
      throw new Options.UsageException("--run must match [a-z0-9]{1,16}");
    }
    if (concurrency < 1 || eventLoops < 1 || warmupSeconds < 0) {
      throw new Options.UsageException("--concurrency and --event-loops must be >= 1, --warmup >= 0");
    }
    if (!(drainSeconds > 0)) {
      throw new Options.UsageException("--drain must be > 0");
    }
    if (!(rampFrom > 0 && rampFrom <= 1)) {
      throw new Options.UsageException("--ramp-from must be > 0 and <= 1");
    }
  }

  /** Port for the connection with global index {@code globalIndex}: round-robin over {@link #ports}. */
  int portFor(long globalIndex) {
    return ports[(int) (globalIndex % ports.length)];
  }

  /** The ports as given to {@code --ports} ("8081,8082"). */
  String portList() {
    return Arrays.stream(ports).mapToObj(String::valueOf).collect(Collectors.joining(","));
  }

  /** The ports as a JSON array, for the run's reported conditions. */
  JsonArray portsJson() {
    JsonArray a = new JsonArray();
    for (int p : ports) {
      a.add(p);
    }
    return a;
  }

  static int[] parsePorts(String list) {
    String[] parts = list.split(",", -1);
    int[] out = new int[parts.length];
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < parts.length; i++) {
      String v = parts[i].trim();
      try {
        out[i] = checkPort(Integer.parseInt(v), "--ports");
      } catch (NumberFormatException e) {
        throw new Options.UsageException("--ports expects a comma-separated list of ports, got '" + list + "'");
      }
      if (!seen.add(out[i])) {
        throw new Options.UsageException("--ports lists port " + out[i] + " twice");
      }
    }
    return out;
  }

  static int checkPort(int p, String what) {
    if (p < 1 || p > 65_535) {
      throw new Options.UsageException(what + ": port must be 1..65535, got " + p);
    }
    return p;
  }

  private static String newRunId() {
    SecureRandom r = new SecureRandom();
    StringBuilder sb = new StringBuilder();
    String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < 6; i++) {
      sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return sb.toString();
  }
}
