package io.parley.push;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.testing.Await;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Contract of the {@link PushQueue} port, run against every adapter by subclassing: jobs come out
 * as they went in, one user's in order; after a restart (a new queue over the same storage or
 * topic) every unfinished job comes out again and finished jobs before them do not; at most
 * {@code maxOutstanding} jobs are out at a time, the rest follow as jobs finish. Every call runs on
 * one context, as push's verticle makes them.
 */
public abstract class PushQueueContract {

  /** A queue over this test's storage or topic; a second call is the same backlog after a restart. */
  protected abstract PushQueue newQueue();

  protected abstract Vertx vertx();

  /** How long a queue may take to hand out what it holds (Kafka: group join and first fetch). */
  protected Duration patience() {
    return Duration.ofSeconds(10);
  }

  private final String run = UUID.randomUUID().toString().substring(0, 8);
  private Context context;
  private final List<PushQueue> open = new ArrayList<>();

  protected void closeAll() {
    for (PushQueue q : open) {
      Await.result(on(q::close).otherwiseEmpty(), Duration.ofSeconds(60));
    }
    open.clear();
  }

  private <T> Future<T> on(Supplier<Future<T>> call) {
    if (context == null) {
      context = vertx().getOrCreateContext();
    }
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> call.get().onComplete(p));
    return p.future();
  }

  private void done(PushQueue q, PushQueue.Queued job) {
    Await.result(on(() -> {
      q.done(job);
      return Future.succeededFuture();
    }));
  }

  private int outstanding(PushQueue q) {
    return Await.result(on(() -> Future.succeededFuture(q.outstanding())));
  }

  private PushQueue started(BlockingQueue<PushQueue.Queued> out, int max, AtomicInteger peak) {
    PushQueue q = newQueue();
    open.add(q);
    Await.result(on(() -> q.start(job -> {
      peak.accumulateAndGet(q.outstanding(), Math::max);
      out.add(job);
    }, max)), Duration.ofSeconds(60));
    return q;
  }

  private PushJob job(String user, long serverId) {
    PushRegistration reg = new PushRegistration(user, "phone", PushRegistration.FCM, "tok-" + user,
        new JsonObject().put("k", "v"), 1, 2);
    return new PushJob(reg, 42, serverId, "sender-" + run, serverId % 2 == 0 ? "hi " + serverId : null, 1_000 + serverId);
  }

  private List<PushJob> take(BlockingQueue<PushQueue.Queued> out, int n, List<PushQueue.Queued> handles) throws InterruptedException {
    List<PushJob> jobs = new ArrayList<>();
    long deadline = System.nanoTime() + patience().toNanos();
    while (jobs.size() < n) {
      PushQueue.Queued q = out.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      assertThat(q).as("job %d of %d handed out", jobs.size() + 1, n).isNotNull();
      handles.add(q);
      jobs.add(q.job());
    }
    return jobs;
  }

  @Test
  void jobsComeOutAsTheyWentInOneUsersInOrder() throws Exception {
    BlockingQueue<PushQueue.Queued> out = new LinkedBlockingQueue<>();
    PushQueue q = started(out, 100, new AtomicInteger());
    String alice = "alice-" + run;
    String bob = "bob-" + run;
    Await.result(on(() -> q.append(List.of(job(alice, 1), job(bob, 2), job(alice, 3)))));
    Await.result(on(() -> q.append(List.of(job(alice, 4), job(bob, 5)))));

    List<PushQueue.Queued> handles = new ArrayList<>();
    List<PushJob> got = take(out, 5, handles);
    assertThat(got).containsExactlyInAnyOrder(job(alice, 1), job(bob, 2), job(alice, 3), job(alice, 4), job(bob, 5));
    assertThat(got.stream().filter(j -> j.user().equals(alice)).map(PushJob::serverId)).containsExactly(1L, 3L, 4L);
    assertThat(got.stream().filter(j -> j.user().equals(bob)).map(PushJob::serverId)).containsExactly(2L, 5L);
    assertThat(outstanding(q)).isEqualTo(5);
    handles.forEach(h -> done(q, h));
    assertThat(outstanding(q)).isZero();
  }

  @Test
  void afterARestartUnfinishedJobsComeOutAgainFinishedOnesDoNot() throws Exception {
    String carol = "carol-" + run;
    BlockingQueue<PushQueue.Queued> out = new LinkedBlockingQueue<>();
    PushQueue first = started(out, 100, new AtomicInteger());
    Await.result(on(() -> first.append(List.of(job(carol, 1), job(carol, 2), job(carol, 3), job(carol, 4)))));
    List<PushQueue.Queued> handles = new ArrayList<>();
    take(out, 4, handles);
    done(first, handles.get(0));
    done(first, handles.get(1));
    closeAll(); // the node stops (or dies): jobs 3 and 4 were never answered

    BlockingQueue<PushQueue.Queued> again = new LinkedBlockingQueue<>();
    PushQueue second = started(again, 100, new AtomicInteger());
    List<PushJob> redelivered = take(again, 2, new ArrayList<>());
    assertThat(redelivered).extracting(PushJob::serverId).containsExactly(3L, 4L);
    assertThat(redelivered.get(1)).isEqualTo(job(carol, 4));
    assertThat(again.poll(300, TimeUnit.MILLISECONDS)).as("nothing finished comes back").isNull();
    assertThat(outstanding(second)).isEqualTo(2);
  }

  @Test
  void atMostMaxOutstandingAreOutTheRestFollowAsJobsFinish() throws Exception {
    String dave = "dave-" + run;
    BlockingQueue<PushQueue.Queued> out = new LinkedBlockingQueue<>();
    AtomicInteger peak = new AtomicInteger();
    PushQueue q = started(out, 4, peak);
    List<PushJob> jobs = new ArrayList<>();
    for (int i = 1; i <= 10; i++) {
      jobs.add(job(dave, i));
    }
    Await.result(on(() -> q.append(jobs)));

    List<PushQueue.Queued> handles = new ArrayList<>();
    List<PushJob> got = new ArrayList<>(take(out, 4, handles));
    assertThat(out.poll(300, TimeUnit.MILLISECONDS)).as("a fifth job while four are out").isNull();
    while (got.size() < 10) {
      PushQueue.Queued h = handles.remove(0);
      done(q, h);
      PushQueue.Queued next = out.poll(50, TimeUnit.MILLISECONDS);
      if (next != null) {
        handles.add(next);
        got.add(next.job());
      } else if (handles.isEmpty()) {
        got.addAll(take(out, 1, handles));
      }
    }
    assertThat(got).extracting(PushJob::serverId).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
    assertThat(peak.get()).as("jobs out at once, seen by the handler").isLessThanOrEqualTo(4);
  }

  @Test
  void aJobFinishedWhileLaterAppendsAreWrittenSkipsNone() throws Exception {
    String frank = "frank-" + run;
    BlockingQueue<PushQueue.Queued> out = new LinkedBlockingQueue<>();
    PushQueue q = started(out, 100, new AtomicInteger());
    Await.result(on(() -> q.append(List.of(job(frank, 1)))));
    List<PushQueue.Queued> handles = new ArrayList<>();
    take(out, 1, handles);

    // in one turn: two appends (the second waits for the first's write) and a job finishing
    Await.result(on(() -> {
      Future<Void> a = q.append(List.of(job(frank, 2)));
      Future<Void> b = q.append(List.of(job(frank, 3), job(frank, 4)));
      q.done(handles.get(0));
      return Future.all(a, b).mapEmpty();
    }));
    assertThat(take(out, 3, new ArrayList<>())).extracting(PushJob::serverId).containsExactly(2L, 3L, 4L);
  }

  @Test
  void aJobSurvivesItsJsonForm() {
    PushJob j = job("erin-" + run, 7);
    assertThat(PushJob.fromJson(new JsonObject(j.toJson().encode()))).isEqualTo(j);
    PushJob noPreview = job("erin-" + run, 9);
    assertThat(noPreview.preview()).isNull();
    assertThat(PushJob.fromJson(noPreview.toJson())).isEqualTo(noPreview);
  }
}
