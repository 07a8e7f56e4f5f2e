package io.parley.push;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.config.PushDeliverySettings;
import io.parley.testing.Await;
import io.parley.history.Conversation;
import io.parley.presence.ConnectionIds;
import io.parley.presence.ConnectionRegistry;
import io.parley.protocol.Addresses;
import io.parley.protocol.LocalCodec;
import io.parley.storage.embedded.InMemoryConnectionRegistry;
import io.parley.storage.embedded.RocksConversationStore;
import io.parley.storage.embedded.RocksPushQueue;
import io.parley.storage.embedded.RocksPushRegistrations;
import io.parley.storage.embedded.RocksStorage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PushVerticle} over the embedded stores with a recording provider: without a provider,
 * recipients without any connection go to the log sender (as before registrations existed); with
 * one, each registered device without a connection gets one notification, and several requests
 * arriving together are all served; a registration the provider calls gone is removed; a
 * registry that cannot be asked counts as nobody connected.
 */
class PushVerticleTest {
  @TempDir
  Path dir;
  private Vertx vertx;
  private RocksStorage storage;
  private WorkerExecutor meta;
  private WorkerExecutor readers;
  private RocksPushRegistrations registrations;
  private RocksConversationStore conversations;
  private InMemoryConnectionRegistry registry;
  private final BlockingQueue<String> sent = new LinkedBlockingQueue<>();
  private final PushStats stats = new PushStats();
  private final List<String> all = new java.util.concurrent.CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    vertx.eventBus().registerDefaultCodec(PushBatch.class, new LocalCodec<>(PushBatch.class));
    storage = RocksStorage.open(dir, false);
    meta = vertx.createSharedWorkerExecutor("push-test-meta", 1);
    readers = vertx.createSharedWorkerExecutor("push-test-readers", 2);
    registrations = new RocksPushRegistrations(storage, meta, readers);
    conversations = new RocksConversationStore(storage, meta);
    registry = new InMemoryConnectionRegistry(100);
  }

  @AfterEach
  void tearDown() throws Exception {
    Await.result(vertx.close());
    storage.close();
  }

  /** Records "user/device:server_id" and answers GONE for devices named "gone". */
  private final ProviderSender recording = new ProviderSender() {
    @Override
    public String provider() {
      return PushRegistration.FCM;
    }

    @Override
    public Future<Outcome> send(PushRegistration device, long conv, String payload) {
      sent.add(device.user() + "/" + device.device() + ":" + new JsonObject(payload).getString("server_id"));
      return Future.succeededFuture(device.device().equals("gone") ? Outcome.of(ProviderSender.Kind.GONE, 410, "") : Outcome.ACCEPTED);
    }
  };

  /** Push with the recording provider, no coalescing window (each message its own notification), a fresh queue. */
  private void deploy(ConnectionRegistry reg) {
    RocksPushQueue queue = new RocksPushQueue(vertx, storage, vertx.createSharedWorkerExecutor("push-test-queue", 1));
    Await.result(vertx.deployVerticle(new PushVerticle(reg, n -> Future.succeededFuture(), registrations, conversations,
        List.of(recording), queue, Map.of(PushRegistration.FCM, new PushDeliverySettings.Pacing(1000, 1000, 100)),
        new PushDispatcher.Settings(0, 0, 300_000, 100, 1000), SpillOver.NONE, 1000, stats)));
  }

  private void registered(String user, String device) throws Exception {
    Await.result(registrations.put(new PushRegistration(user, device, PushRegistration.FCM, user + "-" + device, new JsonObject(), 1, 1), 10));
  }

  private void connected(String user, String device) throws Exception {
    Await.result(registry.register(user, "node-1", ConnectionIds.of("node-1", 1, device)));
  }

  private long dm(String a, String b) throws Exception {
    Conversation c = Await.result(conversations.createGroup(System.nanoTime(), null, a, List.of(b), 1));
    return c.id();
  }

  private void push(long conv, long serverId, String from, String... users) {
    vertx.eventBus().send(Addresses.PUSH,
        PushBatch.of(new PushRequest(List.of(users), List.of(users), conv, serverId, from, "hi")), Addresses.local());
  }

  private String next() throws InterruptedException {
    String s = sent.poll(10, TimeUnit.SECONDS);
    assertThat(s).as("a notification (so far %s, counters %s)", all, stats.snapshot()).isNotNull();
    all.add(s);
    return s;
  }

  @Test
  void withoutAProviderTheUnconnectedGoToTheLog() throws Exception {
    BlockingQueue<String> logged = new LinkedBlockingQueue<>();
    PushSender log = n -> {
      logged.add(n.user() + ":" + n.serverId());
      return Future.succeededFuture();
    };
    connected("bob", "laptop");
    Await.result(vertx.deployVerticle(new PushVerticle(registry, log)));

    push(1, 7, "alice", "bob", "carol");
    push(1, 8, "alice", "dave");

    assertThat(logged.poll(10, TimeUnit.SECONDS)).isEqualTo("carol:7");
    assertThat(logged.poll(10, TimeUnit.SECONDS)).isEqualTo("dave:8");
  }

  @Test
  void eachRegisteredDeviceWithoutAConnectionOnce() throws Exception {
    long conv = dm("alice", "bob");
    registered("bob", "phone");
    registered("bob", "laptop");
    connected("bob", "laptop");
    registered("carol", "tablet");
    deploy(registry);

    // sent together: one batch
    push(conv, 10, "alice", "bob");
    push(conv, 11, "alice", "bob", "carol");

    assertThat(List.of(next(), next(), next())).containsExactlyInAnyOrder("bob/phone:10", "bob/phone:11", "carol/tablet:11");
    // a barrier: nothing else was sent before it
    push(conv, 12, "alice", "carol");
    assertThat(next()).isEqualTo("carol/tablet:12");
    assertThat(sent).isEmpty();
  }

  @Test
  void goneRegistrationsAreRemoved() throws Exception {
    long conv = dm("alice", "bob");
    registered("bob", "gone");
    registered("bob", "phone");
    deploy(registry);

    push(conv, 10, "alice", "bob");
    assertThat(List.of(next(), next())).containsExactlyInAnyOrder("bob/gone:10", "bob/phone:10");
    Await.until("the gone registration removed", () -> Await.result(registrations.list("bob")).size() == 1, Await.TIMEOUT);
    assertThat(Await.result(registrations.list("bob"))).extracting(PushRegistration::device).containsExactly("phone");
    push(conv, 11, "alice", "bob");
    assertThat(next()).isEqualTo("bob/phone:11");
    assertThat(sent).isEmpty();
  }

  @Test
  void aRegistryThatCannotBeAskedCountsAsNobodyConnected() throws Exception {
    long conv = dm("alice", "bob");
    registered("bob", "laptop");
    connected("bob", "laptop");
    ConnectionRegistry failing = new ConnectionRegistry() {
      @Override
      public Future<Boolean> register(String user, String node, String connectionId) {
        return registry.register(user, node, connectionId);
      }

      @Override
      public Future<Boolean> unregister(String user, String node, String connectionId, long lastSeen) {
        return registry.unregister(user, node, connectionId, lastSeen);
      }

      @Override
      public Future<Boolean> refresh(String user, String node, String connectionId) {
        return registry.refresh(user, node, connectionId);
      }

      @Override
      public Future<Map<String, Set<String>>> nodesOf(Collection<String> users) {
        return registry.nodesOf(users);
      }

      @Override
      public Future<Map<String, Set<String>>> connectionsOf(Collection<String> users) {
        return Future.failedFuture(new IllegalStateException("registry down"));
      }

      @Override
      public Future<Presence> presence(String user) {
        return registry.presence(user);
      }
    };
    deploy(failing);

    push(conv, 10, "alice", "bob");
    assertThat(next()).isEqualTo("bob/laptop:10");
  }

}
