package io.parley.routing;

import io.parley.config.RoutingSettings;
import io.parley.limits.LoadMonitor;
import io.parley.metrics.NodeMetrics;
import io.parley.protocol.ChatMessage;
import io.parley.protocol.ClientFrame;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.ServerFrames;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The send path both routing roles share ({@link RoutingVerticle} embedded, {@link LogIntakeVerticle}
 * on the cluster's gateway nodes), owned by one verticle and run on its event loop. Sends are taken
 * strictly in arrival order: membership is checked against the verticle's {@link MemberSets},
 * accepted sends are appended to the {@link MessageLog} in batches of at most
 * {@link RoutingSettings#batchMax()}, with at most {@code appendsMax} appends in flight (their
 * outcomes handled in call order), each sender is acked only once its batch is durable (one task
 * per event loop for a batch's acks), and then the batch goes to the {@link AfterAppend} step.
 * Sends waiting beyond {@link RoutingSettings#backlogMax()} (for their member check, their append or
 * its answer) are refused with {@code unavailable}: shed load rather than queue without bound. So are
 * new sends while the node is overloaded (issue 18, item 7): while one of its event loops is behind
 * ({@link LoadMonitor}), or while the oldest send waiting for its append has waited longer than
 * {@link RoutingSettings#shedQueueWaitMs()} (the log, Kafka and routing's verdicts on the cluster,
 * falls behind). A shed send is refused before anything is stored, so it is never acked nor
 * delivered, and its client retries it later with the same {@code msg_id}; what was accepted keeps
 * being delivered at a bounded delay.
 */
final class SendSequencer {
  private static final Logger LOG = LoggerFactory.getLogger(SendSequencer.class);

  /** What the owner does with a durable batch, after its senders' acks were handed over. */
  @FunctionalInterface
  interface AfterAppend {
    /** Nothing: the log hands its messages on by itself (the cluster's routing nodes read it). */
    AfterAppend NOTHING = (batch, results) -> {};

    /** @param results the log's answer for each of {@code batch}, in the same order */
    void appended(List<Accepted> batch, List<MessageLog.Appended> results);
  }

  /** A send that passed the member check, with the member set it was checked against. */
  record Accepted(SendRequest req, Set<String> members, long acceptedAt) {}

  private final Vertx vertx;
  private final MessageLog log;
  private final MemberSets members;
  private final int backlogMax;
  private final NodeMetrics metrics;
  private final int batchMax;
  private final AfterAppend afterAppend;
  private final LoadMonitor load;
  private final long queueWaitMaxNanos;
  /** Sends in the appends in flight (cluster: waiting for Kafka's ack and routing's verdict). */
  private int inFlightSends;
  /** Sends shed for overload since the last log line about it, and when that line was written. */
  private long shedSinceLog;
  private long shedLoggedAt;

  private final ArrayDeque<SendRequest> intake = new ArrayDeque<>();
  private final ArrayDeque<Accepted> accepted = new ArrayDeque<>();
  /** Appends in flight, and their bound (1 where the owner fans out, so fan-out follows id order). */
  private int appendsInFlight;
  private final int appendsMax;
  /** Completes once the outcome of the latest append was handled. */
  private Future<Void> ackTail = Future.succeededFuture();
  /** How long the oldest accepted send may wait for more to share its append (0: no wait). */
  private final long commitWindowNanos;
  private long commitTimer = -1;

  /**
   * @param appendsMax appends in flight at once: 1 keeps ids and fan-out in arrival order over a
   *     log that completes appends one at a time; more when the log itself orders them
   * @param commitWindowMs how long the oldest accepted send may wait for others to join its
   *     append: each append costs one WAL write and sync whatever its size (0: append as soon as
   *     an append may start)
   */
  SendSequencer(Vertx vertx, MessageLog log, MemberSets members, RoutingSettings settings, int appendsMax,
      int commitWindowMs, AfterAppend afterAppend) {
    this(vertx, log, members, settings, appendsMax, commitWindowMs, afterAppend, LoadMonitor.off());
  }

  /** @param load the node's event-loop lag: while it says overloaded, new sends are shed */
  SendSequencer(Vertx vertx, MessageLog log, MemberSets members, RoutingSettings settings, int appendsMax,
      int commitWindowMs, AfterAppend afterAppend, LoadMonitor load) {
    this(vertx, log, members, settings, appendsMax, commitWindowMs, afterAppend, load, NodeMetrics.none());
  }

  /** @param metrics counts the sends shed ({@code parley_shed_total{code="unavailable"}}) */
  SendSequencer(Vertx vertx, MessageLog log, MemberSets members, RoutingSettings settings, int appendsMax,
      int commitWindowMs, AfterAppend afterAppend, LoadMonitor load, NodeMetrics metrics) {
    this.metrics = metrics;
    this.load = load;
    this.shedLoggedAt = System.nanoTime() - TimeUnit.SECONDS.toNanos(1);
    this.queueWaitMaxNanos = TimeUnit.MILLISECONDS.toNanos(settings.shedQueueWaitMs());
    this.vertx = vertx;
    this.log = log;
    this.members = members;
    this.backlogMax = settings.backlogMax();
    this.batchMax = settings.batchMax();
    this.appendsMax = appendsMax;
    this.commitWindowNanos = TimeUnit.MILLISECONDS.toNanos(commitWindowMs);
    this.afterAppend = afterAppend;
  }

  /** Takes a gateway's sends, in their order, behind every send taken before. */
  void offer(List<SendRequest> sends) {
    // an intake that is not empty is waiting for a member set: admit() resumes on its own
    boolean idle = intake.isEmpty();
    String overload = overload();
    for (SendRequest req : sends) {
      if (overload != null) {
        req.fail(ErrorCode.UNAVAILABLE, "server overloaded (" + overload + "), retry later with the same msg_id");
        shed(overload);
        metrics.shedUnavailable();
      } else if (intake.size() + accepted.size() + inFlightSends >= backlogMax) {
        req.fail(ErrorCode.UNAVAILABLE, "overloaded, retry with the same msg_id");
        metrics.shedUnavailable();
      } else {
        intake.add(req);
      }
    }
    if (idle && !intake.isEmpty()) {
      admit();
    }
  }

  /**
   * Why new sends are shed now, or null when they are not: one of the node's event loops is behind
   * (what was accepted already waits to be delivered), or the oldest send waiting for its append
   * has waited too long (the log does not keep up).
   */
  String overload() {
    if (load.overloaded()) {
      return "event loop lag " + TimeUnit.NANOSECONDS.toMillis(load.lagNanos()) + " ms";
    }
    if (queueWaitMaxNanos > 0 && !accepted.isEmpty()) {
      long waited = System.nanoTime() - accepted.peek().acceptedAt();
      if (waited > queueWaitMaxNanos) {
        return "sends wait " + TimeUnit.NANOSECONDS.toMillis(waited) + " ms for the log";
      }
    }
    return null;
  }

  /** Counts a shed send; logs how many were shed at most once per second. */
  private void shed(String why) {
    shedSinceLog++;
    long now = System.nanoTime();
    if (now - shedLoggedAt >= TimeUnit.SECONDS.toNanos(1)) {
      LOG.warn("overloaded ({}): shed {} sends (unavailable) since the last report", why, shedSinceLog);
      shedSinceLog = 0;
      shedLoggedAt = now;
    }
  }

  /** Moves sends from the intake to the append queue in order, waiting at the head for a member set. */
  private void admit() {
    while (!intake.isEmpty()) {
      SendRequest req = intake.peek();
      Set<String> set = members.cached(req.send().conv());
      if (set == null) {
        members.get(req.send().conv()).onComplete(ar -> {
          if (ar.failed()) {
            LOG.warn("membership of {} unavailable: {}", req.send().conv(), ar.cause().toString());
            intake.poll().fail(ErrorCode.UNAVAILABLE, "membership unavailable, retry");
          }
          admit();
        });
        return;
      }
      intake.poll();
      if (set.isEmpty()) {
        req.fail(ErrorCode.NOT_FOUND, "no conversation " + req.send().conv());
      } else if (!set.contains(req.user()) && !req.isSystem()) {
        req.fail(ErrorCode.NOT_MEMBER, "not a member of " + req.send().conv());
      } else {
        accepted.add(new Accepted(req, set, System.nanoTime()));
      }
    }
    flush();
  }

  private void flush() {
    while (appendsInFlight < appendsMax && !accepted.isEmpty()) {
      if (waitForMore()) {
        return;
      }
      appendBatch();
    }
  }

  /**
   * Whether the next append should wait for more sends: a batch costs one WAL sync whatever its
   * size, so while the oldest waiting send is younger than the commit window and the batch is not
   * full, a timer takes the batch a little later (true), instead of now (false).
   */
  private boolean waitForMore() {
    if (commitWindowNanos <= 0 || accepted.size() >= batchMax) {
      return false;
    }
    long age = System.nanoTime() - accepted.peek().acceptedAt();
    if (age >= commitWindowNanos) {
      return false;
    }
    if (commitTimer < 0) {
      long delayMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(commitWindowNanos - age));
      commitTimer = vertx.setTimer(delayMs, id -> {
        commitTimer = -1;
        flush();
      });
    }
    return true;
  }

  private void appendBatch() {
    List<Accepted> batch = new ArrayList<>(Math.min(accepted.size(), batchMax));
    List<MessageLog.NewMessage> entries = new ArrayList<>(batch.size());
    while (!accepted.isEmpty() && batch.size() < batchMax) {
      Accepted a = accepted.poll();
      SendRequest r = a.req();
      ClientFrame.Send s = r.send();
      batch.add(a);
      entries.add(new MessageLog.NewMessage(r.user(), s.msgId(), s.conv(), s.body(), s.media(), r.connectionId(),
          s.first()));
    }
    appendsInFlight++;
    inFlightSends += batch.size();
    Future<List<MessageLog.Appended>> appended = log.append(entries);
    // outcomes are handled in append order, whichever completes first
    ackTail = ackTail.transform(v -> appended).transform(ar -> {
      appendsInFlight--;
      inFlightSends -= batch.size();
      if (ar.failed()) {
        LOG.error("append of {} messages failed: {}", batch.size(), ar.cause().toString());
        batch.forEach(a -> a.req().fail(ErrorCode.UNAVAILABLE, "storage unavailable, retry"));
      } else {
        List<MessageLog.Appended> results = ar.result();
        Map<Context, List<Runnable>> acks = new HashMap<>(4);
        for (int i = 0; i < batch.size(); i++) {
          MessageLog.Appended a = results.get(i);
          if (a.rejection() != null) {
            // storage refused it for good: no ack, the typed rejection (the sender must not resend it as is)
            batch.get(i).req().fail(a.rejection().code(), a.rejection().getMessage());
            continue;
          }
          ChatMessage m = a.message();
          ack(acks, batch.get(i).req().replies(), ServerFrames.ack(m.msgId(), m.conv(), m.serverId(), m.ts()));
        }
        // one task per event loop for the batch's acks, then the owner's step (fan-out: one bus message)
        acks.forEach((context, writes) -> context.runOnContext(v -> writes.forEach(Runnable::run)));
        afterAppend.appended(batch, results);
      }
      flush();
      return Future.<Void>succeededFuture();
    });
  }

  /** Queues an ack for its replies' context, or acks now when they have none. */
  private static void ack(Map<Context, List<Runnable>> acks, SendReplies replies, String frame) {
    Context context = replies.replyContext();
    if (context == null) {
      replies.ack(frame);
    } else {
      acks.computeIfAbsent(context, k -> new ArrayList<>()).add(() -> replies.ack(frame));
    }
  }
}
