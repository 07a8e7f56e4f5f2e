package io.parley.routing;

import io.parley.bridge.BridgeTap;
import io.parley.config.RoutingSettings;
import io.parley.fanout.Fanout;
import io.parley.fanout.FanoutBatch;
import io.parley.history.ConversationStore;
import io.parley.history.MessageStore;
import io.parley.limits.LoadMonitor;
import io.parley.metrics.NodeMetrics;
import io.parley.presence.TypingThrottle;
import io.parley.protocol.Addresses;
import io.parley.protocol.ChatMessage;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import java.util.ArrayList;
import java.util.List;

/**
 * Routing on the embedded profile: orders, persists and routes messages. Sends are taken strictly
 * in arrival order ({@link SendSequencer}): membership is checked against a bounded cache of member
 * sets, accepted sends are appended to the {@link MessageLog} (the store itself) in batches, one
 * group commit in flight at a time, so ids and fan-out follow arrival order, and a batch waits up
 * to the commit window for more sends to share its WAL sync; each sender is acked only once its
 * batch is durable, and then every new message goes to fan-out in id order, one
 * {@link FanoutBatch} per append. Best-effort signals (receipts, typing) take a separate path
 * ({@link SignalRouter}) and never wait behind the log. (The cluster profile splits this work:
 * {@link LogIntakeVerticle} appends to Kafka and acks, {@link LogRoutingVerticle} fans out what it
 * reads from there.)
 */
public final class RoutingVerticle extends VerticleBase {
  private final MessageLog log;
  private final MessageStore messages;
  private final ConversationStore conversations;
  private final TypingThrottle typing;
  private final RoutingSettings settings;
  private final int commitWindowMs;
  private final PreviousIds previous;
  private final LoadMonitor load;
  private final BridgeTap tap;
  private final NodeMetrics metrics;
  private LoadMonitor.Loop loop;
  private EventBus bus;

  /**
   * @param commitWindowMs how long the oldest accepted send may wait for others to join its
   *     append: each append costs one WAL write and sync whatever its size (0: append as soon as
   *     the previous one is done)
   */
  public RoutingVerticle(MessageLog log, MessageStore messages, ConversationStore conversations, TypingThrottle typing,
      RoutingSettings settings, int commitWindowMs) {
    this(log, messages, conversations, typing, settings, commitWindowMs, LoadMonitor.off());
  }

  /** @param load the node's event-loop lag: this verticle's loop is watched too, and sends are shed while one is behind */
  public RoutingVerticle(MessageLog log, MessageStore messages, ConversationStore conversations, TypingThrottle typing,
      RoutingSettings settings, int commitWindowMs, LoadMonitor load) {
    this(log, messages, conversations, typing, settings, commitWindowMs, load, BridgeTap.OFF, NodeMetrics.none());
  }

  /**
   * @param tap where stored messages go to the bridge's message stream (while a bridge follows it)
   * @param metrics the node's meters: sends shed at intake
   */
  public RoutingVerticle(MessageLog log, MessageStore messages, ConversationStore conversations, TypingThrottle typing,
      RoutingSettings settings, int commitWindowMs, LoadMonitor load, BridgeTap tap, NodeMetrics metrics) {
    this.tap = tap;
    this.metrics = metrics;
    this.load = load;
    this.log = log;
    this.messages = messages;
    this.conversations = conversations;
    this.typing = typing;
    this.settings = settings;
    this.commitWindowMs = commitWindowMs;
    this.previous = new PreviousIds(settings.memberCacheMax());
  }

  @Override
  public Future<?> start() {
    bus = vertx.eventBus();
    MemberSets members = new MemberSets(conversations, settings.memberCacheMax());
    loop = load.watch(context);
    SendSequencer sends = new SendSequencer(vertx, log, members, settings, 1, commitWindowMs, this::fanOut, load, metrics);
    SignalRouter signals = new SignalRouter(bus, members, messages, conversations, typing);
    return Future.all(
        bus.<SendBatch>localConsumer(Addresses.ROUTING_SEND, m -> sends.offer(m.body().sends())).completion(),
        bus.<SignalRequest>localConsumer(Addresses.ROUTING_SIGNAL, signals::handle).completion(),
        // clustered: a membership change made through any node's REST API reaches every node's cache
        bus.<Long>consumer(Addresses.CONVERSATION_CHANGED, m -> members.invalidate(m.body())).completion());
  }

  @Override
  public Future<?> stop() {
    loop.stop();
    return Future.succeededFuture();
  }

  /**
   * Hands a durable batch's new messages (not the duplicates of earlier sends) to fan-out, in id
   * order, each with its conversation's previous message id when this verticle knows it.
   */
  private void fanOut(List<SendSequencer.Accepted> batch, List<MessageLog.Appended> results) {
    List<Fanout> fanouts = new ArrayList<>(batch.size());
    for (int i = 0; i < batch.size(); i++) {
      MessageLog.Appended r = results.get(i);
      if (!r.duplicate()) {
        SendSequencer.Accepted a = batch.get(i);
        ChatMessage m = r.message();
        tap.stored(m);
        fanouts.add(new Fanout(m.conv(), m.serverId(), m.from(), r.frame(), a.members(), a.req().connectionId(),
            Fanout.preview(m.body()), previous.next(m.conv(), m.serverId(), -1)));
      }
    }
    if (!fanouts.isEmpty()) {
      bus.send(Addresses.FANOUT, new FanoutBatch(fanouts), Addresses.local());
    }
  }
}
