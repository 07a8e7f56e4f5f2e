package io.parley.routing;

import io.parley.config.RoutingSettings;
import io.parley.fanout.Fanout;
import io.parley.fanout.FanoutBatch;
import io.parley.history.ConversationStore;
import io.parley.history.MessageStore;
import io.parley.protocol.Addresses;
import io.parley.protocol.ChatMessage;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routing on the cluster profile: reads the message log (one consumer per routing node; the log
 * spreads its partitions over them), and for each polled batch, in this order:
 * <ol>
 *   <li>persists it to the {@link MessageArchive} (idempotent; a retried send that reached the log
 *       twice is recognised and dropped here), and sends each record's writer the verdict its
 *       sender is acked with: the stored original ({@link #sendVerdicts}),
 *   <li>looks up the members of its conversations (cached, invalidated by membership events),
 *   <li>hands every new message to fan-out, in log order, and waits until fan-out confirmed that
 *       every node holding a recipient received it,
 *   <li>and only then commits the batch.
 * </ol>
 * A failing step (Cassandra down) is retried with exponential backoff up to {@code retryMaxMs}
 * between attempts, for as long as it takes; nothing is skipped and nothing is committed early, so
 * a crash at any point means the batch is read again (by this node's successor for the
 * partitions) and delivered at least once. One batch at a time keeps per-conversation order.
 */
public final class LogRoutingVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(LogRoutingVerticle.class);
  private static final long RETRY_FIRST_MS = 100;
  private static final DeliveryOptions FANOUT_OPTIONS = new DeliveryOptions().setLocalOnly(true).setSendTimeout(30_000);

  private final LogSource source;
  private final MessageArchive archive;
  private final MemberSets members;
  private final long retryMaxMs;
  private final MessageStore store;
  private final PreviousIds previous;
  private EventBus bus;
  private volatile boolean stopping;
  private final Promise<Void> stopped = Promise.promise();

  /** @param settings of routing; this verticle uses its member-cache bound */
  public LogRoutingVerticle(LogSource source, MessageArchive archive, ConversationStore conversations,
      RoutingSettings settings, long retryMaxMs) {
    this(source, archive, conversations, settings, retryMaxMs, null);
  }

  /**
   * @param store where the previous message of a conversation this verticle has not routed
   *     since it got its partition is read (see {@link PreviousIds}); null: such a message's
   *     fan-out carries no previous id
   */
  public LogRoutingVerticle(LogSource source, MessageArchive archive, ConversationStore conversations,
      RoutingSettings settings, long retryMaxMs, MessageStore store) {
    this.source = source;
    this.archive = archive;
    this.members = new MemberSets(conversations, settings.memberCacheMax());
    this.retryMaxMs = retryMaxMs;
    this.store = store;
    this.previous = new PreviousIds(settings.memberCacheMax());
  }

  @Override
  public Future<?> start() {
    bus = vertx.eventBus();
    return bus.<Long>consumer(Addresses.CONVERSATION_CHANGED, m -> members.invalidate(m.body())).completion()
        .onSuccess(v -> next());
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    return stopped.future().compose(v -> source.close());
  }

  private void next() {
    if (stopping) {
      stopped.tryComplete();
      return;
    }
    retrying("poll the log", source::poll).compose(this::route).onComplete(ar -> {
      if (ar.failed()) {
        LOG.error("routing a batch failed", ar.cause());
      }
      next();
    });
  }

  /**
   * Routes one batch: persists it, hands it to fan-out, waits for fan-out's confirmation and
   * commits it, all before the next poll. Committing before polling again matters: the consumer
   * takes part in a rebalance only inside a poll, so a batch delivered and committed first is never
   * read (and delivered) again by whoever gets its partition. (Overlapping the confirmation and
   * commit with the next polls was tried: rebalances then redelivered already delivered batches.)
   */
  private Future<Void> route(List<LogSource.Logged> batch) {
    if (batch.isEmpty()) {
      return Future.succeededFuture();
    }
    return handOver(batch).compose(h -> h.confirmed().compose(v -> source.commit(h.records()).recover(e -> {
      // the partitions moved on: their new owner reads the batch again, dedupe keeps it single
      LOG.info("commit of {} records not accepted: {}", h.records().size(), e.toString());
      return Future.succeededFuture();
    })));
  }

  /** The records of a batch handed to fan-out (to be committed), and fan-out's confirmation of them. */
  private record HandOver(List<LogSource.Logged> records, Future<Void> confirmed) {}

  /**
   * Persists the batch, then hands every new message to fan-out in log order, except those of
   * partitions a rebalance took away meanwhile (their new owner reads them again from the last
   * commit; this node neither delivers nor commits them). The confirmation never fails: an
   * unconfirmed node is logged, and its users sync when they reconnect.
   */
  private Future<HandOver> handOver(List<LogSource.Logged> batch) {
    List<ChatMessage> messages = new ArrayList<>(batch.size());
    Set<Long> convs = new LinkedHashSet<>();
    for (LogSource.Logged l : batch) {
      messages.add(l.message());
      convs.add(l.message().conv());
    }
    return retrying("persist " + batch.size() + " messages", () -> archive.persist(messages))
        .onSuccess(originals -> sendVerdicts(batch, originals))
        .compose(originals -> Future.join(lookUpPrevious(batch, originals), retrying("load members", () -> memberSets(convs)))
            .map(both -> both.<Map<Long, Set<String>>>resultAt(1)).map(sets -> {
          Map<Integer, Boolean> owned = new HashMap<>();
          List<LogSource.Logged> handed = new ArrayList<>(batch.size());
          List<Fanout> fanouts = new ArrayList<>(messages.size());
          for (int i = 0; i < messages.size(); i++) {
            LogSource.Logged l = batch.get(i);
            if (!owned.computeIfAbsent(l.partition(), source::owns)) {
              continue;
            }
            handed.add(l);
            if (originals.get(i).serverId() == messages.get(i).serverId()) {
              ChatMessage m = messages.get(i);
              Fanout f = fanout(m, l.connectionId(), sets.get(m.conv()), previous.next(m.conv(), m.serverId(), l.partition()));
              if (f != null) {
                fanouts.add(f);
              }
            }
          }
          if (handed.size() < batch.size()) {
            LOG.info("{} of {} records not handed on: their partitions moved to another node meanwhile",
                batch.size() - handed.size(), batch.size());
          }
          // commit only once fan-out handed every message to the nodes holding its recipients
          return new HandOver(handed, fanOut(fanouts));
        }));
  }

  /**
   * Tells each intake that wrote records of the batch what their senders are acked with: the
   * stored original of each record's (sender, msg id), as an encoded {@code msg} frame, one bus
   * message per intake node. A record logged twice (a retry through another node, or after a
   * failed append) is acked with the first copy's id, so every ack of a send carries one id. An
   * intake that is gone has no consumer, and the verdict is dropped: its senders retry elsewhere
   * and get the same original.
   */
  private void sendVerdicts(List<LogSource.Logged> batch, List<ChatMessage> originals) {
    Map<String, JsonArray> byNode = new HashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      String via = batch.get(i).via();
      if (via != null) {
        byNode.computeIfAbsent(via, k -> new JsonArray()).add(originals.get(i).toFrame());
      }
    }
    byNode.forEach((node, frames) -> bus.send(Addresses.intakeVerdicts(node), frames));
  }

  /**
   * Gets each new message's previous id ready (see {@link PreviousIds}): checks that each owned
   * partition's records follow on from the last routed here, and reads the previous message of
   * conversations not known here. Never fails.
   */
  private Future<Void> lookUpPrevious(List<LogSource.Logged> batch, List<ChatMessage> originals) {
    Map<Long, long[]> firsts = new HashMap<>();
    Map<Integer, Boolean> owned = new HashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      LogSource.Logged l = batch.get(i);
      if (owned.computeIfAbsent(l.partition(), source::owns)) {
        previous.continues(l.partition(), l.offset());
        if (originals.get(i).serverId() == l.message().serverId()) {
          firsts.putIfAbsent(l.message().conv(), new long[] {l.message().serverId(), l.partition()});
        }
      }
    }
    return store == null ? Future.succeededFuture() : previous.lookUp(store, firsts);
  }

  private Future<Map<Long, Set<String>>> memberSets(Set<Long> convs) {
    List<Long> order = new ArrayList<>(convs);
    List<Future<Set<String>>> loads = new ArrayList<>(order.size());
    for (Long c : order) {
      loads.add(members.get(c));
    }
    return Future.all(loads).map(all -> {
      Map<Long, Set<String>> out = new HashMap<>();
      for (int i = 0; i < order.size(); i++) {
        out.put(order.get(i), loads.get(i).result());
      }
      return out;
    });
  }

  /** The fan-out of one message, or null when it has nobody to go to. */
  private static Fanout fanout(ChatMessage m, String senderConnection, Set<String> recipients, long prev) {
    if (recipients == null || recipients.isEmpty()) {
      LOG.warn("message {} of conversation {} has no members to deliver to", m.serverId(), m.conv());
      return null;
    }
    return new Fanout(m.conv(), m.serverId(), m.from(), m.toFrame(), recipients, senderConnection,
        Fanout.preview(m.body()), prev);
  }

  /** Hands the batch's fan-outs over in one request; completes (never failing) once confirmed or given up. */
  private Future<Void> fanOut(List<Fanout> fanouts) {
    if (fanouts.isEmpty()) {
      return Future.succeededFuture();
    }
    return bus.request(Addresses.FANOUT, new FanoutBatch(fanouts), FANOUT_OPTIONS)
        .onFailure(e -> LOG.warn("fan-out of {} messages not confirmed: {}", fanouts.size(), e.toString()))
        .<Void>transform(ar -> Future.succeededFuture());
  }

  /** Runs {@code step} until it succeeds, backing off between failures; gives up only when stopping. */
  private <T> Future<T> retrying(String what, Supplier<Future<T>> step) {
    Promise<T> done = Promise.promise();
    attempt(what, step, RETRY_FIRST_MS, 1, done);
    return done.future();
  }

  private <T> void attempt(String what, Supplier<Future<T>> step, long delay, int attempt, Promise<T> done) {
    Future<T> f;
    try {
      f = step.get();
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    f.onComplete(ar -> {
      if (ar.succeeded()) {
        if (attempt > 1) {
          LOG.info("{}: succeeded after {} attempts", what, attempt);
        }
        done.complete(ar.result());
      } else if (stopping) {
        done.fail(ar.cause());
      } else {
        if (attempt == 1 || Long.bitCount(attempt) == 1) {
          LOG.warn("{} failed (attempt {}), retrying in {} ms: {}", what, attempt, delay, ar.cause().toString());
        }
        vertx.setTimer(delay, id -> attempt(what, step, Math.min(retryMaxMs, delay * 2), attempt + 1, done));
      }
    });
  }
}
