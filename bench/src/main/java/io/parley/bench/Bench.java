package io.parley.bench;

import io.vertx.core.Future;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Entry point of the Parley load generator: parses the command line, runs one scenario
 * (connections, dm, group, reconnect, push, chaos), writes the latency plot and prints the result as a table
 * or as JSON. Exit codes: 0 pass, 1 the run failed its checks, 2 usage error, 3 the bench broke.
 */
public final class Bench {
  static final int DEFAULT_PER_PROCESS = 18_000;

  private static final String USAGE = String.join("\n",
      "usage: bench <scenario> [args] [options]",
      "",
      "scenarios:",
      "  connections N [--hold S] [--sources K] [--per-process M]",
      "        open N idle authenticated websockets (one user each), hold S s (default 5), close.",
      "        K source addresses 127.0.0.2..127.0.0.(1+K) (default: N/20000 rounded up when N > 20000);",
      "        more than M (default 18000) connections are split over child processes.",
      "  dm --users U --rate R --duration T [--size B] [--arrivals ticks|poisson [--seed N]]",
      "        U users in U/2 DM pairs, open-loop sends at R msgs/s in total for T s, B-byte bodies (default 100).",
      "  group --size G --groups N --rate R --duration T [--body B] [--arrivals ticks|poisson [--seed N]]",
      "        N groups of G members each, senders round-robin among members, R msgs/s in total.",
      "        --arrivals ticks (default): message k is due at k/R, conversations round-robin, each event loop",
      "        writes what is due from a 1 ms timer (every conversation on a regular beat); poisson: the",
      "        arrivals are a Poisson process at the same rate, each to a sender drawn uniformly from all",
      "        members, written at its own due time, one frame per send: every connection sends on its own",
      "        independent schedule (issue 21's independent clients). --seed N repeats a poisson schedule",
      "        (default: random; reported as seed).",
      "  reconnect K [--timeout S] [--reconnect-concurrency C] [--reconnect-port Q]",
      "        K users in DM pairs, all connected to the first port; close all, reconnect all at once",
      "        (default C = K) to port Q (default: the same port), wait until each connection answered",
      "        a ping and received its partner's message (timeout default 60 s).",
      "  push --users U --rate R --duration T [--size B] [--fake-delay-ms D] [--coalesce-ms C]",
      "       [--throttle-for-s S [--throttle-rate Q] [--throttle-retry-after-s N]] [--launch [--server-jar J]",
      "       [--server-cpus LIST] [--server-java-opts \"OPTS\"]] [--fake-port P] [--server-wait S]",
      "        send -> provider accepted for U offline devices: an FCM fake in this process answers after D ms",
      "        (default 20); U recipients register a device with provider fcm and never connect, U senders send",
      "        their DMs at R msgs/s in total. --launch starts the server jar (default: parley.jar beside this",
      "        bench's jar) with the fake's environment (and PARLEY_PUSH_COALESCE_MS=C if given) on a fresh data",
      "        dir and a free port, pinned with taskset -c LIST if given, and stops it after; without --launch the",
      "        environment is printed and the server on --port is waited for (up to S s, default 120).",
      "        --throttle-for-s: from the first send for S s the fake answers 429 (Retry-After N, default 1) beyond",
      "        Q pushes/s (default 0: all); reports when every message had its push after the throttle ended.",
      "  chaos --users U --rate R --duration T [--devices D] [--size B] [--drop-every S] [--settle S] [--quiet S]",
      "        [--faults FILE] [--verdict FILE] [--timeline FILE] [--status FILE] [--history FILE] [--seed N]",
      "        U users (>= 3) with 1..D devices each (default 3) in DMs and groups of 3-5, sending R msgs/s in",
      "        total for T s as correct clients (outbox resent with the same msg_id after 3 s and on reconnect,",
      "        reconnect to the next of --ports, sync from the last seen id, history paging while more); each",
      "        device drops its connection every S s on average (default 20, 0 = never). Then waits up to",
      "        --settle s (60) for every send to be acked, --quiet s (5), syncs every device, reads every",
      "        conversation's history and checks: stored once under the acked id, retries acked with one id,",
      "        every device complete, live order per connection, no phantom or misattributed message. Fault",
      "        times come from FILE (lines: epoch-ms TAB event TAB detail; scripts/chaos writes it); the verdict",
      "        (JSON) and a per-second timeline (JSON lines) go to the files given; --status is rewritten every",
      "        second with the Kafka partition that carried the most acked messages (server_id & 1023);",
      "        --history gets every record (sends, acks, errors, deliveries, stored, connection events).",
      "",
      "common options:",
      "  --host H (127.0.0.1)  --port P (8080)  --json  --out DIR (bench-out)  --server-pid PID",
      "  --ports P1,P2,... (instead of --port) websockets spread over these ports: connection i goes",
      "        to P[i mod n], so the two users of a DM pair are on different ports and group members",
      "        round-robin; REST calls (tokens, conversations) go to P1",
      "  --warmup S (2; dm/group: extra seconds before the measured window, not recorded in histograms)",
      "  --ramp-from F (0.1; dm/group: the warm-up's rate rises linearly from F x R to R, so a cold",
      "        generator does not start behind its schedule and carry that backlog into the window; 1 = none)",
      "  --drain S (10; dm/group: how long to wait after the last send for what is still outstanding;",
      "        deliveries missing after it count as lost, so give a cold or overloaded server longer)",
      "  --concurrency C (200; connects / REST calls in flight)  --event-loops N (2)  --run ID",
      "",
      "exit code: 0 pass, 1 failed checks (lost/duplicated messages, failed connections), 2 usage, 3 error");

