package io.parley.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.vertx.core.json.JsonObject;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Unit tests of {@link ConfigLoader}: every shipped profile loads (and every shipped overlay is a
 * known profile); defaults; environment variables and system properties override (environment
 * last); a {@code PARLEY_CONFIG_FILE} overlay applies and rejects unknown keys, wrong types and
 * unreadable files; every bad value — unparsable, out of range, unknown profile, short JWT secret,
 * inconsistent pairs — stops loading with a {@link ConfigException} whose message names the key.
 */
class ConfigLoaderTest {
  @TempDir
  Path tmp;

  private static ParleyConfig load(Map<String, String> env) {
    return ConfigLoader.load(env, Map.of());
  }

  private static ConfigException failure(Map<String, String> env, Map<String, String> sys) {
    Throwable t = catchThrowable(() -> ConfigLoader.load(env, sys));
    assertThat(t).as("loading %s / %s", env, sys).isInstanceOf(ConfigException.class);
    return (ConfigException) t;
  }

  private static ConfigException failure(Map<String, String> env) {
    return failure(env, Map.of());
  }

  private Map<String, String> withFile(String json) throws Exception {
    Path f = tmp.resolve("parley-" + System.nanoTime() + ".json");
    Files.writeString(f, json, StandardCharsets.UTF_8);
    Map<String, String> env = new HashMap<>();
    env.put("PARLEY_CONFIG_FILE", f.toString());
    return env;
  }

  // ---- profiles and defaults ----

  @Test
  void everyKnownProfileLoads() {
    assertThat(ConfigLoader.PROFILES).isNotEmpty().contains("embedded");
    for (String profile : ConfigLoader.PROFILES) {
      assertThat(load(Map.of("PARLEY_PROFILE", profile)).profile()).isEqualTo(profile);
      assertThat(ConfigLoader.load(Map.of(), Map.of("parley.profile", profile)).profile()).isEqualTo(profile);
      assertThat(ConfigLoaderTest.class.getClassLoader().getResource("conf/" + profile + ".json"))
          .as("overlay of profile %s", profile).isNotNull();
    }
  }

  @Test
  void everyShippedOverlayIsAKnownProfileWithKnownKeys() throws Exception {
    URL base = ConfigLoaderTest.class.getClassLoader().getResource("conf/base.json");
    assertThat(base).isNotNull();
    assertThat(base.getProtocol()).as("conf/ on the test classpath is a directory").isEqualTo("file");
    Path confDir = Path.of(base.toURI()).getParent();
    JsonObject baseJson = new JsonObject(Files.readString(confDir.resolve("base.json")));
    List<String> overlays = new ArrayList<>();
    try (Stream<Path> files = Files.list(confDir)) {
      files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json") && !n.equals("base.json"))
          .forEach(overlays::add);
    }
    assertThat(overlays).isNotEmpty();
    for (String file : overlays) {
      String profile = file.substring(0, file.length() - ".json".length());
      assertThat(ConfigLoader.PROFILES).as("shipped overlay %s", file).contains(profile);
      JsonObject overlay = new JsonObject(Files.readString(confDir.resolve(file)));
      assertThat(baseJson.fieldNames()).as("keys of %s", file).containsAll(overlay.fieldNames());
      assertThat(load(Map.of("PARLEY_PROFILE", profile)).profile()).isEqualTo(profile);
    }
  }

  @Test
  void defaults() {
    ParleyConfig c = load(Map.of());
    assertThat(c.profile()).isEqualTo("embedded");
    assertThat(c.nodeId()).isEqualTo(1);
    assertThat(c.nodeName()).isEqualTo("node-1");
    assertThat(c.httpHost()).isEqualTo("127.0.0.1");
    assertThat(c.httpPort()).isEqualTo(8080);
    assertThat(c.dataDir()).isEqualTo(Path.of("./data"));
    assertThat(c.jwtSecret()).isEmpty();
    assertThat(c.devTokenEnabled()).as("embedded overlay turns dev tokens on").isTrue();
    assertThat(c.devTokenTtlSeconds()).isEqualTo(86400);
    assertThat(c.gatewayInstances()).isZero();
    assertThat(c.transport()).isEqualTo("auto");
    assertThat(c.bodyMaxBytes()).isEqualTo(65536);
    assertThat(c.mediaMaxItems()).isEqualTo(10);
    assertThat(c.frameMaxBytes()).isEqualTo(262144);
    assertThat(c.sendRatePerSecond()).isEqualTo(200);
    assertThat(c.sendBurst()).isEqualTo(400);
    assertThat(c.syncConvsMax()).isEqualTo(100);
    assertThat(c.presenceUsersMax()).isEqualTo(1000);
    assertThat(c.idleTimeoutMs()).isEqualTo(90000);
    assertThat(c.typingThrottleMs()).isEqualTo(1000);
    assertThat(c.fsync()).isTrue();
    assertThat(c.smallGroupMax()).isEqualTo(100);
    assertThat(c.largeGroupMax()).isEqualTo(5000);
    assertThat(c.historyPageDefault()).isEqualTo(50);
    assertThat(c.historyPageMax()).isEqualTo(200);
    assertThat(c.syncMaxMessages()).isEqualTo(200);
    assertThat(c.cluster().fanoutRemoteRequestChars()).isEqualTo(256 * 1024);
    GatewaySettings g = c.gateway();
    assertThat(g.slowReaderUnsentMaxBytes()).isEqualTo(8L << 20);
    assertThat(g.slowReaderBehindMs()).isEqualTo(2000);
    assertThat(g.syncHeldBackMax()).isEqualTo(10_000);
    assertThat(g.sendsWaitingMax()).isEqualTo(1_000);
    assertThat(g.registerWaitMs()).isEqualTo(10_000);
    assertThat(g.closeTimeoutMs()).isEqualTo(10_000);
    assertThat(g.requestTimeoutMs()).isEqualTo(10_000);
    assertThat(g.ipLimits()).isEqualTo(new IpLimitSettings(50, 500, 100, 1000, true, 100_000));
    assertThat(c.push()).isEqualTo(new PushSettings(10, 0, "", "", "", "", "https://fcm.googleapis.com", true, "", 25, "parley@localhost", "OPTIONAL", "", "", "", "", "", "", "https://api.push.apple.com", "https://api.sandbox.push.apple.com", ""));
  }

