package io.parley.routing;

import io.parley.fanout.Fanout;
import io.parley.fanout.FanoutBatch;
import io.parley.history.ConversationStore;
import io.parley.history.MessageStore;
import io.parley.limits.LimitKey;
import io.parley.limits.RateLimiter;
import io.parley.protocol.Addresses;
import io.parley.protocol.ChatMessage;
import io.parley.protocol.ClientFrame;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.ParleyException;
import io.parley.protocol.ServerFrames;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
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
 * Orders, persists and routes messages. Sends are taken strictly in arrival order: membership is
 * checked against a bounded cache of member sets, accepted sends are appended to the
 * {@link MessageLog} in batches (embedded: one group commit in flight at a time, so ids and
 * fan-out follow arrival order, and a batch waits up to the commit window for more sends to share
 * its WAL sync; cluster: up to {@value #CLUSTER_APPENDS_MAX} batches in flight,
 * the Kafka log keeping their call order), each sender is acked only once its batch is durable, and every new message goes
 * to fan-out in id order. Best-effort signals (receipts, typing) take a separate path and never
 * wait behind the log. Typing is forwarded at most once per {@code typingThrottleMs} per user and
 * conversation, counted by the {@link RateLimiter} (so over all of the user's devices, on every
 * node in the cluster profile).
 */
public final class RoutingVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(RoutingVerticle.class);
  private static final int MEMBER_CACHE_MAX = 10_000;
  private static final int BATCH_MAX = 1024;
  /** Sends waiting beyond this are refused with {@code unavailable}: shed load rather than queue without bound. */
  static final int BACKLOG_MAX = 20_000;
  /**
   * Appends in flight at once on the cluster intake: the log orders them (records are produced in
   * call order), and routing fans out from the log, so a batch need not wait for the previous ack.
   */
  static final int CLUSTER_APPENDS_MAX = 8;

  private final MessageLog log;
  private final MessageStore messages;
  private final ConversationStore conversations;
  private final RateLimiter limiter;
  private final long typingThrottleMs;
  private final boolean fanOutAfterAck;

  private final MemberSets members;
  private final ArrayDeque<SendRequest> intake = new ArrayDeque<>();
  private final ArrayDeque<Accepted> accepted = new ArrayDeque<>();
  /** Appends in flight, and their bound: 1 when this verticle fans out, so fan-out follows id order. */
  private int appendsInFlight;
  private final int appendsMax;
  /** Completes once the outcome of the latest append was handled. */
  private Future<Void> ackTail = Future.succeededFuture();
  private EventBus bus;
  /** Embedded: how long the oldest accepted send may wait for more to share its group commit. */
  private final long commitWindowNanos;
  private long commitTimer = -1;

  /**
   * Embedded: the log is the store, and this verticle also hands every new message to fan-out.
   *
   * @param commitWindowMs how long the oldest accepted send may wait for others to join its
   *     append: each append costs one WAL write and sync whatever its size (0: append as soon as
   *     the previous one is done)
   */
  public RoutingVerticle(MessageLog log, MessageStore messages, ConversationStore conversations, RateLimiter limiter,
      long typingThrottleMs, int commitWindowMs) {
    this(log, messages, conversations, limiter, typingThrottleMs, true, commitWindowMs);
  }

  /**
   * @param fanOutAfterAck false in the cluster profile, where this verticle is the gateway node's
   *     intake into Kafka and {@link LogRoutingVerticle} fans out what it reads from the log
   */
  public RoutingVerticle(MessageLog log, MessageStore messages, ConversationStore conversations, RateLimiter limiter,
      long typingThrottleMs, boolean fanOutAfterAck) {
    this(log, messages, conversations, limiter, typingThrottleMs, fanOutAfterAck, 0);
  }

  private RoutingVerticle(MessageLog log, MessageStore messages, ConversationStore conversations, RateLimiter limiter,
      long typingThrottleMs, boolean fanOutAfterAck, int commitWindowMs) {
    this.log = log;
    this.messages = messages;
    this.conversations = conversations;
    this.limiter = limiter;
    this.typingThrottleMs = typingThrottleMs;
    this.fanOutAfterAck = fanOutAfterAck;
    this.appendsMax = fanOutAfterAck ? 1 : CLUSTER_APPENDS_MAX;
    this.commitWindowNanos = TimeUnit.MILLISECONDS.toNanos(commitWindowMs);
    this.members = new MemberSets(conversations, MEMBER_CACHE_MAX);
  }

  private record Accepted(SendRequest req, Set<String> members, long acceptedAt) {}

  @Override
  public Future<?> start() {
    bus = vertx.eventBus();
    return Future.all(
        bus.<SendBatch>localConsumer(Addresses.ROUTING_SEND, this::onSend).completion(),
        bus.<SignalRequest>localConsumer(Addresses.ROUTING_SIGNAL, this::onSignal).completion(),
        // clustered: a membership change made through any node's REST API reaches every node's cache
        bus.<Long>consumer(Addresses.CONVERSATION_CHANGED, m -> members.invalidate(m.body())).completion());
  }

  // --- sends -----------------------------------------------------------------------------------

  private void onSend(Message<SendBatch> msg) {
    // an intake that is not empty is waiting for a member set: admit() resumes on its own
    boolean idle = intake.isEmpty();
    for (SendRequest req : msg.body().sends()) {
      if (intake.size() + accepted.size() >= BACKLOG_MAX) {
        req.fail(ErrorCode.UNAVAILABLE, "overloaded, retry with the same msg_id");
      } else {
        intake.add(req);
      }
    }
    if (idle && !intake.isEmpty()) {
      admit();
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
      } else if (!set.contains(req.user())) {
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
    if (commitWindowNanos <= 0 || accepted.size() >= BATCH_MAX) {
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
    List<Accepted> batch = new ArrayList<>(Math.min(accepted.size(), BATCH_MAX));
    List<MessageLog.NewMessage> entries = new ArrayList<>(batch.size());
    while (!accepted.isEmpty() && batch.size() < BATCH_MAX) {
      Accepted a = accepted.poll();
      SendRequest r = a.req();
      ClientFrame.Send s = r.send();
      batch.add(a);
      entries.add(new MessageLog.NewMessage(r.user(), s.msgId(), s.conv(), s.body(), s.media(), r.connectionId(), r.maybeRetry()));
    }
    appendsInFlight++;
    Future<List<MessageLog.Appended>> appended = log.append(entries);
    // outcomes are handled in append order, whichever completes first
    ackTail = ackTail.transform(v -> appended).transform(ar -> {
      appendsInFlight--;
      if (ar.failed()) {
        LOG.error("append of {} messages failed: {}", batch.size(), ar.cause().toString());
        batch.forEach(a -> a.req().fail(ErrorCode.UNAVAILABLE, "storage unavailable, retry"));
      } else {
        List<MessageLog.Appended> results = ar.result();
        List<Fanout> fanouts = fanOutAfterAck ? new ArrayList<>(batch.size()) : null;
        Map<Context, List<Runnable>> acks = new HashMap<>(4);
        for (int i = 0; i < batch.size(); i++) {
          Accepted a = batch.get(i);
          MessageLog.Appended r = results.get(i);
          ChatMessage m = r.message();
          ack(acks, a.req().replies(), ServerFrames.ack(m.msgId(), m.conv(), m.serverId(), m.ts()));
          if (fanOutAfterAck && !r.duplicate()) {
            fanouts.add(new Fanout(m.conv(), m.serverId(), m.from(), r.frame(), a.members(),
                a.req().connectionId(), preview(m.body())));
          }
        }
        // one task per event loop for the batch's acks, one bus message for its fan-outs
        acks.forEach((context, writes) -> context.runOnContext(v -> writes.forEach(Runnable::run)));
        if (fanouts != null && !fanouts.isEmpty()) {
          bus.send(Addresses.FANOUT, new FanoutBatch(fanouts), Addresses.local());
        }
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

  private static String preview(String body) {
    return body.length() <= 64 ? body : body.substring(0, 64);
  }

  // --- signals ---------------------------------------------------------------------------------

  private void onSignal(Message<SignalRequest> msg) {
    SignalRequest req = msg.body();
    ClientFrame f = req.frame();
    long conv = f instanceof ClientFrame.Delivered d ? d.conv()
        : f instanceof ClientFrame.Read r ? r.conv()
        : f instanceof ClientFrame.Typing t ? t.conv() : -1;
    members.get(conv).onComplete(ar -> {
      if (ar.failed()) {
        fail(msg, ErrorCode.UNAVAILABLE, "membership unavailable");
        return;
      }
      Set<String> set = ar.result();
      if (set.isEmpty()) {
        fail(msg, ErrorCode.NOT_FOUND, "no conversation " + conv);
      } else if (!set.contains(req.user())) {
        fail(msg, ErrorCode.NOT_MEMBER, "not a member of " + conv);
      } else if (f instanceof ClientFrame.Delivered d) {
        delivered(msg, req.user(), d);
      } else if (f instanceof ClientFrame.Read r) {
        read(msg, req.user(), r, set);
      } else if (f instanceof ClientFrame.Typing t) {
        typing(msg, req.user(), t, set);
      }
    });
  }

  private void delivered(Message<SignalRequest> msg, String user, ClientFrame.Delivered d) {
    messages.get(d.conv(), d.serverId()).onComplete(ar -> {
      if (ar.failed()) {
        fail(msg, ErrorCode.UNAVAILABLE, "storage unavailable");
      } else if (ar.result().isEmpty()) {
        fail(msg, ErrorCode.NOT_FOUND, "no message " + d.serverId() + " in " + d.conv());
      } else {
        String sender = ar.result().get().from();
        if (!sender.equals(user)) {
          signal(d.conv(), ServerFrames.receipt(d.conv(), d.serverId(), user, "delivered"), List.of(sender));
        }
        msg.reply(null);
      }
    });
  }

  private void read(Message<SignalRequest> msg, String user, ClientFrame.Read r, Set<String> set) {
    conversations.markRead(user, r.conv(), r.serverId()).onComplete(ar -> {
      if (ar.failed()) {
        fail(msg, ErrorCode.UNAVAILABLE, "storage unavailable");
        return;
      }
      signal(r.conv(), ServerFrames.receipt(r.conv(), r.serverId(), user, "read"), others(set, user));
      msg.reply(null);
    });
  }

  /**
   * Forwards a typing signal when the user's typing bucket for the conversation has its token
   * (burst 1, one token per throttle period); the sender never hears either way.
   */
  private void typing(Message<SignalRequest> msg, String user, ClientFrame.Typing t, Set<String> set) {
    if (typingThrottleMs <= 0) {
      signal(t.conv(), ServerFrames.typing(t.conv(), user), others(set, user));
      msg.reply(null);
      return;
    }
    limiter.tryAcquire(LimitKey.typing(user, t.conv()), 1000.0 / typingThrottleMs, 1).onComplete(ar -> {
      if (ar.failed()) {
        LOG.debug("typing of {} in {} dropped, rate limiter failed: {}", user, t.conv(), ar.cause().toString());
      } else if (ar.result()) {
        signal(t.conv(), ServerFrames.typing(t.conv(), user), others(set, user));
      }
      msg.reply(null);
    });
  }

  private void signal(long conv, String frame, List<String> recipients) {
    if (!recipients.isEmpty()) {
      bus.send(Addresses.FANOUT, FanoutBatch.of(new Fanout(conv, 0, null, frame, recipients, null, null)), Addresses.local());
    }
  }

  private static List<String> others(Set<String> set, String user) {
    List<String> out = new ArrayList<>(set.size());
    for (String u : set) {
      if (!u.equals(user)) {
        out.add(u);
      }
    }
    return out;
  }

  private static void fail(Message<?> msg, ErrorCode code, String text) {
    msg.fail(code.failureCode(), text);
  }
}
