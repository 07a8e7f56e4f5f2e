package io.parley.bench;

import java.nio.file.Path;
import java.security.SecureRandom;

/** Settings shared by all scenarios (target address, output, run id, concurrency limits). */
final class Common {
  final String host;
  final int port;
  final boolean json;
  final Path outDir;
  final long serverPid;
  final double warmupSeconds;
  final int eventLoops;
  /** Maximum number of REST calls or websocket connects in flight at once. */
  final int concurrency;
  /** Short random id so that user names never collide with an earlier run against the same server. */
  final String runId;

  Common(Options o) {
    host = o.str("host", "127.0.0.1");
    port = o.integer("port", 8080);
    json = o.flag("json");
    outDir = Path.of(o.str("out", "bench-out"));
    serverPid = o.number("server-pid", -1);
    warmupSeconds = o.decimal("warmup", 2);
    eventLoops = o.integer("event-loops", 2);
    concurrency = o.integer("concurrency", 200);
    runId = o.str("run", newRunId());
    if (!runId.matches("[a-z0-9]{1,16}")) {
      throw new Options.UsageException("--run must match [a-z0-9]{1,16}");
    }
    if (concurrency < 1 || eventLoops < 1 || warmupSeconds < 0) {
      throw new Options.UsageException("--concurrency and --event-loops must be >= 1, --warmup >= 0");
    }
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