  @Test
  void eventLoopExecuteLimitDefaultsToVertxsAndIsValidated() {
    assertThat(load(Map.of()).maxEventLoopExecuteMs()).isEqualTo(2000);
    assertThat(load(Map.of("PARLEY_VERTX_MAX_EVENT_LOOP_EXECUTE_MS", "100")).maxEventLoopExecuteMs()).isEqualTo(100);
    assertThat(load(Map.of("PARLEY_VERTX_MAX_EVENT_LOOP_EXECUTE_MS", "100")).withJwtSecret("x".repeat(32))
        .maxEventLoopExecuteMs()).as("kept by withJwtSecret").isEqualTo(100);
    assertThat(failure(Map.of("PARLEY_VERTX_MAX_EVENT_LOOP_EXECUTE_MS", "0")).getMessage())
        .contains("vertx.max_event_loop_execute_ms");
    assertThat(failure(Map.of("PARLEY_VERTX_MAX_EVENT_LOOP_EXECUTE_MS", "fast")).getMessage())
        .contains("vertx.max_event_loop_execute_ms");
  }

  @Test
  void warmupDefaultsOnAndIsValidated() {
    assertThat(load(Map.of()).warmupMs()).isEqualTo(2000);
    assertThat(load(Map.of("PARLEY_WARMUP_MS", "0")).warmupMs()).as("0 turns it off").isZero();
    assertThat(load(Map.of("PARLEY_WARMUP_MS", "5000")).withJwtSecret("x".repeat(32)).warmupMs())
        .as("kept by withJwtSecret").isEqualTo(5000);
    assertThat(failure(Map.of("PARLEY_WARMUP_MS", "-1")).getMessage()).contains("warmup.ms");
    assertThat(failure(Map.of("PARLEY_WARMUP_MS", "60001")).getMessage()).contains("warmup.ms");
    assertThat(failure(Map.of("PARLEY_WARMUP_MS", "soon")).getMessage()).contains("warmup.ms");
  }

  @Test
  void gatewayLimitsOverride() {
    Map<String, String> env = new HashMap<>();
    env.put("PARLEY_GATEWAY_SLOW_READER_UNSENT_MAX_BYTES", "1048576");
    env.put("PARLEY_GATEWAY_SLOW_READER_BEHIND_MS", "500");
    env.put("PARLEY_GATEWAY_SYNC_HELD_BACK_MAX", "7");
    env.put("PARLEY_GATEWAY_SENDS_WAITING_MAX", "8");
    env.put("PARLEY_GATEWAY_REGISTER_WAIT_MS", "10");
    env.put("PARLEY_GATEWAY_CLOSE_TIMEOUT_MS", "11");
    env.put("PARLEY_GATEWAY_REQUEST_TIMEOUT_MS", "12");
    env.put("PARLEY_LIMITS_IP_HANDSHAKES_PER_S", "0");
    env.put("PARLEY_LIMITS_IP_HANDSHAKE_BURST", "13");
    env.put("PARLEY_LIMITS_IP_REST_PER_S", "14");
    env.put("PARLEY_LIMITS_IP_REST_BURST", "15");
    env.put("PARLEY_LIMITS_IP_EXEMPT_LOOPBACK", "false");
    env.put("PARLEY_LIMITS_IP_TRACKED_MAX", "16");
    env.put("PARLEY_DRAIN_WINDOW_MS", "0");
    env.put("PARLEY_DRAIN_TIMEOUT_MS", "17");
    assertThat(load(env).gateway()).isEqualTo(new GatewaySettings(1 << 20, 500, 7, 8, 10, 11, 12,
        new IpLimitSettings(0, 13, 14, 15, false, 16), new DrainSettings(0, 17), List.of()));
  }

  @Test
  void drainDefaultsDifferByProfileAndBadValuesNameTheKey() {
    assertThat(load(Map.of()).gateway().drain()).as("embedded: no other node to move to")
        .isEqualTo(new DrainSettings(2_000, 15_000));
    assertThat(load(Map.of("PARLEY_PROFILE", "cluster")).gateway().drain()).isEqualTo(new DrainSettings(30_000, 60_000));
    assertThat(failure(Map.of("PARLEY_DRAIN_WINDOW_MS", "-1")).getMessage()).startsWith("drain.window_ms");
    assertThat(failure(Map.of("PARLEY_DRAIN_TIMEOUT_MS", "0")).getMessage()).startsWith("drain.timeout_ms");
  }

  @Test
  void pushSettingsFromTheEnvironment() {
    ParleyConfig c = load(Map.of("PARLEY_PUSH_DEVICES_MAX", "3", "PARLEY_PUSH_PREVIEW_CHARS", "64",
        "PARLEY_PUSH_WEBPUSH_VAPID_KEY_FILE", " /etc/parley/vapid.pem ", "PARLEY_PUSH_WEBPUSH_SUBJECT", "mailto:ops@example.com"));
    assertThat(c.push()).isEqualTo(new PushSettings(3, 64, "/etc/parley/vapid.pem", "mailto:ops@example.com", "", "",
        "https://fcm.googleapis.com", true, "", 25, "parley@localhost", "OPTIONAL", "", "", "", "", "", "",
        "https://api.push.apple.com", "https://api.sandbox.push.apple.com", ""));
    assertThat(load(Map.of("PARLEY_PUSH_WEBPUSH_SUBJECT", "https://example.com/contact")).push().webPushSubject())
        .isEqualTo("https://example.com/contact");
  }

  @Test
  void fcmSettingsFromTheEnvironment() {
    PushSettings p = load(Map.of("PARLEY_PUSH_FCM_SERVICE_ACCOUNT_FILE", " /etc/parley/fcm.json ",
        "PARLEY_PUSH_FCM_PROJECT_ID", "chat-prod-1", "PARLEY_PUSH_FCM_BASE_URL", "http://127.0.0.1:9099/")).push();
    assertThat(p.fcmServiceAccountFile()).isEqualTo("/etc/parley/fcm.json");
    assertThat(p.fcmProjectId()).isEqualTo("chat-prod-1");
    assertThat(p.fcmBaseUrl()).as("the trailing slash dropped").isEqualTo("http://127.0.0.1:9099");
    assertThat(load(Map.of("PARLEY_PROFILE", "cluster")).push().fcmServiceAccountFile()).as("off by default on cluster too").isEmpty();
  }

