package io.parley.bench;

import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Protocol fuzzer (issue 18): launches the server jar on the embedded profile with Vert.x's
 * blocked-thread checker at 100 ms, then has W workers send generated and mutated WebSocket frames
 * ({@link FuzzCases}) over raw connections ({@link FuzzClient}) and R workers mutated REST bodies
 * ({@link FuzzRest}) to every POST/PUT route, and judges every reply against docs/protocol.md
 * ({@link FuzzReplies}). It fails when a reply is not a documented one (or a required one is
 * missing), when the node dies or is not ready at the end, when the node's log has a "blocked"
 * warning after the warm-up (JIT and class loading of a cold JVM: issue 18's warm start) that the
 * event loop's wait for a CPU does not explain ({@link FuzzStarvation}), or when
 * the live heap after a full GC grew more than the bound from the end of the warm-up. Deterministic for a
 * seed: worker w's cases come from {@code new Random(seed * 1_000_003 + w)}; a finding names its
 * worker and case number.
 *
 * <p>Exit codes: 0 pass, 1 findings, 2 usage, 3 the fuzzer itself broke.
 */
public final class Fuzz {
  private static final String USAGE = String.join("\n",
      "usage: fuzz [--frames N] [--seed S] [--warmup-frames U] [--rest-bodies M] [--workers W] [--rest-workers R]",
      "            [--server-jar J] [--server-java-opts \"OPTS\"] [--heap-growth-max-mb H] [--nice K] [--out DIR] [--json]",
      "  U warm-up frames (default min(20000, N)), then N judged WebSocket frames (default 1000000), and U/10 + M",
      "  REST bodies (M default N/10), against a node launched from J (default: parley.jar beside this jar) with",
      "  vertx.max_event_loop_execute_ms=100; W raw WebSocket connections (default 8), R REST clients (default 2);",
      "  S seeds every generator (default: the time, printed). The fuzzer's threads run at nice K (default 10; 0:",
      "  not reniced) so they do not starve the node. Every reply is judged, warm-up included. Fails on an",
      "  undocumented or missing reply, a dead or unready node, a 'blocked' warning in the node's log after the",
      "  warm-up (unless the event loop waited for a CPU long enough to explain it: a starved machine, reported),",
      "  or a live heap after GC at the end more than H MiB (default 64) above the one after the warm-up.",
      "exit code: 0 pass, 1 findings, 2 usage, 3 the fuzzer broke");
  private static final int FRAME_MAX_BYTES = 262_144;
  private static final int REPLY_TIMEOUT_MS = 15_000;
  private static final String SECRET = "parley-fuzz-secret-parley-fuzz-secret-0123";
  private static final Pattern BLOCKED = Pattern.compile("has been blocked for \\d+ ms");
  private static final Pattern G1_USED = Pattern.compile("garbage-first heap\\s+total \\d+K, used (\\d+)K");
  private static final int FINDINGS_SHOWN = 40;

  private final long seed;
  private final long framesWanted;
  private final long restWanted;
  private final int workers;
  private final int restWorkers;
  private final long heapBoundKb;
  private final long warmupWanted;
  private final int nice;
  /** Where the warm-up ends: its action measures the start of the judged run. */
  private java.util.concurrent.CyclicBarrier warm;
  private volatile long heapStart = -1;
  private volatile long logJudged;
  private volatile String loadStart = "";
  private final FuzzReplies replies = new FuzzReplies();
  private final AtomicLong frames = new AtomicLong();
  private final AtomicLong cases = new AtomicLong();
  private final AtomicLong bodies = new AtomicLong();
  private final AtomicLong connections = new AtomicLong();
  private final AtomicLong findingCount = new AtomicLong();
  private final ConcurrentLinkedQueue<String> findings = new ConcurrentLinkedQueue<>();
  private final Map<String, AtomicLong> caseKinds = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<String, AtomicLong> caseNanos = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<String, AtomicLong> findingKinds = new java.util.concurrent.ConcurrentHashMap<>();
  private String host = "127.0.0.1";
  private int port;
  private HttpClient http;

  private Fuzz(long seed, long framesWanted, long restWanted, int workers, int restWorkers, long heapBoundKb, long warmupWanted,
      int nice) {
    this.heapBoundKb = heapBoundKb;
    this.nice = nice;
    this.warmupWanted = warmupWanted;
    this.seed = seed;
    this.framesWanted = framesWanted;
    this.restWanted = restWanted;
    this.workers = workers;
    this.restWorkers = restWorkers;
  }

  public static void main(String[] args) {
    PrintStream out = System.out;
    System.setOut(System.err);
    int code;
    try {
      code = run(args, out);
    } catch (Options.UsageException e) {
      System.err.println("error: " + e.getMessage());
      System.err.println(USAGE);
      code = 2;
    } catch (Exception e) {
      System.err.println("fuzz failed: " + e);
      e.printStackTrace();
      code = 3;
    }
    out.flush();
    System.exit(code);
  }

  private static int run(String[] args, PrintStream out) throws Exception {
    if (Arrays.asList(args).contains("--help")) {
      System.err.println(USAGE);
      return 0;
    }
    String[] all = new String[args.length + 1];
    all[0] = "fuzz";
    System.arraycopy(args, 0, all, 1, args.length);
    Options o = Options.parse(all);
    long frames = o.number("frames", 1_000_000);
    long seed = o.number("seed", System.currentTimeMillis() % 1_000_000_000L);
    long rest = o.number("rest-bodies", frames / 10);
    int workers = o.integer("workers", 8);
    int restWorkers = o.integer("rest-workers", 2);
    Path jar = Path.of(o.str("server-jar", ServerProcess.defaultJar().toString()));
    String opts = o.str("server-java-opts", "-Xms256m -Xmx512m").trim();
    long heapBoundMb = o.number("heap-growth-max-mb", 64);
    long warmup = o.number("warmup-frames", Math.min(20_000, frames));
    int nice = o.integer("nice", 10);
    Path outDir = Path.of(o.str("out", "fuzz-out"));
    boolean json = o.flag("json");
    o.checkAllUsed(0);
    if (frames < 1 || rest < 0 || warmup < 0 || workers < 3 || restWorkers < 1 || heapBoundMb < 0 || nice < 0
        || nice > 19) {
      throw new Options.UsageException("need --frames >= 1, --rest-bodies >= 0, --warmup-frames >= 0, --workers >= 3,"
          + " --rest-workers >= 1");
    }
    Bench.log("fuzz: seed %d, %d frames, %d REST bodies, %d+%d workers", seed, frames, rest, workers, restWorkers);
    Fuzz f = new Fuzz(seed, frames, rest, workers, restWorkers, heapBoundMb * 1024, warmup, nice);
    List<String> javaOpts = new ArrayList<>(opts.isEmpty() ? List.of() : List.of(opts.split("\\s+")));
    javaOpts.add("-XX:+UseG1GC");
    Files.createDirectories(outDir);
    Path log = outDir.resolve("fuzz-node-" + seed + ".log");
    Map<String, String> env = Map.of("PARLEY_VERTX_MAX_EVENT_LOOP_EXECUTE_MS", "100", "PARLEY_JWT_SECRET", SECRET,
        "PARLEY_DEV_TOKEN_ENABLED", "true", "PARLEY_STORAGE_FSYNC", "false",
        // the rate limit would answer most sends rate_limited; past it, sends reach storage and fan-out
        "PARLEY_LIMITS_SEND_RATE_PER_S", "1000000", "PARLEY_LIMITS_SEND_BURST", "1000000");
    try (ServerProcess server = ServerProcess.start(jar, env, null, javaOpts, log)) {
      JsonObject result = f.fuzz(server);
      if (json) {
        out.println(result.encodePrettily());
      } else {
        print(result, out);
      }
      return result.getBoolean("passed") ? 0 : 1;
    }
  }

  private JsonObject fuzz(ServerProcess server) throws Exception {
    port = server.port;
    // from here on the node says it listens: start-up (class loading and linking in the verticles'
    // start on a cold JVM, before the node is ready) is reported, but not what the fuzzer judges
    long logReady = Files.size(server.log);
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    String base = "http://" + host + ":" + port;
    FuzzCases.Target[] targets = setUp(base);
    List<String> restTokens = new ArrayList<>();
    List<String> restGroups = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      String t = token(base, "fr" + i);
      restTokens.add(t);
      restGroups.add(create(base, t, new JsonObject().put("type", "group").put("members", new JsonArray().add("fr" + (i + 1)))));
    }
    FuzzStarvation starvation = new FuzzStarvation(server.pid(), 100);
    if (nice > 0) {
      lowerOwnPriority(nice);
    }
    warm = new java.util.concurrent.CyclicBarrier(workers + restWorkers, () -> {
      try {
        heapStart = liveHeapKb(server.pid());
        loadStart = loadAverage();
        logJudged = Files.size(server.log);
        Bench.log("fuzz: warm-up done (%,d frames); live heap %,d KiB", frames.get(), heapStart);
      } catch (Exception e) {
        Bench.log("fuzz: could not measure the start: %s", e);
      }
    });
    long t0 = System.nanoTime();
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      int id = w;
      threads.add(thread("fuzz-ws-" + w, () -> wsWorker(id, targets[id])));
    }
    for (int r = 0; r < restWorkers; r++) {
      int id = r;
      threads.add(thread("fuzz-rest-" + r, () -> restWorker(id, base, restTokens, restGroups)));
    }
    Thread progress = thread("fuzz-progress", () -> {
      try {
        while (true) {
          Thread.sleep(10_000); // a progress line every 10 s, nothing waits on it
          Bench.log("fuzz: %,d frames, %,d REST bodies, %,d findings", frames.get(), bodies.get(), findingCount.get());
        }
      } catch (InterruptedException e) {
        // done
      }
    });
    for (Thread t : threads) {
      t.join();
    }
    progress.interrupt();
    double seconds = (System.nanoTime() - t0) / 1e9;
    boolean alive = server.process.isAlive();
    int ready = alive ? readyStatus(base) : -1;
    long heapEnd = alive ? liveHeapKb(server.pid()) : -1;
    starvation.stop();
    List<String> afterWarmup = blockedWarnings(server.log, logJudged);
    List<String> blocked = afterWarmup.stream().filter(l -> !starvation.explains(l)).toList();
    List<String> starved = afterWarmup.stream().filter(starvation::explains).toList();
    long blockedAtStart = blockedWarnings(server.log, 0).size() - blockedWarnings(server.log, logReady).size();
    long blockedWarmup = blockedWarnings(server.log, logReady).size() - afterWarmup.size();
    List<String> errorsLogged = linesFrom(server.log, logReady).stream().filter(l -> l.contains(" ERROR ")).toList();
    boolean heapOk = heapStart >= 0 && heapEnd >= 0 && heapEnd - heapStart <= heapBoundKb;
    boolean passed = findingCount.get() == 0 && alive && ready == 200 && blocked.isEmpty() && heapOk;
    JsonObject r = new JsonObject()
        .put("passed", passed)
        .put("seed", seed)
        .put("frames", frames.get())
        .put("cases", cases.get())
        .put("rest_bodies", bodies.get())
        .put("connections", connections.get())
        .put("seconds", Math.round(seconds * 10) / 10.0)
        .put("frames_per_s", Math.round(frames.get() / seconds))
        .put("node_alive", alive)
        .put("ready_status", ready)
        .put("heap_live_start_kb", heapStart)
        .put("heap_live_end_kb", heapEnd)
        .put("heap_growth_max_kb", heapBoundKb)
        .put("blocked_warnings", blocked.size())
        .put("blocked_warnings_before_ready", blockedAtStart)
        .put("blocked_warnings_warmup", blockedWarmup)
        .put("warmup_frames", warmupWanted)
        .put("load_average_start", loadStart)
        .put("load_average_end", loadAverage())
        .put("blocked_lines", new JsonArray(blocked.stream().limit(10).toList()))
        .put("blocked_warnings_starved", starved.size())
        .put("event_loop_run_queue_wait", starvation.summary())
        .put("blocked_lines_starved", new JsonArray(starved.stream().limit(10).toList()))
        .put("node_errors_logged", errorsLogged.size())
        .put("node_error_lines", new JsonArray(errorsLogged.stream().limit(10).toList()))
        .put("node_log", server.log.toString())
        .put("replies", new JsonObject(new HashMap<>(replies.counts())))
        .put("case_kinds", kinds(caseKinds))
        .put("findings_by_kind", kinds(findingKinds))
        .put("case_ms_by_kind", caseMillis())
        .put("findings", findingCount.get())
        .put("finding_samples", new JsonArray(findings.stream().limit(FINDINGS_SHOWN).toList()));
    return r;
  }

  /** Mean time of a case by kind, from its first byte to its last reply (ms). */
  private JsonObject caseMillis() {
    JsonObject k = new JsonObject();
    new java.util.TreeMap<>(caseNanos).forEach((name, n) -> k.put(name,
        Math.round(n.get() / 1e4 / caseKinds.get(name).get()) / 100.0));
    return k;
  }

  private static JsonObject kinds(Map<String, AtomicLong> counts) {
    JsonObject k = new JsonObject();
    new java.util.TreeMap<>(counts).forEach((name, n) -> k.put(name, n.get()));
    return k;
  }

  // ---- WebSocket ------------------------------------------------------------------------------

  private void wsWorker(int w, FuzzCases.Target target) {
    WsRun run = new WsRun(w, target);
    boolean warmed = false;
    try {
      run.frames(warmupWanted / workers + (w < warmupWanted % workers ? 1 : 0));
      warmed = warmed();
      run.frames(framesWanted / workers + (w < framesWanted % workers ? 1 : 0));
    } catch (IOException e) {
      finding("ws.io", "seed " + seed + " worker " + w + " case " + run.caseNo + ": " + e);
    } finally {
      if (!warmed) {
        warmed();
      }
      run.close();
    }
  }

  /**
   * Waits for every worker to finish the warm-up; the last one to arrive measures the start
   * (live heap, log position) before any goes on. Returns true.
   */
  private boolean warmed() {
    try {
      warm.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.BrokenBarrierException e) {
      // the measurement failed: reported by the main thread
    }
    return true;
  }

  /** One WebSocket worker's generator, connection and case count, across the warm-up and the judged run. */
  private final class WsRun {
    private final int w;
    private final FuzzCases.Target target;
    private final FuzzCases gen;
    private FuzzClient c;
    long caseNo;

    WsRun(int w, FuzzCases.Target target) {
      this.w = w;
      this.target = target;
      this.gen = new FuzzCases(new Random(seed * 1_000_003L + w), target, FRAME_MAX_BYTES);
    }

    void frames(long share) throws IOException {
      long sent = 0;
      while (sent < share) {
        FuzzCases.Case cs = gen.next();
        caseNo++;
        caseKinds.computeIfAbsent(cs.kind(), k -> new AtomicLong()).incrementAndGet();
        if (c == null) {
          c = connect(target);
        }
        String where = "seed " + seed + " worker " + w + " case " + caseNo + " (" + cs.kind() + ")";
        long started = System.nanoTime();
        boolean open = play(c, cs, where, ("barrier " + caseNo).getBytes(StandardCharsets.US_ASCII));
        caseNanos.computeIfAbsent(cs.kind(), k -> new AtomicLong()).addAndGet(System.nanoTime() - started);
        sent += cs.fuzzFrames();
        frames.addAndGet(cs.fuzzFrames());
        cases.incrementAndGet();
        if (!open) {
          c.close();
          c = null;
        }
      }
    }

    void close() {
      if (c != null) {
        c.close();
      }
    }
  }

  private FuzzClient connect(FuzzCases.Target target) throws IOException {
    connections.incrementAndGet();
    return FuzzClient.open(host, port, target.token(), REPLY_TIMEOUT_MS);
  }

  /**
   * Sends one case and checks every reply to it; returns whether the connection is still open. A
   * case that leaves the connection open is followed by a WebSocket ping whose payload is {@code
   * barrier}: the server answers a ping at once, after what it wrote before, so an error the case
   * must get comes before that pong.
   */
  private boolean play(FuzzClient c, FuzzCases.Case cs, String where, byte[] barrierPayload) throws IOException {
    boolean writeFailed = false;
    try {
      for (byte[] f : cs.frames()) {
        c.send(f);
      }
      if (cs.close() == null) {
        c.send(FuzzClient.frame(true, 0, FuzzClient.OP_PING, true, barrierPayload, 0, new Random(0)));
      }
      c.flush();
    } catch (IOException e) {
      // the server may close before the fuzzer has written it all (a message over the limit)
      writeFailed = true;
    }
    Map<String, Integer> pending = new HashMap<>();
    cs.msgIds().forEach(id -> pending.merge(id, 1, Integer::sum));
    List<byte[]> pings = new ArrayList<>(cs.pings());
    List<String> errorsBeforeBarrier = new ArrayList<>();
    boolean barrier = false;
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(REPLY_TIMEOUT_MS);
    JsonObject[] decoded = new JsonObject[1];
    while (true) {
      if (cs.close() == null && barrier && pending.isEmpty()) {
        if (!pings.isEmpty()) {
          finding(cs.kind(), where + ": " + pings.size() + " ping(s) not answered with a pong before the next reply; sample " + sample(cs));
        }
        if (cs.syncError() != null && !errorsBeforeBarrier.contains(cs.syncError())) {
          finding(cs.kind(), where + ": expected error '" + cs.syncError() + "', got " + errorsBeforeBarrier + "; sample " + sample(cs));
        }
        return true;
      }
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0) {
        finding(cs.kind(), where + ": no " + (cs.close() != null ? "close " + cs.close() : !barrier ? "pong to the fuzzer's barrier ping"
            : "ack or error for msg_id(s) " + pending.keySet()) + " within " + REPLY_TIMEOUT_MS + " ms; sample " + sample(cs));
        return false;
      }
      c.timeout((int) left);
      WebSocketFrame f;
      try {
        f = c.next();
      } catch (SocketTimeoutException e) {
        continue;
      } catch (FuzzClient.MalformedServerFrame e) {
        replies.count("ws.malformed_frame");
        finding(cs.kind(), where + ": malformed server frame: " + e.getMessage());
        return false;
      }
      if (f == null) {
        if (cs.close() != null && writeFailed) {
          // reset while the fuzzer still wrote: the close frame may be lost with the connection
          replies.count("ws.reset_after_write");
          return false;
        }
        replies.count("ws.eof_without_close");
        finding(cs.kind(), where + ": connection ended without a close frame; sample " + sample(cs));
        return false;
      }
      try {
        if (f instanceof TextWebSocketFrame t) {
          if (!t.isFinalFragment()) {
            finding(cs.kind(), where + ": fragmented server frame");
          }
          String problem = replies.checkText(t.text(), decoded);
          if (problem != null) {
            finding(cs.kind(), where + ": " + problem + "; sample " + sample(cs));
          }
          JsonObject j = decoded[0];
          decoded[0] = null;
          if (j == null) {
            continue;
          }
          String op = j.getValue("op") instanceof String s ? s : "";
          Object msgId = j.getValue("msg_id");
          if ((op.equals("ack") || op.equals("error")) && msgId instanceof String id && pending.containsKey(id)) {
            pending.computeIfPresent(id, (k, n) -> n == 1 ? null : n - 1);
          } else if (op.equals("ack")) {
            finding(cs.kind(), where + ": ack for a msg_id this case did not send: " + FuzzReplies.clip(t.text()));
          } else if (op.equals("error") && !barrier) {
            errorsBeforeBarrier.add(String.valueOf(j.getValue("code")));
          }
        } else if (f instanceof PongWebSocketFrame p) {
          replies.count("ws.pong_frame");
          byte[] payload = ByteBufUtil.getBytes(p.content());
          if (cs.close() == null) {
            if (!barrier && Arrays.equals(payload, barrierPayload)) {
              barrier = true;
            } else if (barrier || pings.isEmpty() || !Arrays.equals(pings.get(0), payload)) {
              finding(cs.kind(), where + ": pong with a payload no ping of this case had (" + payload.length + " bytes)");
            } else {
              pings.remove(0);
            }
          }
        } else if (f instanceof CloseWebSocketFrame close) {
          int code = close.content().readableBytes() >= 2 ? close.statusCode() : -1;
          if (cs.close() == null) {
            replies.count("ws.close." + code);
            finding(cs.kind(), where + ": unexpected close " + code + " (" + close.reasonText() + "); sample " + sample(cs));
          } else {
            String problem = replies.checkClose(code, cs.close());
            if (problem != null) {
              finding(cs.kind(), where + ": " + problem + " (" + close.reasonText() + "); sample " + sample(cs));
            }
          }
          try {
            // answer the server's close (when it started it); it may have gone already
            c.send(FuzzClient.frame(true, 0, FuzzClient.OP_CLOSE, true, new byte[0], 0, new Random(0)));
            c.flush();
          } catch (IOException e) {
            // gone
          }
          return false;
        } else if (f instanceof BinaryWebSocketFrame) {
          replies.count("ws.binary");
          finding(cs.kind(), where + ": binary frame from the server");
        } else {
          replies.count("ws.other_frame");
          finding(cs.kind(), where + ": unexpected server frame " + f);
        }
      } finally {
        f.release();
      }
    }
  }

  private static String sample(FuzzCases.Case cs) {
    return FuzzReplies.clip(cs.sample().replace("\n", "\\n"));
  }

  // ---- REST -----------------------------------------------------------------------------------

  private void restWorker(int r, String base, List<String> tokens, List<String> groups) {
    Random rnd = new Random(seed * 1_000_003L + 500_000 + r);
    FuzzRest gen = new FuzzRest(rnd, tokens, groups, new FuzzCases(rnd, new FuzzCases.Target("fr" + r, "fr0", "1", "1", ""),
        FRAME_MAX_BYTES));
    long warmShare = warmupWanted / 10 / restWorkers + (r < warmupWanted / 10 % restWorkers ? 1 : 0);
    long share = restWanted / restWorkers + (r < restWanted % restWorkers ? 1 : 0);
    boolean ok = rest(r, gen, base, 1, warmShare);
    warmed();
    if (ok) {
      rest(r, gen, base, warmShare + 1, warmShare + share);
    }
  }

  /** Requests {@code from}..{@code to} of REST worker r; false when the fuzzer could not go on. */
  private boolean rest(int r, FuzzRest gen, String base, long from, long to) {
    for (long i = from; i <= to; i++) {
      FuzzRest.Request req = gen.next();
      String where = "seed " + seed + " rest worker " + r + " request " + i + " (" + req.method() + " " + req.path() + ")";
      try {
        HttpResponse<String> resp = FuzzRest.send(http, base, req);
        String problem = replies.checkRest(resp.statusCode(), resp.body());
        if (problem != null) {
          finding("rest." + resp.statusCode(), where + ": " + problem + "; body " + FuzzReplies.clip(req.body()));
        }
      } catch (IOException e) {
        replies.count("rest.io_error");
        finding("rest.io", where + ": " + e + "; body " + FuzzReplies.clip(req.body()));
      } catch (Exception e) {
        finding("rest.io", where + ": " + e);
        return false;
      }
      bodies.incrementAndGet();
    }
    return true;
  }

  // ---- set-up and the node's state ------------------------------------------------------------

  /** A token per worker user (fz0…), a DM with the next worker and a group with the next two. */
  private FuzzCases.Target[] setUp(String base) throws Exception {
    String[] tokens = new String[workers];
    for (int w = 0; w < workers; w++) {
      tokens[w] = token(base, "fz" + w);
    }
    FuzzCases.Target[] t = new FuzzCases.Target[workers];
    String[] dms = new String[workers];
    for (int w = 0; w < workers; w++) {
      dms[w] = create(base, tokens[w], new JsonObject().put("type", "dm").put("members", new JsonArray().add("fz" + ((w + 1) % workers))));
    }
    for (int w = 0; w < workers; w++) {
      String group = create(base, tokens[w], new JsonObject().put("type", "group").put("name", "fuzz " + w)
          .put("members", new JsonArray().add("fz" + ((w + 1) % workers)).add("fz" + ((w + 2) % workers))));
      t[w] = new FuzzCases.Target("fz" + w, "fz" + ((w + 1) % workers), dms[w], group, tokens[w]);
    }
    return t;
  }

  private String token(String base, String user) throws Exception {
    return post(base, "/v1/dev/token", null, new JsonObject().put("user", user)).getString("token");
  }

  private String create(String base, String token, JsonObject body) throws Exception {
    return post(base, "/v1/conversations", token, body).getString("id");
  }

  private JsonObject post(String base, String path, String token, JsonObject body) throws Exception {
    HttpResponse<String> resp = FuzzRest.send(http, base, new FuzzRest.Request("POST", path, token, body.encode()));
    if (resp.statusCode() / 100 != 2) {
      throw new IllegalStateException("set-up: POST " + path + " → " + resp.statusCode() + " " + resp.body());
    }
    return new JsonObject(resp.body());
  }

  private int readyStatus(String base) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(base + "/health/ready")).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  /** Live heap in KiB: {@code jcmd PID GC.run} (a full collection), then G1's "used" from {@code GC.heap_info}. */
  static long liveHeapKb(long pid) throws IOException, InterruptedException {
    jcmd(pid, "GC.run");
    String info = jcmd(pid, "GC.heap_info");
    Matcher m = G1_USED.matcher(info);
    if (!m.find()) {
      throw new IllegalStateException("no G1 heap line in jcmd GC.heap_info: " + info);
    }
    return Long.parseLong(m.group(1));
  }

  private static String jcmd(long pid, String command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(pid), command)
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("jcmd " + pid + " " + command + " failed: " + out);
    }
    return out;
  }

  /** The machine's 1-, 5- and 15-minute load averages (/proc/loadavg), or "" where there is none. */
  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  /** Vert.x's blocked-thread warnings in the node's log from byte {@code from} on. */
  static List<String> blockedWarnings(Path log, long from) throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : linesFrom(log, from)) {
      if (BLOCKED.matcher(line).find()) {
        out.add(line);
      }
    }
    return out;
  }

  private static List<String> linesFrom(Path log, long from) throws IOException {
    byte[] all = Files.readAllBytes(log);
    int start = (int) Math.min(from, all.length);
    return new String(all, start, all.length - start, StandardCharsets.UTF_8).lines().toList();
  }

  private void finding(String kind, String what) {
    findingCount.incrementAndGet();
    findingKinds.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
    if (findings.size() < FINDINGS_SHOWN) {
      findings.add(what);
      Bench.log("FINDING %s", what);
    }
  }

  /**
   * Renices this JVM's threads (workers created later inherit it) to {@code nice}, so that on a small machine
   * the node's event loops get the CPU before the fuzzer's own threads do: a warning should mean the
   * node blocked, not that the fuzzer starved it. The node, started before, keeps its priority.
   */
  private static void lowerOwnPriority(int nice) {
    try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      List<String> cmd = new ArrayList<>(List.of("renice", "-n", Integer.toString(nice), "-p"));
      tasks.forEach(t -> cmd.add(t.getFileName().toString()));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        Bench.log("fuzz: renice failed; the fuzzer's threads compete with the node's at the same priority");
      }
    } catch (IOException e) {
      Bench.log("fuzz: cannot renice (%s); the fuzzer's threads compete with the node's at the same priority", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Thread thread(String name, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static void print(JsonObject r, PrintStream out) {
    out.printf("fuzz %s (seed %d)%n", r.getBoolean("passed") ? "PASSED" : "FAILED", r.getLong("seed"));
    out.printf("  %,d WebSocket frames in %,d cases over %,d connections, %,d REST bodies, %.1f s (%,d frames/s)%n",
        r.getLong("frames"), r.getLong("cases"), r.getLong("connections"), r.getLong("rest_bodies"), r.getDouble("seconds"),
        r.getLong("frames_per_s"));
    out.printf("  node alive %s, /health/ready %d, blocked warnings %d after the warm-up of %,d frames, judged (not: %d during"
        + " start-up, %d during the warm-up), ERROR lines logged %d%n", r.getBoolean("node_alive"), r.getInteger("ready_status"),
        r.getInteger("blocked_warnings"), r.getLong("warmup_frames"), r.getLong("blocked_warnings_before_ready"),
        r.getLong("blocked_warnings_warmup"), r.getLong("node_errors_logged"));
    out.printf("  machine load average (1, 5, 15 min) after the warm-up: %s; at the end: %s (%d cores)%n",
        r.getString("load_average_start"), r.getString("load_average_end"), Runtime.getRuntime().availableProcessors());
    out.printf("  live heap after GC: start %,d KiB, end %,d KiB (bound: +%,d KiB)%n", r.getLong("heap_live_start_kb"),
        r.getLong("heap_live_end_kb"), r.getLong("heap_growth_max_kb"));
    out.println("  replies by kind:");
    r.getJsonObject("replies").getMap().entrySet().stream().sorted(Map.Entry.comparingByKey())
        .forEach(e -> out.printf("    %-34s %,d%n", e.getKey(), ((Number) e.getValue()).longValue()));
    out.println("  cases by kind (count, mean ms from first byte to last reply):");
    r.getJsonObject("case_kinds").forEach(e -> out.printf("    %-34s %,9d %8.2f%n", e.getKey(), ((Number) e.getValue()).longValue(),
        r.getJsonObject("case_ms_by_kind").getDouble(e.getKey())));
    out.printf("  findings: %,d%n", r.getLong("findings"));
    r.getJsonObject("findings_by_kind").forEach(e -> out.printf("    %-34s %,d%n", e.getKey(), ((Number) e.getValue()).longValue()));
    r.getJsonArray("finding_samples").forEach(f -> out.println("    " + f));
    r.getJsonArray("blocked_lines").forEach(f -> out.println("    blocked: " + f));
    out.printf("  blocked warnings after the warm-up explained by the event loop waiting for a CPU (run-queue wait"
        + " of the span over span - 100 ms), not judged: %d; run-queue wait in the run: %s%n", r.getInteger("blocked_warnings_starved"),
        r.getString("event_loop_run_queue_wait"));
    r.getJsonArray("blocked_lines_starved").forEach(f -> out.println("    starved: " + f));
    r.getJsonArray("node_error_lines").forEach(f -> out.println("    node ERROR: " + f));
    out.println("  node log: " + r.getString("node_log"));
  }
}
