package io.parley.routing;

import io.parley.config.RoutingSettings;
import io.parley.history.ConversationStore;
import io.parley.history.MessageStore;
import io.parley.limits.LoadMonitor;
import io.parley.metrics.NodeMetrics;
import io.parley.presence.TypingThrottle;
import io.parley.protocol.Addresses;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;

/**
 * The cluster profile's send intake, one per gateway node: takes sends strictly in arrival order
 * ({@link SendSequencer}), checks membership against a bounded cache of member sets, appends
 * accepted sends to the {@link MessageLog} (Kafka) in batches, with up to
 * {@link RoutingSettings#clusterAppendsMax()} appends in flight (the Kafka log keeps their call
 * order: records are produced in call order, so a batch need not wait for the previous ack), and
 * acks each sender once Kafka has its batch. It does not fan out: {@link LogRoutingVerticle}, on the
 * routing nodes, reads the log, persists and fans out. Best-effort signals (receipts, typing) are
 * routed here, on the node they arrive at ({@link SignalRouter}), and never wait behind the log.
 */
public final class LogIntakeVerticle extends VerticleBase {
  private final MessageLog log;
  private final MessageStore messages;
  private final ConversationStore conversations;
  private final TypingThrottle typing;
  private final RoutingSettings settings;
  private final LoadMonitor load;
  private final NodeMetrics metrics;
  private LoadMonitor.Loop loop;

  public LogIntakeVerticle(MessageLog log, MessageStore messages, ConversationStore conversations, TypingThrottle typing,
      RoutingSettings settings) {
    this(log, messages, conversations, typing, settings, LoadMonitor.off());
  }

  /**
   * @param load the node's event-loop lag: sends are shed while a loop is behind, as they are while
   *     the oldest accepted send waits longer than {@link RoutingSettings#shedQueueWaitMs()} for
   *     Kafka's ack and routing's verdict (and the count waiting, in flight included, is bounded by
   *     {@link RoutingSettings#backlogMax()})
   */
  public LogIntakeVerticle(MessageLog log, MessageStore messages, ConversationStore conversations, TypingThrottle typing,
      RoutingSettings settings, LoadMonitor load) {
    this(log, messages, conversations, typing, settings, load, NodeMetrics.none());
  }

  /** @param metrics the node's meters: sends shed at intake */
  public LogIntakeVerticle(MessageLog log, MessageStore messages, ConversationStore conversations, TypingThrottle typing,
      RoutingSettings settings, LoadMonitor load, NodeMetrics metrics) {
    this.metrics = metrics;
    this.load = load;
    this.log = log;
    this.messages = messages;
    this.conversations = conversations;
    this.typing = typing;
    this.settings = settings;
  }

  @Override
  public Future<?> start() {
    EventBus bus = vertx.eventBus();
    MemberSets members = new MemberSets(conversations, settings.memberCacheMax());
    // no commit window: with several appends in flight, a batch starts as soon as one may
    loop = load.watch(context);
    SendSequencer sends = new SendSequencer(vertx, log, members, settings, settings.clusterAppendsMax(), 0,
        SendSequencer.AfterAppend.NOTHING, load, metrics);
    SignalRouter signals = new SignalRouter(bus, members, messages, conversations, typing);
    return Future.all(
        bus.<SendBatch>localConsumer(Addresses.ROUTING_SEND, m -> sends.offer(m.body().sends())).completion(),
        bus.<SignalRequest>localConsumer(Addresses.ROUTING_SIGNAL, signals::handle).completion(),
        // a membership change made through any node's REST API reaches every node's cache
        bus.<Long>consumer(Addresses.CONVERSATION_CHANGED, m -> members.invalidate(m.body())).completion());
  }

  @Override
  public Future<?> stop() {
    loop.stop();
    return Future.succeededFuture();
  }
}