  @Test
  void smtpAndWebPushSwitchFromTheEnvironment() {
    PushSettings p = load(Map.of("PARLEY_PUSH_SMTP_HOST", " mail.example.com ", "PARLEY_PUSH_SMTP_PORT", "587",
        "PARLEY_PUSH_SMTP_FROM", "chat@example.com", "PARLEY_PUSH_SMTP_STARTTLS", "REQUIRED",
        "PARLEY_PUSH_SMTP_USERNAME", "chat", "PARLEY_PUSH_SMTP_PASSWORD", "s3cret", "PARLEY_PUSH_WEBPUSH_ENABLED", "false")).push();
    assertThat(p.smtpHost()).isEqualTo("mail.example.com");
    assertThat(p.smtpPort()).isEqualTo(587);
    assertThat(p.smtpFrom()).isEqualTo("chat@example.com");
    assertThat(p.smtpStarttls()).isEqualTo("REQUIRED");
    assertThat(p.smtpUsername()).isEqualTo("chat");
    assertThat(p.smtpPassword()).isEqualTo("s3cret");
    assertThat(p.webPushEnabled()).isFalse();
    assertThat(p.toString()).as("the password is never printed").doesNotContain("s3cret").contains("smtpUsername=chat");
    PushSettings cluster = load(Map.of("PARLEY_PROFILE", "cluster")).push();
    assertThat(cluster.smtpHost()).as("email digests off by default on cluster too").isEmpty();
    assertThat(cluster.webPushEnabled()).isTrue();
    assertThat(load(Map.of("PARLEY_PUSH_SMTP_HOST", "::1")).push().smtpHost()).as("an IPv6 address").isEqualTo("::1");
  }

  @Test
  void apnsSettingsFromTheEnvironment() {
    PushSettings off = load(Map.of()).push();
    assertThat(off.apnsOn()).as("off by default").isFalse();
    assertThat(load(Map.of("PARLEY_PROFILE", "cluster")).push().apnsOn()).as("off by default on cluster too").isFalse();
    assertThat(off.apnsBaseUrl()).isEqualTo("https://api.push.apple.com");
    assertThat(off.apnsSandboxBaseUrl()).isEqualTo("https://api.sandbox.push.apple.com");

    PushSettings p = load(Map.of("PARLEY_PUSH_APNS_KEY_FILE", " /etc/parley/AuthKey_ABC123DEFG.p8 ",
        "PARLEY_PUSH_APNS_KEY_ID", "ABC123DEFG", "PARLEY_PUSH_APNS_TEAM_ID", "DEF123GHIJ", "PARLEY_PUSH_APNS_TOPIC", "com.example.chat",
        "PARLEY_PUSH_APNS_BASE_URL", "https://127.0.0.1:2197/", "PARLEY_PUSH_APNS_SANDBOX_BASE_URL", "https://localhost:2198",
        "PARLEY_PUSH_APNS_CA_FILE", "/etc/parley/apns-ca.pem")).push();
    assertThat(p.apnsOn()).isTrue();
    assertThat(p.apnsKeyFile()).isEqualTo("/etc/parley/AuthKey_ABC123DEFG.p8");
    assertThat(p.apnsKeyId()).isEqualTo("ABC123DEFG");
    assertThat(p.apnsTeamId()).isEqualTo("DEF123GHIJ");
    assertThat(p.apnsTopic()).isEqualTo("com.example.chat");
    assertThat(p.apnsBaseUrl()).as("the trailing slash dropped").isEqualTo("https://127.0.0.1:2197");
    assertThat(p.apnsSandboxBaseUrl()).isEqualTo("https://localhost:2198");
    assertThat(p.apnsCaFile()).isEqualTo("/etc/parley/apns-ca.pem");
  }

  @Test
  void anApnsKeyFileNeedsItsKeyIdAndTeamId() {
    assertThat(failure(Map.of("PARLEY_PUSH_APNS_KEY_FILE", "/k.p8", "PARLEY_PUSH_APNS_TEAM_ID", "DEF123GHIJ")).getMessage())
        .contains("push.apns.key_id").contains("required");
    assertThat(failure(Map.of("PARLEY_PUSH_APNS_KEY_FILE", "/k.p8", "PARLEY_PUSH_APNS_KEY_ID", "ABC123DEFG")).getMessage())
        .contains("push.apns.team_id").contains("required");
  }

  @Test
  void envName() {
    assertThat(ConfigLoader.envName("http.port")).isEqualTo("PARLEY_HTTP_PORT");
    assertThat(ConfigLoader.envName("limits.body_max_bytes")).isEqualTo("PARLEY_LIMITS_BODY_MAX_BYTES");
    assertThat(ConfigLoader.envName("dev_token.ttl_s")).isEqualTo("PARLEY_DEV_TOKEN_TTL_S");
  }

  // ---- overrides ----

  @Test
  void environmentOverrides() {
    Map<String, String> env = new HashMap<>();
    env.put("PARLEY_HTTP_PORT", "9090");
    env.put("PARLEY_HTTP_HOST", "0.0.0.0");
    env.put("PARLEY_NODE_ID", "1023");
    env.put("PARLEY_STORAGE_FSYNC", "FALSE");
    env.put("PARLEY_DATA_DIR", "/var/lib/parley");
    env.put("PARLEY_LIMITS_BODY_MAX_BYTES", "1000");
    env.put("PARLEY_DEV_TOKEN_ENABLED", "false");
    env.put("PARLEY_HEARTBEAT_IDLE_TIMEOUT_MS", "5000000000");
    env.put("PARLEY_JWT_SECRET", "0123456789abcdef0123456789abcdef");
    env.put("PARLEY_FANOUT_REMOTE_REQUEST_CHARS", "1");
    env.put("UNRELATED", "x");
    ParleyConfig c = load(env);
    assertThat(c.cluster().fanoutRemoteRequestChars()).isEqualTo(1);
    assertThat(c.httpPort()).isEqualTo(9090);
    assertThat(c.httpHost()).isEqualTo("0.0.0.0");
    assertThat(c.nodeId()).isEqualTo(1023);
    assertThat(c.fsync()).isFalse();
    assertThat(c.dataDir()).isEqualTo(Path.of("/var/lib/parley"));
    assertThat(c.bodyMaxBytes()).isEqualTo(1000);
    assertThat(c.devTokenEnabled()).isFalse();
    assertThat(c.idleTimeoutMs()).isEqualTo(5_000_000_000L);
    assertThat(c.jwtSecret()).isEqualTo("0123456789abcdef0123456789abcdef");
    assertThat(c.frameMaxBytes()).as("untouched keys keep defaults").isEqualTo(262144);
  }

