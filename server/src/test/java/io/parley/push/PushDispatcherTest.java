package io.parley.push;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.config.PushDeliverySettings.Pacing;
import io.parley.push.ProviderSender.Kind;
import io.parley.push.ProviderSender.Outcome;
import io.parley.storage.embedded.RocksPushQueue;
import io.parley.storage.embedded.RocksStorage;
import io.parley.testing.Await;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PushDispatcher} over the RocksDB queue with a scripted provider: coalescing per device and
 * conversation, a throttled provider paused for its Retry-After, retries with backoff, a payload
 * too large sent again without its preview, pacing and the in-flight cap, and spill-over.
 */
class PushDispatcherTest {
  @TempDir
  Path dir;
  private Vertx vertx;
  private RocksStorage storage;
  private Context context;
  private RocksPushQueue queue;
  private PushDispatcher dispatcher;
  private final PushStats stats = new PushStats();
  private final Scripted provider = new Scripted();
  private final BlockingQueue<List<SpillOver.Item>> digests = new LinkedBlockingQueue<>();

  /** A provider answering from a script (ACCEPTED once the script is empty), recording every call. */
  private static final class Scripted implements ProviderSender {
    record Call(long atNanos, String device, long conv, JsonObject payload) {}

    final BlockingQueue<Call> calls = new LinkedBlockingQueue<>();
    final Deque<Supplier<Future<Outcome>>> script = new ArrayDeque<>();

    @Override
    public String provider() {
      return PushRegistration.FCM;
    }

    @Override
    public synchronized Future<Outcome> send(PushRegistration device, long conv, String payload) {
      calls.add(new Call(System.nanoTime(), device.device(), conv, new JsonObject(payload)));
      Supplier<Future<Outcome>> next = script.poll();
      return next == null ? Future.succeededFuture(Outcome.ACCEPTED) : next.get();
    }

    synchronized void then(Supplier<Future<Outcome>> answer) {
      script.add(answer);
    }

