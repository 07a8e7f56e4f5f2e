package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.parley.app.Node;
import io.parley.app.Warmup;
import io.parley.config.ConfigLoader;
import io.parley.push.LogPushSender;
import io.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;
import org.slf4j.LoggerFactory;

/**
 * The warm-up before ready ({@code warmup.ms}): readiness waits for it, it drives real traffic
 * (sends acked, messages delivered), and it leaves nothing in the node a
 * user could see — no conversation, message, membership or push job in its storage, no registry
 * entry or presence of its users, no push, not even in the log — and no temporary directory behind.
 */
class WarmupE2ETest {
  @TempDir
  Path dir;

  @Test
  void readyWaitsForAWarmUpThatLeavesNoTrace() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("PARLEY_HTTP_PORT", "0");
    env.put("PARLEY_DATA_DIR", dir.toString());
    env.put("PARLEY_GATEWAY_INSTANCES", "2");
    env.put("PARLEY_WARMUP_MS", "1500");
    // what the log-only push sender (no provider configured) records, from this JVM's nodes
    Logger pushLog = (Logger) LoggerFactory.getLogger(LogPushSender.class);
    ListAppender<ILoggingEvent> pushesLogged = new ListAppender<>();
    pushesLogged.start();
    pushLog.addAppender(pushesLogged);
    Node node = new Node(ConfigLoader.load(env, Map.of()));
    Future<Void> started = node.start();
    // the gateway listens while the warm-up (begun with the start) runs; until it is done, not ready
    Await.until("the gateway listening", () -> node.httpPort() != 0 || started.isComplete(), Clients.WAIT);
    List<Integer> duringWarmup = new ArrayList<>();
    List<Integer> readyBeforeReport = new ArrayList<>();
    try (Clients probe = new Clients(node::httpPort)) {
      while (!started.isComplete()) {
        int status = probe.request(HttpMethod.GET, "/health/ready", null, null).status();
        // the report is set before ready: read after the answer, null means the warm-up was still on
        if (node.warmupReport() == null) {
          duringWarmup.add(status);
        }
        if (status == 200 && node.warmupReport() == null) {
          readyBeforeReport.add(status);
        }
      }
    }
    Await.result(started, Clients.WAIT);
    assertThat(duringWarmup).as("/health/ready while the warm-up ran").isNotEmpty().containsOnly(503);
    assertThat(readyBeforeReport).as("ready answered before the warm-up was done").isEmpty();

    Warmup.Report report = node.warmupReport();
    assertThat(report).as("the warm-up ran before ready").isNotNull();
    assertThat(report.acked()).as("sends acked during the warm-up").isGreaterThanOrEqualTo(2 * Warmup.PAIRS);
    assertThat(report.delivered()).as("messages delivered during the warm-up").isGreaterThanOrEqualTo(2 * Warmup.PAIRS);
    assertThat(report.users()).hasSize(2 * Warmup.PAIRS);
    assertThat(node.ready()).isTrue();

    try (Clients clients = new Clients(node.httpPort())) {
      assertThat(clients.request(HttpMethod.GET, "/health/ready", null, null).status()).isEqualTo(200);
      String watcher = clients.token("warmup-watcher");
      WsClient w = clients.connect(watcher, "d");
      w.send(new JsonObject().put("op", "presence_sub").put("users", new JsonArray(report.users())));
      for (int i = 0; i < report.users().size(); i++) {
        JsonObject p = w.next("presence");
        assertThat(p.getString("state")).as("presence of " + p.getString("user")).isEqualTo("offline");
        assertThat(p.getValue("last_seen")).as("never seen by this node: " + p.getString("user")).isNull();
      }
      for (String user : report.users()) {
        Clients.Response convs = clients.request(HttpMethod.GET, "/v1/conversations", clients.token(user), null);
        assertThat(convs.status()).isEqualTo(200);
        assertThat(convs.json().getJsonArray("conversations")).as("conversations of " + user).isEmpty();
      }
    }
    assertThat(node.pushStats().snapshot().values()).as("push outcomes").allMatch(n -> n == 0);
    Await.result(node.stop(), Clients.WAIT);
    pushLog.detachAppender(pushesLogged);
    // the throwaway node's users go offline with sends still in flight as it stops: no push for them
    assertThat(pushesLogged.list).as("pushes logged").extracting(ILoggingEvent::getFormattedMessage)
        .noneMatch(line -> line.contains("warmup-"));

    assertThat(nonEmptyFamilies(dir.resolve("rocksdb"))).as("storage families with data, other than the id floor's")
        .isEmpty();
    // its own directory: other nodes on this machine (other builds, clusters) make and delete theirs
    assertThat(report.dir()).as("the warm-up's directory").isNotNull();
    assertThat(report.dir()).as("the warm-up's directory, after the stop").doesNotExist();
  }

  /** Column families of the node's RocksDB that hold any key, but {@code meta} (the id floor). */
  private static List<String> nonEmptyFamilies(Path db) throws Exception {
    RocksDB.loadLibrary();
    List<String> found = new ArrayList<>();
    try (Options options = new Options(); DBOptions dbOptions = new DBOptions()) {
      List<ColumnFamilyDescriptor> descriptors = RocksDB.listColumnFamilies(options, db.toString()).stream()
          .map(ColumnFamilyDescriptor::new).toList();
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      try (RocksDB rocks = RocksDB.openReadOnly(dbOptions, db.toString(), descriptors, handles)) {
        for (ColumnFamilyHandle h : handles) {
          String name = new String(h.getName(), StandardCharsets.UTF_8);
          try (RocksIterator it = rocks.newIterator(h)) {
            it.seekToFirst();
            if (it.isValid() && !name.equals("meta")) {
              found.add(name);
            }
          }
        }
        handles.forEach(ColumnFamilyHandle::close);
      }
    }
    return found;
  }
}