  @Test
  void httpPortZeroMeansAnyFreePort() {
    assertThat(load(Map.of("PARLEY_HTTP_PORT", "0")).httpPort()).isZero();
  }

  @Test
  void clusterPortZeroMeansAnyFreePortAndAnEmptyMemberListFoundsTheCluster() {
    ClusterSettings d = load(Map.of("PARLEY_PROFILE", "cluster", "PARLEY_JWT_SECRET", "x".repeat(32))).cluster();
    assertThat(d.port()).as("default").isEqualTo(5701);
    assertThat(d.members()).as("default").containsExactly("127.0.0.1:5701", "127.0.0.1:5702", "127.0.0.1:5703");

    ClusterSettings c = load(Map.of("PARLEY_PROFILE", "cluster", "PARLEY_JWT_SECRET", "x".repeat(32),
        "PARLEY_CLUSTER_PORT", "0", "PARLEY_CLUSTER_MEMBERS", "")).cluster();
    assertThat(c.port()).isZero();
    assertThat(c.members()).isEmpty();
    assertThat(load(Map.of("PARLEY_CLUSTER_MEMBERS", " 127.0.0.1:40191 ")).cluster().members()).containsExactly("127.0.0.1:40191");

    assertThat(failure(Map.of("PARLEY_CLUSTER_PORT", "-1")).getMessage()).contains("cluster.port");
    assertThat(failure(Map.of("PARLEY_CLUSTER_PORT", "65536")).getMessage()).contains("cluster.port");
    assertThat(failure(Map.of("PARLEY_CLUSTER_MEMBERS", "127.0.0.1:0")).getMessage()).as("a member's port is never 0")
        .contains("cluster.members");
    assertThat(failure(Map.of("PARLEY_CLUSTER_MEMBERS", "127.0.0.1")).getMessage()).contains("cluster.members");
  }

  @Test
  void numbersAreTrimmed() {
    assertThat(load(Map.of("PARLEY_HTTP_PORT", " 9091 ")).httpPort()).isEqualTo(9091);
  }

  @Test
  void systemPropertiesOverrideAndEnvironmentWins() {
    ParleyConfig sys = ConfigLoader.load(Map.of(), Map.of("parley.http.port", "7001", "parley.storage.fsync", "false"));
    assertThat(sys.httpPort()).isEqualTo(7001);
    assertThat(sys.fsync()).isFalse();

    ParleyConfig both = ConfigLoader.load(Map.of("PARLEY_HTTP_PORT", "7002"), Map.of("parley.http.port", "7001"));
    assertThat(both.httpPort()).isEqualTo(7002);
  }

  @Test
  void configFileOverlay() throws Exception {
    Map<String, String> env = withFile("{\"http.port\": 7000, \"storage.fsync\": false, \"groups.large_max\": 300}");
    ParleyConfig c = load(env);
    assertThat(c.httpPort()).isEqualTo(7000);
    assertThat(c.fsync()).isFalse();
    assertThat(c.largeGroupMax()).isEqualTo(300);
    assertThat(c.devTokenEnabled()).as("profile overlay still applies").isTrue();

    env.put("PARLEY_HTTP_PORT", "7005");
    assertThat(load(env).httpPort()).as("environment beats the file").isEqualTo(7005);
    assertThat(ConfigLoader.load(withFile("{\"http.port\": 7000}"), Map.of("parley.http.port", "7006")).httpPort())
        .as("system properties beat the file").isEqualTo(7006);
  }

  @Test
  void blankConfigFileVariableIsIgnored() {
    assertThat(load(Map.of("PARLEY_CONFIG_FILE", " ")).httpPort()).isEqualTo(8080);
  }

  @Test
  void configFileWithUnknownKeyFails() throws Exception {
    ConfigException e = failure(withFile("{\"http.port\": 7000, \"http.prot\": 7001}"));
    assertThat(e.getMessage()).contains("http.prot");
  }

  @Test
  void configFileWithWrongTypeFails() throws Exception {
    assertThat(failure(withFile("{\"http.port\": \"7000\"}")).getMessage()).contains("http.port");
    assertThat(failure(withFile("{\"storage.fsync\": \"yes\"}")).getMessage()).contains("storage.fsync");
    assertThat(failure(withFile("{\"http.host\": 1}")).getMessage()).contains("http.host");
    assertThat(failure(withFile("{\"http.port\": 80.5}")).getMessage()).contains("http.port");
  }

  @Test
  void configFileWithNullForARequiredValueFailsNamingTheKey() throws Exception {
    assertThat(failure(withFile("{\"http.port\": null}")).getMessage()).contains("http.port");
    assertThat(failure(withFile("{\"http.host\": null}")).getMessage()).contains("http.host");
    assertThat(failure(withFile("{\"storage.fsync\": null}")).getMessage()).contains("storage.fsync");
  }

  @Test
  void unreadableConfigFileFails() throws Exception {
    assertThat(failure(Map.of("PARLEY_CONFIG_FILE", tmp.resolve("missing.json").toString())).getMessage())
        .contains("PARLEY_CONFIG_FILE");
    assertThat(failure(withFile("{not json")).getMessage()).contains("PARLEY_CONFIG_FILE");
    assertThat(failure(withFile("[1]")).getMessage()).contains("PARLEY_CONFIG_FILE");
  }

