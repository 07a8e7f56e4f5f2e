package io.parley.pushfakes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the local push services so a person can watch Parley's pushes arrive: the Web Push fake
 * (default port 8871; {@code POST /subscribe} gives a subscription to register) and the FCM fake
 * (default port 8872), with the FCM service account written into a directory and the environment
 * Parley needs printed; then logs every push accepted (Web Push decrypted) until stopped.
 *
 * <pre>
 * PushFakes [--host H] [--webpush-port P] [--fcm-port P] [--dir DIR] [--delay-ms D]
 *           [--throttle-for-s S] [--throttle-retry-after-s N] [--throttle-rate R]
 * </pre>
 * Exit code 2 on a bad command line.
 */
public final class PushFakes {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS", Locale.ROOT)
      .withZone(ZoneId.systemDefault());

  static final String USAGE = String.join("\n",
      "usage: push-fakes [options]",
      "  --host H                   interface to listen on (127.0.0.1)",
      "  --webpush-port P           the Web Push service (8871; 0: any free port)",
      "  --fcm-port P               the FCM service: token endpoint and messages:send (8872; 0: any free port)",
      "  --dir DIR                  where the FCM service account JSON is written (target/push-fakes)",
      "  --delay-ms D               answer every push D ms after it arrived (0)",
      "  --throttle-for-s S         for the first S s answer pushes 429 with Retry-After (0: never)",
      "  --throttle-retry-after-s N the Retry-After of those answers, seconds (1)",
      "  --throttle-rate R          while throttling, let R pushes per second through (0: none)");

  private PushFakes() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o;
    try {
      o = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
      return;
    }
    if (o.containsKey("help")) {
      System.out.println(USAGE);
      return;
    }
    String host = o.getOrDefault("host", "127.0.0.1");
    int webPushPort = intOpt(o, "webpush-port", 8871);
    int fcmPort = intOpt(o, "fcm-port", 8872);
    Path dir = Path.of(o.getOrDefault("dir", "target/push-fakes")).toAbsolutePath();
    long delayMs = intOpt(o, "delay-ms", 0);
    int throttleForS = intOpt(o, "throttle-for-s", 0);
    int retryAfterS = intOpt(o, "throttle-retry-after-s", 1);
    int throttleRate = intOpt(o, "throttle-rate", 0);

    FakePushService webPush = new FakePushService(null, host, webPushPort);
    FakeFcmService fcm = new FakeFcmService(System::currentTimeMillis, host, fcmPort);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("push-fakes: stopping; webpush " + webPush.pacing.counters().encode() + ", fcm "
          + fcm.pacing.counters().encode());
      webPush.close();
      fcm.close();
    }, "push-fakes-stop"));
    for (Pacing p : new Pacing[] {webPush.pacing, fcm.pacing}) {
      p.setDelayMs(delayMs);
      if (throttleForS > 0) {
        p.throttle(throttleForS * 1000L, retryAfterS, throttleRate);
      }
      p.onAccepted(a -> System.out.println(line(a)));
    }
    Path account = writeServiceAccount(fcm, dir);

    System.out.println("push-fakes: Web Push on " + webPush.origin() + " (POST " + webPush.origin()
        + "/subscribe gives a subscription), FCM on " + fcm.origin() + " (project " + FakeFcmService.PROJECT + ")");
    if (delayMs > 0 || throttleForS > 0) {
      System.out.println("push-fakes: answers after " + delayMs + " ms"
          + (throttleForS > 0 ? "; 429 with Retry-After: " + retryAfterS + " for the first " + throttleForS + " s"
              + (throttleRate > 0 ? " beyond " + throttleRate + " pushes/s" : "") : ""));
    }
    System.out.println("push-fakes: start Parley with this environment:");
    env(account, fcm).forEach((k, v) -> System.out.println("  export " + k + "=" + v));
    System.out.println("push-fakes: every accepted push is logged below; Ctrl-C stops");
    new CountDownLatch(1).await();
  }

  /** The environment that points Parley's FCM sender at {@code fcm} (Web Push needs none: endpoints name the service). */
  public static Map<String, String> env(Path serviceAccount, FakeFcmService fcm) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PARLEY_PUSH_FCM_SERVICE_ACCOUNT_FILE", serviceAccount.toAbsolutePath().toString());
    env.put("PARLEY_PUSH_FCM_BASE_URL", fcm.origin());
    return env;
  }

  /** Writes the fake's service account (its {@code token_uri} is the fake's) as {@code dir/service-account.json}. */
  public static Path writeServiceAccount(FakeFcmService fcm, Path dir) throws IOException {
    Files.createDirectories(dir);
    return fcm.writeServiceAccount(dir.resolve("service-account.json"));
  }

  static String line(Pacing.Accepted a) {
    return TIME.format(Instant.ofEpochMilli(a.atMs())) + " " + a.provider() + " " + a.address() + " conv=" + a.conv()
        + " server_id=" + a.serverId() + " count=" + a.count() + " " + a.payload().encode();
  }

  static Map<String, String> parse(String[] args) {
    Map<String, String> o = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        o.put("help", "");
        continue;
      }
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + a + "'");
      }
      String key = a.substring(2);
      String value;
      int eq = key.indexOf('=');
      if (eq >= 0) {
        value = key.substring(eq + 1);
        key = key.substring(0, eq);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new IllegalArgumentException("option --" + key + " needs a value");
      }
      if (!USAGE.contains("--" + key + " ")) {
        throw new IllegalArgumentException("unknown option --" + key);
      }
      o.put(key, value);
    }
    return o;
  }

  private static int intOpt(Map<String, String> o, String key, int def) {
    String v = o.get(key);
    if (v == null) {
      return def;
    }
    try {
      int n = Integer.parseInt(v);
      if (n < 0 || (key.endsWith("port") && n > 65_535)) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      System.err.println("error: --" + key + " expects a non-negative integer" + (key.endsWith("port") ? " up to 65535" : "")
          + ", got '" + v + "'");
      System.exit(2);
      return def;
    }
  }
}