    Call next() throws InterruptedException {
      Call c = calls.poll(10, TimeUnit.SECONDS);
      assertThat(c).as("a provider request").isNotNull();
      return c;
    }
  }

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    storage = RocksStorage.open(dir, false);
    context = vertx.getOrCreateContext();
  }

  @AfterEach
  void tearDown() throws Exception {
    on(() -> {
      dispatcher.stop();
      return queue.close();
    });
    Await.result(vertx.close());
    storage.close();
  }

  private <T> T on(Supplier<Future<T>> call) {
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> call.get().onComplete(p));
    return Await.result(p.future());
  }

  private void start(long coalesceMs, int previewChars, long spillAfterMs, Pacing pacing) {
    queue = new RocksPushQueue(vertx, storage, vertx.createSharedWorkerExecutor("dispatcher-test-queue", 1));
    SpillOver spill = (user, items) -> {
      digests.add(items);
      return Future.succeededFuture(true);
    };
    on(() -> {
      dispatcher = new PushDispatcher(vertx, queue, List.of(provider), Map.of(PushRegistration.FCM, pacing), null, null,
          spill, new PushDispatcher.Settings(coalesceMs, previewChars, spillAfterMs, 50, 200), stats);
      dispatcher.start();
      return queue.start(dispatcher::accept, 1000);
    });
  }

  private void start(long coalesceMs) {
    start(coalesceMs, 0, 300_000, new Pacing(1000, 1000, 100));
  }

  private static PushJob job(String device, long conv, long serverId) {
    PushRegistration reg = new PushRegistration("bob", device, PushRegistration.FCM, "tok-" + device, new JsonObject(), 1, 1);
    return new PushJob(reg, conv, serverId, "alice", "hello there, number " + serverId, System.currentTimeMillis());
  }

  private void append(PushJob... jobs) {
    on(() -> queue.append(List.of(jobs)));
  }

  private void allFinished() {
    Await.until("every job finished", () -> on(() -> Future.succeededFuture(queue.outstanding())) == 0, Await.TIMEOUT);
  }

  @Test
  void aBurstOfFiftyIsTwoNotifications() throws Exception {
    start(300);
    PushJob[] burst = new PushJob[50];
    for (int i = 0; i < 50; i++) {
      burst[i] = job("phone", 1, i + 1);
    }
    append(burst);

    Scripted.Call first = provider.next();
    assertThat(first.payload().getString("server_id")).isEqualTo("1");
    assertThat(first.payload().getInteger("count")).isEqualTo(1);
    Scripted.Call followUp = provider.next();
    assertThat(followUp.payload().getString("server_id")).as("the newest message").isEqualTo("50");
    assertThat(followUp.payload().getInteger("count")).isEqualTo(49);
    assertThat(followUp.atNanos() - first.atNanos()).as("at the end of the window")
        .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(300));
    allFinished();
    assertThat(provider.calls.poll(400, TimeUnit.MILLISECONDS)).as("nothing more").isNull();
    assertThat(stats.get("notifications")).isEqualTo(2);
  }

  @Test
  void otherDevicesAndConversationsAreNotFolded() throws Exception {
    start(60_000);
    append(job("phone", 1, 1), job("tablet", 1, 1), job("phone", 2, 2));

    List<String> got = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Scripted.Call c = provider.next();
      got.add(c.device() + "/" + c.conv() + "/" + c.payload().getInteger("count"));
    }
    assertThat(got).containsExactlyInAnyOrder("phone/1/1", "tablet/1/1", "phone/2/1");
    allFinished();
  }

  @Test
  void aThrottledProviderWaitsForRetryAfterAndLosesNothing() throws Exception {
    start(0);
    provider.then(() -> Future.succeededFuture(Outcome.of(Kind.THROTTLED, 429, 400, "QUOTA_EXCEEDED")));
    append(job("d1", 1, 1), job("d2", 1, 2), job("d3", 1, 3));

    Scripted.Call throttled = provider.next();
    List<String> accepted = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Scripted.Call c = provider.next();
      assertThat(c.atNanos() - throttled.atNanos()).as("no request before Retry-After")
          .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(400));
      accepted.add(c.device());
    }
    assertThat(accepted).as("the throttled one first, again").startsWith(throttled.device())
        .containsExactlyInAnyOrder("d1", "d2", "d3");
    allFinished();
    assertThat(stats.get("fcm.throttled")).isEqualTo(1);
    assertThat(stats.get("fcm.accepted")).isEqualTo(3);
  }

  @Test
  void aThrottledNotificationTakesTheJobsThatCameWhileItWasInFlightAndNamesTheNewest() throws Exception {
    start(0);
    Promise<Outcome> held = Promise.promise();
    provider.then(held::future);
    append(job("phone", 1, 1));
    provider.next();
    append(job("phone", 1, 2)); // while the first request is in flight
    Await.until("the second job waits", () -> stats.get("coalesced") == 1, Await.TIMEOUT);
    context.runOnContext(v -> held.complete(Outcome.of(Kind.THROTTLED, 429, 500, "QUOTA_EXCEEDED")));
    Await.until("the throttle is seen", () -> stats.get("fcm.throttled") == 1, Await.TIMEOUT);
    append(job("phone", 1, 3)); // while the notification waits for Retry-After

    Scripted.Call retried = provider.next();
    assertThat(retried.payload().getString("server_id")).as("the newest message").isEqualTo("3");
    assertThat(retried.payload().getInteger("count")).isEqualTo(3);
    allFinished();
    assertThat(provider.calls.poll(400, TimeUnit.MILLISECONDS)).as("no follow-up naming an older message").isNull();
    assertThat(stats.get("notifications")).isEqualTo(1);
  }

  @Test
  void transientFailuresAreRetriedUntilAccepted() throws Exception {
    start(0);
    provider.then(() -> Future.succeededFuture(Outcome.of(Kind.RETRY, 503, -1, "UNAVAILABLE")));
    provider.then(() -> Future.failedFuture(new java.io.IOException("connection reset")));
    append(job("phone", 1, 1));

    provider.next();
    provider.next();
    Scripted.Call third = provider.next();
    assertThat(third.payload().getString("server_id")).isEqualTo("1");
    allFinished();
    assertThat(stats.snapshot()).containsEntry("fcm.retry", 1L).containsEntry("fcm.error", 1L).containsEntry("fcm.accepted", 1L);
  }

  @Test
  void aPayloadTooLargeIsSentAgainWithoutItsPreview() throws Exception {
    start(0, 8, 300_000, new Pacing(1000, 1000, 100));
    provider.then(() -> Future.succeededFuture(Outcome.of(Kind.TOO_LARGE, 413, "PayloadTooLarge")));
    append(job("phone", 1, 1));

    assertThat(provider.next().payload().getString("preview")).isEqualTo("hello th");
    assertThat(provider.next().payload().containsKey("preview")).isFalse();
    allFinished();
  }

  @Test
  void thePacingSpacesRequestsOut() throws Exception {
    start(0, 0, 300_000, new Pacing(5, 1, 100));
    append(job("d1", 1, 1), job("d2", 1, 2), job("d3", 1, 3), job("d4", 1, 4), job("d5", 1, 5), job("d6", 1, 6));

    Scripted.Call first = provider.next();
    Scripted.Call last = null;
    for (int i = 0; i < 5; i++) {
      last = provider.next();
    }
    assertThat(last.atNanos() - first.atNanos()).as("five more tokens at 5 per second")
        .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(800));
    allFinished();
  }

  @Test
  void atMostInFlightMaxRequestsAreOutstanding() throws Exception {
    start(0, 0, 300_000, new Pacing(1000, 1000, 2));
    List<Promise<Outcome>> held = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      provider.then(() -> {
        Promise<Outcome> p = Promise.promise();
        synchronized (held) {
          held.add(p);
        }
        return p.future();
      });
    }
    append(job("d1", 1, 1), job("d2", 1, 2), job("d3", 1, 3), job("d4", 1, 4));

    provider.next();
    provider.next();
    assertThat(provider.calls.poll(300, TimeUnit.MILLISECONDS)).as("a third while two are in flight").isNull();
    release(held, 1);
    provider.next();
    assertThat(provider.calls.poll(300, TimeUnit.MILLISECONDS)).as("a fourth while two are in flight").isNull();
    release(held, 1);
    provider.next();
    release(held, 2);
    allFinished();
  }

  @Test
  void afterAThrottleTheLaneProbesWithOneRequestThenWidens() throws Exception {
    start(0, 0, 300_000, new Pacing(1000, 1000, 4));
    List<Promise<Outcome>> held = new ArrayList<>();
    provider.then(() -> Future.succeededFuture(Outcome.of(Kind.THROTTLED, 429, 100, "")));
    for (int i = 0; i < 4; i++) {
      provider.then(() -> {
        Promise<Outcome> p = Promise.promise();
        synchronized (held) {
          held.add(p);
        }
        return p.future();
      });
    }
    append(job("d1", 1, 1), job("d2", 1, 2), job("d3", 1, 3), job("d4", 1, 4));

    provider.next(); // throttled: the lane pauses, then sends one at a time
    provider.next();
    assertThat(provider.calls.poll(300, TimeUnit.MILLISECONDS)).as("a second request before the probe is answered").isNull();
    release(held, 1);
    provider.next();
    provider.next();
    assertThat(provider.calls.poll(300, TimeUnit.MILLISECONDS)).as("the window widened by one only").isNull();
    release(held, 2);
    provider.next();
    release(held, 1);
    allFinished();
    assertThat(stats.get("fcm.accepted")).isEqualTo(4);
  }

  @Test
  void spillOverWaitsForARequestInFlightThenMailsTheRestOnce() throws Exception {
    start(0, 0, 300, new Pacing(1000, 1000, 100));
    List<Promise<Outcome>> held = new ArrayList<>();
    provider.then(() -> {
      Promise<Outcome> p = Promise.promise();
      synchronized (held) {
        held.add(p);
      }
      return p.future();
    });
    provider.then(() -> Future.succeededFuture(Outcome.of(Kind.RETRY, 503, 60_000, "")));
    append(job("phone", 1, 1));
    provider.next();
    append(job("phone", 2, 2));
    provider.next();

    assertThat(digests.poll(1_500, TimeUnit.MILLISECONDS)).as("no digest while a request is out").isNull();
    release(held, 1);
    List<SpillOver.Item> items = digests.poll(10, TimeUnit.SECONDS);
    assertThat(items).as("then one digest of the rest").isNotNull()
        .extracting(SpillOver.Item::conv, SpillOver.Item::count).containsExactly(org.assertj.core.api.Assertions.tuple(2L, 1));
    allFinished();
    assertThat(digests.poll(1_200, TimeUnit.MILLISECONDS)).as("only one").isNull();
  }

  /** Answers the {@code n} oldest held requests (a completion may start the next request, which holds another). */
  private void release(List<Promise<Outcome>> held, int n) {
    on(() -> {
      List<Promise<Outcome>> answer;
      synchronized (held) {
        answer = new ArrayList<>(held.subList(0, n));
        held.subList(0, n).clear();
      }
      answer.forEach(p -> p.complete(Outcome.ACCEPTED));
      return Future.succeededFuture();
    });
  }

  @Test
  void pushesWaitingTooLongSpillIntoOneDigest() throws Exception {
    start(0, 0, 300, new Pacing(1000, 1000, 100));
    for (int i = 0; i < 5; i++) {
      provider.then(() -> Future.succeededFuture(Outcome.of(Kind.RETRY, 503, 60_000, "")));
    }
    append(job("phone", 1, 1), job("phone", 1, 2), job("tablet", 1, 1), job("phone", 2, 3));

    List<SpillOver.Item> items = digests.poll(10, TimeUnit.SECONDS);
    assertThat(items).as("a digest").isNotNull();
    assertThat(items).extracting(SpillOver.Item::conv, SpillOver.Item::count)
        .containsExactlyInAnyOrder(org.assertj.core.api.Assertions.tuple(1L, 2), org.assertj.core.api.Assertions.tuple(2L, 1));
    assertThat(items).allSatisfy(i -> assertThat(i.preview()).as("no text without previews").isNull());
    allFinished();
    assertThat(stats.get("spilled")).isEqualTo(4);
    assertThat(digests.poll(1200, TimeUnit.MILLISECONDS)).as("one digest").isNull();
  }
}