  // ---- bad values ----

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(delimiter = '|', value = {
      "PARLEY_HTTP_PORT|abc|http.port",
      "PARLEY_HTTP_PORT|70000|http.port",
      "PARLEY_HTTP_PORT|-1|http.port",
      "PARLEY_HTTP_PORT|8080.0|http.port",
      "PARLEY_HTTP_PORT|99999999999999999999|http.port",
      "PARLEY_HTTP_PORT|''|http.port",
      "PARLEY_NODE_ID|1024|node.id",
      "PARLEY_NODE_ID|4294967297|node.id",
      "PARLEY_STORAGE_FSYNC|maybe|storage.fsync",
      "PARLEY_STORAGE_FSYNC|1|storage.fsync",
      "PARLEY_DEV_TOKEN_ENABLED|yes|dev_token.enabled",
      "PARLEY_HTTP_HOST|'  '|http.host",
      "PARLEY_DATA_DIR|''|data.dir",
      "PARLEY_PROFILE|cassandra|profile",
      "PARLEY_PROFILE|EMBEDDED|profile",
      "PARLEY_JWT_SECRET|short|jwt.secret",
      "PARLEY_JWT_SECRET|0123456789abcdef0123456789abcde|jwt.secret",
      "PARLEY_LIMITS_BODY_MAX_BYTES|0|limits.body_max_bytes",
      "PARLEY_GATEWAY_INSTANCES|65|gateway.instances",
      "PARLEY_HEARTBEAT_IDLE_TIMEOUT_MS|99|heartbeat.idle_timeout_ms",
      "PARLEY_LIMITS_FRAME_MAX_BYTES|2048|limits.frame_max_bytes",
      "PARLEY_HISTORY_PAGE_DEFAULT|201|history.page_default",
      "PARLEY_GROUPS_SMALL_MAX|6000|groups.small_max",
      "PARLEY_TRANSPORT|kqueue|transport",
      "PARLEY_TRANSPORT|IO_URING|transport",
      "PARLEY_TRANSPORT|''|transport",
      "PARLEY_FANOUT_REMOTE_REQUEST_CHARS|0|fanout.remote_request_chars",
      "PARLEY_FANOUT_REMOTE_REQUEST_CHARS|many|fanout.remote_request_chars",
      "PARLEY_GATEWAY_SLOW_READER_UNSENT_MAX_BYTES|0|gateway.slow_reader.unsent_max_bytes",
      "PARLEY_LIMITS_IP_HANDSHAKES_PER_S|-1|limits.ip.handshakes_per_s",
      "PARLEY_LIMITS_IP_HANDSHAKE_BURST|0|limits.ip.handshake_burst",
      "PARLEY_LIMITS_IP_REST_PER_S|fast|limits.ip.rest_per_s",
      "PARLEY_LIMITS_IP_REST_BURST|0|limits.ip.rest_burst",
      "PARLEY_LIMITS_IP_EXEMPT_LOOPBACK|yes|limits.ip.exempt_loopback",
      "PARLEY_LIMITS_IP_TRACKED_MAX|0|limits.ip.tracked_max",
      "PARLEY_GATEWAY_SLOW_READER_BEHIND_MS|-1|gateway.slow_reader.behind_ms",
      "PARLEY_GATEWAY_SLOW_READER_BEHIND_MS|9223372036854775807|gateway.slow_reader.behind_ms",
      "PARLEY_GATEWAY_SYNC_HELD_BACK_MAX|0|gateway.sync.held_back_max",
      "PARLEY_GATEWAY_SYNC_HELD_BACK_MAX|4294967296|gateway.sync.held_back_max",
      "PARLEY_GATEWAY_SENDS_WAITING_MAX|0|gateway.sends_waiting_max",
      "PARLEY_GATEWAY_REGISTER_WAIT_MS|0|gateway.register_wait_ms",
      "PARLEY_GATEWAY_CLOSE_TIMEOUT_MS|0|gateway.close_timeout_ms",
      "PARLEY_GATEWAY_REQUEST_TIMEOUT_MS|-5|gateway.request_timeout_ms",
      "PARLEY_GATEWAY_REQUEST_TIMEOUT_MS|soon|gateway.request_timeout_ms",
      "PARLEY_PUSH_DEVICES_MAX|0|push.devices_max",
      "PARLEY_PUSH_DEVICES_MAX|1001|push.devices_max",
      "PARLEY_PUSH_PREVIEW_CHARS|-1|push.preview_chars",
      "PARLEY_PUSH_PREVIEW_CHARS|65|push.preview_chars",
      "PARLEY_PUSH_WEBPUSH_SUBJECT|ops@example.com|push.webpush.subject",
      "PARLEY_PUSH_FCM_PROJECT_ID|a/b|push.fcm.project_id",
      "PARLEY_PUSH_FCM_PROJECT_ID|-x|push.fcm.project_id",
      "PARLEY_PUSH_FCM_BASE_URL|fcm.googleapis.com|push.fcm.base_url",
      "PARLEY_PUSH_FCM_BASE_URL|ftp://fcm.googleapis.com|push.fcm.base_url",
      "PARLEY_PUSH_FCM_BASE_URL|https://fcm.googleapis.com/v1|push.fcm.base_url",
      "PARLEY_PUSH_FCM_BASE_URL|https://|push.fcm.base_url",
      "PARLEY_PUSH_FCM_BASE_URL|https://fcm.googleapis.com?x=1|push.fcm.base_url",
      "PARLEY_PUSH_WEBPUSH_ENABLED|no|push.webpush.enabled",
      "PARLEY_PUSH_SMTP_HOST|mail.example.com:25|push.smtp.host",
      "PARLEY_PUSH_SMTP_HOST|mail example|push.smtp.host",
      "PARLEY_PUSH_SMTP_PORT|0|push.smtp.port",
      "PARLEY_PUSH_SMTP_PORT|65536|push.smtp.port",
      "PARLEY_PUSH_SMTP_FROM|''|push.smtp.from",
      "PARLEY_PUSH_SMTP_FROM|parley|push.smtp.from",
      "PARLEY_PUSH_SMTP_FROM|Parley <p@example.com>|push.smtp.from",
      "PARLEY_PUSH_SMTP_STARTTLS|optional|push.smtp.starttls",
      "PARLEY_PUSH_SMTP_STARTTLS|TLS|push.smtp.starttls",
      "PARLEY_PUSH_APNS_KEY_ID|abc123defg|push.apns.key_id",
      "PARLEY_PUSH_APNS_KEY_ID|ABC123|push.apns.key_id",
      "PARLEY_PUSH_APNS_TEAM_ID|DEF 123GHIJ|push.apns.team_id",
      "PARLEY_PUSH_APNS_TOPIC|com.example/chat|push.apns.topic",
      "PARLEY_PUSH_APNS_BASE_URL|api.push.apple.com|push.apns.base_url",
      "PARLEY_PUSH_APNS_BASE_URL|https://api.push.apple.com/3/device|push.apns.base_url",
      "PARLEY_PUSH_APNS_SANDBOX_BASE_URL|ftp://api.sandbox.push.apple.com|push.apns.sandbox_base_url",
  })
  void badEnvironmentValueNamesTheKey(String var, String value, String key) {
    ConfigException e = failure(Map.of(var, value));
    assertThat(e.getMessage()).contains(key);
  }

  // ---- routing ----