  private Bench() {
  }

  public static void main(String[] args) {
    System.setProperty("java.awt.headless", "true");
    // keep stdout for the result only: anything else (e.g. library logging) goes to stderr
    PrintStream out = System.out;
    System.setOut(System.err);
    quietLibraryLogging();
    int code;
    try {
      code = run(args, out);
    } catch (Options.UsageException e) {
      System.err.println("error: " + e.getMessage());
      System.err.println(USAGE);
      code = 2;
    } catch (Exception e) {
      System.err.println("bench failed: " + e);
      e.printStackTrace();
      code = 3;
    }
    out.flush();
    System.exit(code);
  }

  private static int run(String[] args, PrintStream out) throws Exception {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("help") || args[0].equals("-h")) {
      System.err.println(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    Options o = Options.parse(args);
    Common common = new Common(o);
    Result result;
    switch (o.scenario) {
      case "connections": {
        long n = o.positionalNumber(0, "the number of connections N");
        double hold = o.decimal("hold", 5);
        int sources = o.integer("sources", ConnectionsScenario.defaultSources(n));
        int perProcess = o.integer("per-process", DEFAULT_PER_PROCESS);
        boolean child = o.flag("child");
        int offset = o.integer("offset", 0);
        o.checkAllUsed(1);
        if (n < 1 || n > 10_000_000 || perProcess < 1 || sources < 0 || sources > 250) {
          throw new Options.UsageException("need 1 <= N, --per-process >= 1, 0 <= --sources <= 250");
        }
        if (child) {
          System.setOut(out);
          new ConnectionsScenario(common, (int) n, offset, sources, 0, "[child@" + offset + "] ").runChild();
          return 0;
        }
        if (n > perProcess) {
          // children spread their connections by global index (offset + i), so together they
          // cover the ports round-robin exactly like a single process would
          List<String> pass = List.of("--host", common.host,
              common.ports.length > 1 ? "--ports" : "--port",
              common.ports.length > 1 ? common.portList() : String.valueOf(common.port),
              "--event-loops", String.valueOf(common.eventLoops));
          result = new ConnectionsCoordinator(common, (int) n, perProcess, sources, hold, pass).run();
        } else {
          result = new ConnectionsScenario(common, (int) n, 0, sources, hold, "").run();
        }
        break;
      }
      case "dm": {
        long users = o.requiredNumber("users");
        double rate = requiredDecimal(o, "rate");
        double duration = requiredDecimal(o, "duration");
        int body = o.integer("size", o.integer("body", 100));
        TrafficScenario.Arrivals arrivals = arrivals(o);
        java.nio.file.Path timeline = timeline(o);
        o.checkAllUsed(0);
        if (users < 2 || users % 2 != 0) {
          throw new Options.UsageException("--users must be an even number >= 2");
        }
        result = new TrafficScenario(common, "dm", (int) (users / 2), 2, rate, duration, body, arrivals).withTimeline(timeline).run();
        break;
      }
      case "group": {
        long size = o.requiredNumber("size");
        long groups = o.requiredNumber("groups");
        double rate = requiredDecimal(o, "rate");
        double duration = requiredDecimal(o, "duration");
        int body = o.integer("body", 100);
        TrafficScenario.Arrivals arrivals = arrivals(o);
        java.nio.file.Path timeline = timeline(o);
        o.checkAllUsed(0);
        if (size < 2 || size > 100_000 || groups < 1 || size * groups > 1_000_000) {
          throw new Options.UsageException("need --size >= 2, --groups >= 1 (and at most 1,000,000 users)");
        }
        result = new TrafficScenario(common, "group", (int) groups, (int) size, rate, duration, body, arrivals).withTimeline(timeline).run();
        break;
      }
      case "reconnect": {
        long k = o.positionalNumber(0, "the number of connections K");
        double timeout = o.decimal("timeout", 60);
        int conc = o.integer("reconnect-concurrency", (int) Math.min(k, Integer.MAX_VALUE));
        int reconnectPort = Common.checkPort(o.integer("reconnect-port", common.port), "--reconnect-port");
        o.checkAllUsed(1);
        if (k > DEFAULT_PER_PROCESS) {
          throw new Options.UsageException("reconnect supports at most " + DEFAULT_PER_PROCESS + " connections");
        }
        result = new ReconnectScenario(common, (int) k, Math.max(1, conc), timeout, reconnectPort).run();
        break;
      }
      case "push": {
        long users = o.requiredNumber("users");
        double rate = requiredDecimal(o, "rate");
        double duration = requiredDecimal(o, "duration");
        int body = o.integer("size", 100);
        boolean launch = o.flag("launch");
        String opts = o.str("server-java-opts", "").trim();
        PushScenario.Settings settings = new PushScenario.Settings(o.number("fake-delay-ms", 20), o.integer("fake-port", 0),
            o.integer("throttle-for-s", 0), o.integer("throttle-rate", 0), o.integer("throttle-retry-after-s", 1),
            o.has("coalesce-ms") ? o.integer("coalesce-ms", 0) : null, launch,
            Path.of(o.str("server-jar", ServerProcess.defaultJar().toString())), o.str("server-cpus", null),
            opts.isEmpty() ? List.of() : List.of(opts.split("\\s+")), o.decimal("server-wait", 120));
        o.checkAllUsed(0);
        if (users < 1 || users > 100_000) {
          throw new Options.UsageException("--users must be 1..100000");
        }
        if (settings.fakeDelayMs() < 0 || settings.throttleForS() < 0 || settings.throttleRate() < 0
            || settings.throttleRetryAfterS() < 0 || (settings.coalesceMs() != null && settings.coalesceMs() < 0)) {
          throw new Options.UsageException("--fake-delay-ms, --throttle-*, --coalesce-ms must be >= 0");
        }
        if (settings.fakePort() != 0) {
          Common.checkPort(settings.fakePort(), "--fake-port");
        }
        if (!launch && (o.has("server-jar") || o.has("server-cpus") || !opts.isEmpty())) {
          throw new Options.UsageException("--server-jar, --server-cpus and --server-java-opts need --launch");
        }
        result = new PushScenario(common, (int) users, rate, duration, body, settings).run();
        break;
      }
      case "chaos": {
        ChaosScenario.Settings settings = new ChaosScenario.Settings((int) o.requiredNumber("users"),
            o.integer("devices", 3), requiredDecimal(o, "rate"), requiredDecimal(o, "duration"), o.integer("size", 80),
            o.decimal("drop-every", 20), o.decimal("settle", 60), o.decimal("quiet", 5), o.str("faults", null),
            o.str("verdict", null), o.str("timeline", null), o.number("seed", System.nanoTime()),
            o.str("status", null), o.str("history", null));
        o.checkAllUsed(0);
        result = new ChaosScenario(common, settings).run();
        break;
      }
      default:
        throw new Options.UsageException("unknown scenario '" + o.scenario + "'");
    }
    writePlot(common, result);
    if (common.json) {
      out.println(result.toJson().encodePrettily());
    } else {
      result.printTable(out);
    }
    return result.failed() ? 1 : 0;
  }

  /** {@code --timeline FILE} of dm and group: send→deliver per second of the schedule, as CSV. */
  private static java.nio.file.Path timeline(Options o) {
    String file = o.str("timeline", null);
    return file == null ? null : java.nio.file.Path.of(file);
  }

  /** dm/group: {@code --arrivals ticks|poisson} (default ticks) and, for poisson, {@code --seed N} (default random). */
  private static TrafficScenario.Arrivals arrivals(Options o) {
    String mode = o.str("arrivals", "ticks");
    switch (mode) {
      case "ticks":
        if (o.has("seed")) {
          throw new Options.UsageException("--seed needs --arrivals poisson (tick arrivals are not random)");
        }
        return TrafficScenario.Arrivals.TICKS;
      case "poisson":
        return new TrafficScenario.Arrivals(true, o.number("seed", new java.security.SecureRandom().nextLong()));
      default:
        throw new Options.UsageException("--arrivals must be ticks or poisson, got '" + mode + "'");
    }
  }

  private static double requiredDecimal(Options o, String key) {
    if (!o.has(key)) {
      throw new Options.UsageException("option --" + key + " is required for " + o.scenario);
    }
    return o.decimal(key, 0);
  }

  private static void writePlot(Common common, Result r) {
    if (r.histograms.isEmpty()) {
      return;
    }
    Path file = common.outDir.resolve(r.scenario + "-" + common.runId + ".png");
    try {
      if (LatencyPlot.write(file, "parley bench " + r.scenario + " (run " + common.runId + ")", r.histograms)) {
        r.plotFile = file.toString();
      }
    } catch (Exception e) {
      r.notes.add("could not write plot: " + e);
    }
  }

  /**
   * With no SLF4J on the bench's class path, Netty and Vert.x log through java.util.logging, whose
   * console default is INFO: only warnings are shown, unless a logging configuration is given.
   */
  private static void quietLibraryLogging() {
    if (System.getProperty("java.util.logging.config.file") != null) {
      return;
    }
    java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
  }

  static void log(String format, Object... args) {
    System.err.println(String.format(Locale.ROOT, format, args));
  }

  /** Blocks the calling (non event-loop) thread until the future completes. */
  static <T> T await(Future<T> f, long seconds) throws Exception {
    try {
      return f.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      throw c instanceof Exception ? (Exception) c : e;
    } catch (TimeoutException e) {
      throw new IllegalStateException("timed out after " + seconds + " s", e);
    }
  }
}