  @Test
  void routingDefaultsAndOverrides() {
    RoutingSettings d = load(Map.of()).routing();
    assertThat(d.backlogMax()).isEqualTo(20_000);
    assertThat(d.batchMax()).isEqualTo(1024);
    assertThat(d.clusterAppendsMax()).isEqualTo(8);
    assertThat(d.memberCacheMax()).isEqualTo(10_000);
    assertThat(d.shedQueueWaitMs()).isEqualTo(1000);
    assertThat(d.loopLagMs()).isEqualTo(200);
    assertThat(d.hotGroupMembers()).isEqualTo(1000);
    assertThat(d.hotFanoutShards()).isEqualTo(16);
    assertThat(load(Map.of("PARLEY_PROFILE", "cluster")).routing()).as("same on the cluster profile").isEqualTo(d);

    RoutingSettings r = load(Map.of("PARLEY_ROUTING_BACKLOG_MAX", "500", "PARLEY_ROUTING_BATCH_MAX", "64",
        "PARLEY_ROUTING_CLUSTER_APPENDS_MAX", "1", "PARLEY_ROUTING_MEMBER_CACHE_MAX", "1",
        "PARLEY_ROUTING_SHED_QUEUE_WAIT_MS", "0", "PARLEY_OVERLOAD_LOOP_LAG_MS", "50",
        "PARLEY_ROUTING_HOT_GROUP_MEMBERS", "8", "PARLEY_ROUTING_HOT_FANOUT_SHARDS", "4")).routing();
    assertThat(r).isEqualTo(new RoutingSettings(500, 64, 1, 1, 0, 50, 8, 4));
    assertThat(load(Map.of("PARLEY_ROUTING_HOT_GROUP_MEMBERS", "0")).routing().hotGroupMembers()).as("0: off").isZero();
    assertThat(load(Map.of("PARLEY_OVERLOAD_LOOP_LAG_MS", "0")).routing().loopLagMs()).as("0: off").isZero();
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(delimiter = '|', value = {
      "PARLEY_ROUTING_BACKLOG_MAX|0|routing.backlog_max",
      "PARLEY_ROUTING_BACKLOG_MAX|lots|routing.backlog_max",
      "PARLEY_ROUTING_BACKLOG_MAX|10000001|routing.backlog_max",
      "PARLEY_ROUTING_BATCH_MAX|0|routing.batch_max",
      "PARLEY_ROUTING_BATCH_MAX|65537|routing.batch_max",
      "PARLEY_ROUTING_CLUSTER_APPENDS_MAX|0|routing.cluster_appends_max",
      "PARLEY_ROUTING_CLUSTER_APPENDS_MAX|1025|routing.cluster_appends_max",
      "PARLEY_ROUTING_MEMBER_CACHE_MAX|0|routing.member_cache_max",
      "PARLEY_ROUTING_MEMBER_CACHE_MAX|-1|routing.member_cache_max",
      "PARLEY_ROUTING_SHED_QUEUE_WAIT_MS|-1|routing.shed_queue_wait_ms",
      "PARLEY_ROUTING_SHED_QUEUE_WAIT_MS|3600001|routing.shed_queue_wait_ms",
      "PARLEY_ROUTING_SHED_QUEUE_WAIT_MS|soon|routing.shed_queue_wait_ms",
      "PARLEY_OVERLOAD_LOOP_LAG_MS|-1|overload.loop_lag_ms",
      "PARLEY_OVERLOAD_LOOP_LAG_MS|3600001|overload.loop_lag_ms",
      "PARLEY_OVERLOAD_LOOP_LAG_MS|1.5|overload.loop_lag_ms",
      "PARLEY_ROUTING_HOT_GROUP_MEMBERS|-1|routing.hot_group_members",
      "PARLEY_ROUTING_HOT_GROUP_MEMBERS|10000001|routing.hot_group_members",
      "PARLEY_ROUTING_HOT_GROUP_MEMBERS|many|routing.hot_group_members",
      "PARLEY_ROUTING_HOT_FANOUT_SHARDS|0|routing.hot_fanout_shards",
      "PARLEY_ROUTING_HOT_FANOUT_SHARDS|1025|routing.hot_fanout_shards",
  })
  void badRoutingValueNamesTheKey(String var, String value, String key) {
    assertThat(failure(Map.of(var, value)).getMessage()).contains(key);
  }

  @Test
  void badSystemPropertyNamesTheKey() {
    assertThat(failure(Map.of(), Map.of("parley.node.id", "2000")).getMessage()).contains("node.id");
    assertThat(failure(Map.of(), Map.of("parley.storage.fsync", "on")).getMessage()).contains("storage.fsync");
    assertThat(failure(Map.of(), Map.of("parley.profile", "redis")).getMessage()).contains("profile");
  }

  @Test
  void everyTransportChoiceLoadsFromTheEnvironmentOrASystemProperty() {
    for (String t : ConfigLoader.TRANSPORTS) {
      assertThat(load(Map.of("PARLEY_TRANSPORT", t)).transport()).isEqualTo(t);
      assertThat(ConfigLoader.load(Map.of(), Map.of("parley.transport", t)).transport()).isEqualTo(t);
    }
  }

  @Test
  void jwtSecretLengthCountsBytes() {
    // 11 characters, 33 UTF-8 bytes
    assertThat(load(Map.of("PARLEY_JWT_SECRET", "€".repeat(11))).jwtSecret()).isEqualTo("€".repeat(11));
    assertThat(load(Map.of("PARLEY_JWT_SECRET", "x".repeat(32))).jwtSecret()).hasSize(32);
    assertThat(failure(Map.of("PARLEY_JWT_SECRET", "x".repeat(31))).getMessage()).contains("jwt.secret");
  }

  // ---- the cluster adapters' timeouts and pools ----

  @Test
  void clusterAdapterLimitsDefaultToWhatTheAdaptersHadHardCoded() {
    ClusterSettings c = load(Map.of("PARLEY_PROFILE", "cluster", "PARLEY_JWT_SECRET", "x".repeat(32))).cluster();
    assertThat(c.kafkaAdminTimeoutMs()).isEqualTo(30_000);
    assertThat(c.kafkaPollTimeoutMs()).isEqualTo(100);
    assertThat(c.kafkaSessionTimeoutMs()).isEqualTo(6_000);
    assertThat(c.kafkaHeartbeatIntervalMs()).isEqualTo(2_000);
    assertThat(c.cassandraRequestTimeoutMs()).isEqualTo(10_000);
    assertThat(c.cassandraConnections()).isEqualTo(4);
    assertThat(c.cassandraDedupeTtlS()).isEqualTo(7 * 24 * 3600);
    assertThat(c.redisPoolSize()).isEqualTo(16);
    assertThat(c.redisPoolWaiting()).isEqualTo(4096);
    assertThat(c.limitsRedisTimeoutMs()).isEqualTo(500);
    assertThat(c.limitsRedisRetryMs()).isEqualTo(1_000);
    assertThat(c.routingDeadLetterAfterMs()).isEqualTo(60_000);
  }

  @Test
  void clusterAdapterLimitsAreSetFromTheEnvironment() {
    Map<String, String> env = new HashMap<>();
    env.put("PARLEY_KAFKA_ADMIN_TIMEOUT_MS", "60000");
    env.put("PARLEY_KAFKA_POLL_TIMEOUT_MS", "250");
    env.put("PARLEY_KAFKA_SESSION_TIMEOUT_MS", "10000");
    env.put("PARLEY_KAFKA_HEARTBEAT_INTERVAL_MS", "3000");
    env.put("PARLEY_CASSANDRA_REQUEST_TIMEOUT_MS", "2000");
    env.put("PARLEY_CASSANDRA_CONNECTIONS", "8");
    env.put("PARLEY_CASSANDRA_DEDUPE_TTL_S", "86400");
    env.put("PARLEY_REDIS_POOL_SIZE", "32");
    env.put("PARLEY_REDIS_POOL_WAITING", "100");
    env.put("PARLEY_LIMITS_REDIS_TIMEOUT_MS", "50");
    env.put("PARLEY_LIMITS_REDIS_RETRY_MS", "5000");
    env.put("PARLEY_ROUTING_DEAD_LETTER_AFTER_MS", "1500");
    ClusterSettings c = load(env).cluster();
    assertThat(c.kafkaAdminTimeoutMs()).isEqualTo(60_000);
    assertThat(c.kafkaPollTimeoutMs()).isEqualTo(250);
    assertThat(c.kafkaSessionTimeoutMs()).isEqualTo(10_000);
    assertThat(c.kafkaHeartbeatIntervalMs()).isEqualTo(3_000);
    assertThat(c.cassandraRequestTimeoutMs()).isEqualTo(2_000);
    assertThat(c.cassandraConnections()).isEqualTo(8);
    assertThat(c.cassandraDedupeTtlS()).isEqualTo(86_400);
    assertThat(c.redisPoolSize()).isEqualTo(32);
    assertThat(c.redisPoolWaiting()).isEqualTo(100);
    assertThat(c.limitsRedisTimeoutMs()).isEqualTo(50);
    assertThat(c.limitsRedisRetryMs()).isEqualTo(5_000);
    assertThat(c.routingDeadLetterAfterMs()).isEqualTo(1_500);
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(delimiter = '|', value = {
      "PARLEY_KAFKA_ADMIN_TIMEOUT_MS|0|kafka.admin_timeout_ms",
      "PARLEY_KAFKA_ADMIN_TIMEOUT_MS|99|kafka.admin_timeout_ms",
      "PARLEY_KAFKA_POLL_TIMEOUT_MS|0|kafka.poll_timeout_ms",
      "PARLEY_KAFKA_POLL_TIMEOUT_MS|soon|kafka.poll_timeout_ms",
      "PARLEY_KAFKA_SESSION_TIMEOUT_MS|-1|kafka.session_timeout_ms",
      "PARLEY_KAFKA_HEARTBEAT_INTERVAL_MS|0|kafka.heartbeat_interval_ms",
      "PARLEY_KAFKA_HEARTBEAT_INTERVAL_MS|6000|kafka.heartbeat_interval_ms",
      "PARLEY_CASSANDRA_REQUEST_TIMEOUT_MS|0|cassandra.request_timeout_ms",
      "PARLEY_CASSANDRA_CONNECTIONS|0|cassandra.connections",
      "PARLEY_CASSANDRA_CONNECTIONS|65|cassandra.connections",
      "PARLEY_CASSANDRA_DEDUPE_TTL_S|59|cassandra.dedupe_ttl_s",
      "PARLEY_CASSANDRA_DEDUPE_TTL_S|630720001|cassandra.dedupe_ttl_s",
      "PARLEY_CASSANDRA_DEDUPE_TTL_S|week|cassandra.dedupe_ttl_s",
      "PARLEY_ROUTING_DEAD_LETTER_AFTER_MS|99|routing.dead_letter_after_ms",
      "PARLEY_ROUTING_DEAD_LETTER_AFTER_MS|86400001|routing.dead_letter_after_ms",
      "PARLEY_ROUTING_DEAD_LETTER_AFTER_MS|a minute|routing.dead_letter_after_ms",
      "PARLEY_REDIS_POOL_SIZE|0|redis.pool_size",
      "PARLEY_REDIS_POOL_SIZE|1.5|redis.pool_size",
      "PARLEY_REDIS_POOL_WAITING|0|redis.pool_waiting",
      "PARLEY_LIMITS_REDIS_TIMEOUT_MS|0|limits.redis_timeout_ms",
      "PARLEY_LIMITS_REDIS_RETRY_MS|-5|limits.redis_retry_ms",
  })
  void badClusterAdapterLimitNamesTheKey(String var, String value, String key) {
    assertThat(failure(Map.of(var, value)).getMessage()).contains(key);
  }

  // ---- identity, TLS and log format ----

  @Test
  void identityDefaultsAreHs256OnlyPlainHttpAndTextLogs() {
    IdentitySettings i = load(Map.of()).identity();
    assertThat(i).isEqualTo(IdentitySettings.DEFAULTS);
    assertThat(i.tls()).isFalse();
    assertThat(load(Map.of()).withJwtSecret("x".repeat(32)).identity()).as("kept by withJwtSecret").isEqualTo(i);
  }

  @Test
  void identityKeysLoadFromTheEnvironment() {
    IdentitySettings i = load(Map.of(
        "PARLEY_AUTH_JWKS_URL", "https://idp.example.com/.well-known/jwks.json",
        "PARLEY_AUTH_ISSUER", " https://idp.example.com/ ",
        "PARLEY_AUTH_AUDIENCE", "parley, parley-staging",
        "PARLEY_HTTP_TLS_CERT_FILE", "/etc/parley/tls.crt",
        "PARLEY_HTTP_TLS_KEY_FILE", "/etc/parley/tls.key",
        "PARLEY_LOG_FORMAT", "json")).identity();
    assertThat(i).isEqualTo(new IdentitySettings("https://idp.example.com/.well-known/jwks.json", "https://idp.example.com/",
        List.of("parley", "parley-staging"), "/etc/parley/tls.crt", "/etc/parley/tls.key", "json"));
    assertThat(i.tls()).isTrue();
    assertThat(load(Map.of("PARLEY_AUTH_JWKS_URL", "http://127.0.0.1:8081/jwks")).identity().jwksUrl())
        .as("plain http on loopback (a local identity provider or sidecar)").isEqualTo("http://127.0.0.1:8081/jwks");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "PARLEY_AUTH_JWKS_URL|http://idp.example.com/jwks|auth.jwks_url",
      "PARLEY_AUTH_JWKS_URL|idp.example.com/jwks|auth.jwks_url",
      "PARLEY_AUTH_JWKS_URL|https://user:pw@idp.example.com/jwks|auth.jwks_url",
      "PARLEY_AUTH_JWKS_URL|ftp://idp.example.com/jwks|auth.jwks_url",
      "PARLEY_HTTP_TLS_CERT_FILE|/etc/parley/tls.crt|http.tls.key_file",
      "PARLEY_HTTP_TLS_KEY_FILE|/etc/parley/tls.key|http.tls.cert_file",
      "PARLEY_LOG_FORMAT|xml|log.format",
  })
  void badIdentityValuesNameTheKey(String variable, String value, String key) {
    assertThat(failure(Map.of(variable, value)).getMessage()).startsWith(key + ":");
  }

  // ---- event-bus bridge ----

  @Test
  void bridgeDefaultsAreOnLoopbackPort9465ButOffWithoutAToken() {
    BridgeSettings b = load(Map.of()).bridge();
    assertThat(b).isEqualTo(new BridgeSettings("127.0.0.1", 9465, "", false, 1_048_576));
    assertThat(b.enabled()).as("no token: off").isFalse();
    assertThat(load(Map.of()).withJwtSecret("x".repeat(32)).bridge()).as("kept by withJwtSecret").isEqualTo(b);
  }

  @Test
  void bridgeKeysLoadFromTheEnvironment() {
    BridgeSettings b = load(Map.of("PARLEY_ADMIN_HOST", "0.0.0.0", "PARLEY_BRIDGE_PORT", "19465",
        "PARLEY_BRIDGE_TOKEN", "t".repeat(16), "PARLEY_BRIDGE_INCLUDE_BODIES", "true",
        "PARLEY_BRIDGE_WRITE_QUEUE_MAX_BYTES", "4096")).bridge();
    assertThat(b).isEqualTo(new BridgeSettings("0.0.0.0", 19465, "t".repeat(16), true, 4096));
    assertThat(b.enabled()).isTrue();
    assertThat(b.toString()).as("the token is never printed").doesNotContain("t".repeat(16));
    assertThat(load(Map.of("PARLEY_BRIDGE_PORT", "0", "PARLEY_BRIDGE_TOKEN", "t".repeat(16))).bridge().enabled())
        .as("port 0: off").isFalse();
  }

  // ---- browser origins ----

  @Test
  void allowedOriginsDefaultToNoneListedAndAreNormalized() {
    assertThat(load(Map.of()).gateway().allowedOrigins()).isEmpty();
    assertThat(load(Map.of("PARLEY_HTTP_ALLOWED_ORIGINS", " https://Chat.Example.com, http://localhost:3000 ,*")).gateway()
        .allowedOrigins()).containsExactly("https://chat.example.com:443", "http://localhost:3000", "*");
  }

  // ---- admin listener and metrics ----

  @Test
  void adminDefaultsAreLoopbackPort9464AndMetricsOn() {
    AdminSettings a = load(Map.of()).admin();
    assertThat(a).isEqualTo(AdminSettings.DEFAULTS);
    assertThat(a.listens()).isTrue();
    assertThat(load(Map.of()).withJwtSecret("x".repeat(32)).admin()).as("kept by withJwtSecret").isEqualTo(a);
  }

  @Test
  void adminKeysLoadFromTheEnvironmentAndPortZeroTurnsTheListenerOff() {
    AdminSettings a = load(Map.of("PARLEY_ADMIN_HOST", "0.0.0.0", "PARLEY_ADMIN_PORT", "0",
        "PARLEY_METRICS_ENABLED", "false")).admin();
    assertThat(a).isEqualTo(new AdminSettings("0.0.0.0", 0, false, ""));
    assertThat(a.listens()).isFalse();
    AdminSettings withToken = load(Map.of("PARLEY_ADMIN_TOKEN", "a".repeat(16))).admin();
    assertThat(withToken.token()).isEqualTo("a".repeat(16));
    assertThat(withToken.actions()).isTrue();
    assertThat(withToken.toString()).as("the token is never printed").doesNotContain("a".repeat(16));
    assertThat(a.actions()).isFalse();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "PARLEY_BRIDGE_TOKEN|short|bridge.token",
      "PARLEY_BRIDGE_TOKEN|' padded-token-0123456789 '|bridge.token",
      "PARLEY_BRIDGE_PORT|65536|bridge.port",
      "PARLEY_BRIDGE_PORT|-1|bridge.port",
      "PARLEY_BRIDGE_INCLUDE_BODIES|maybe|bridge.include_bodies",
      "PARLEY_BRIDGE_WRITE_QUEUE_MAX_BYTES|100|bridge.write_queue_max_bytes",
      "PARLEY_ADMIN_HOST|' '|admin.host",
  })
  void badBridgeValuesNameTheKey(String variable, String value, String key) {
    assertThat(failure(Map.of(variable, value)).getMessage()).contains(key);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "ftp://files.example.com",
      "https://chat.example.com/app",
      "chat.example.com",
      "https://chat.example.com?x=1",
      "null"})
  void anAllowedOriginThatIsNotOneNamesTheKey(String value) {
    assertThat(failure(Map.of("PARLEY_HTTP_ALLOWED_ORIGINS", value)).getMessage()).contains("http.allowed_origins")
        .contains(value);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "PARLEY_ADMIN_PORT|65536|admin.port",
      "PARLEY_ADMIN_PORT|-1|admin.port",
      "PARLEY_ADMIN_PORT|x|admin.port",
      "PARLEY_ADMIN_HOST|' '|admin.host",
      "PARLEY_METRICS_ENABLED|maybe|metrics.enabled",
      "PARLEY_ADMIN_TOKEN|short|admin.token",
      "PARLEY_ADMIN_TOKEN|' padded-token-0123456789 '|admin.token",
  })
  void badAdminValuesNameTheKey(String variable, String value, String key) {
    assertThat(failure(Map.of(variable, value)).getMessage()).contains(key);
  }
}
