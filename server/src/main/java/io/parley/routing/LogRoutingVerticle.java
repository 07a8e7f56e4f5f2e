package io.parley.routing;

import io.parley.bridge.BridgeTap;
import io.parley.config.RoutingSettings;
import io.parley.fanout.Fanout;
import io.parley.fanout.FanoutBatch;
import io.parley.history.ConversationStore;
import io.parley.history.MessageStore;
import io.parley.protocol.Addresses;
import io.parley.protocol.ChatMessage;
import io.parley.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
 *   <li>hands every new message to fan-out, in log order (a hot conversation's recipients split
 *       over the live nodes' fan-out, see {@link HotFanout}), and waits until fan-out confirmed that
 *       every node holding a recipient received it,
 *   <li>and only then commits the batch.
 * </ol>
 * A failing step is retried with exponential backoff up to {@code retryMaxMs} between attempts;
 * nothing is committed early, so a crash at any point means the batch is read again (by this
 * node's successor for the partitions) and delivered at least once. One batch at a time keeps
 * per-conversation order.
 *
 * <h2>A failed persist: isolation and the dead-letter topic</h2>
 *
 * The happy path persists a polled batch in one call. When that fails, each partition of the batch
 * is <em>held</em>: the consumer pauses it, and it is retried on its own, with backoff, while the
 * loop goes on polling and routing the node's other partitions (at most the failing partitions
 * stall; a partition's records keep their log order, since nothing of it is polled while held).
 * A held partition's records are persisted as a whole again; when the store {@link
 * MessageArchive#rejects rejects} a record for good, or a record keeps failing transiently for
 * {@code deadLetterAfterMs} while the store persists other records between its attempts, routing
 * finds it (persisting halves of the run, so the good records before and after it go through) and
 * parks it ({@link DeadLetters}): an ERROR log naming it, the {@link #parked()} counter, and a
 * rejection verdict to its intake, which answers the sender with {@code rejected}. A refusal is
 * trusted only while the store takes other records (within that bound): a store refusing
 * everything (a table missing) parks nothing. Its recipients
 * get nothing (it is not stored). Then the partition goes on past it, and is resumed once its
 * held records are routed. A store that is down as a whole parks nothing: no record is persisted
 * meanwhile, so every partition waits and retries, as before.
 */
public final class LogRoutingVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(LogRoutingVerticle.class);
  private static final long RETRY_FIRST_MS = 100;
  private static final DeliveryOptions FANOUT_OPTIONS = new DeliveryOptions().setLocalOnly(true).setSendTimeout(30_000);
  /** A hot conversation's part for another node's fan-out: its registry look-up, then its inbox requests (3 s each). */
  static final long REMOTE_FANOUT_TIMEOUT_MS = 10_000;
  private static final DeliveryOptions REMOTE_FANOUT_OPTIONS = new DeliveryOptions().setSendTimeout(REMOTE_FANOUT_TIMEOUT_MS);

  private final LogSource source;
  private final MessageArchive archive;
  private final DeadLetters deadLetters;
  private final MemberSets members;
  private final long retryMaxMs;
  private final long deadLetterAfterNanos;
  private final MessageStore store;
  private final PreviousIds previous;
  private final HotFanout hot;
  private final BridgeTap tap;
  private EventBus bus;
  private volatile boolean stopping;
  private final Promise<Void> stopped = Promise.promise();
  /** Partitions whose records are held back and retried on their own; event loop only. */
  private final Map<Integer, Held> held = new HashMap<>();
  /** When a persist last succeeded (System.nanoTime); event loop only. */
  private long lastPersisted = System.nanoTime() - 1;
  /** Whether any persist succeeded yet; event loop only. */
  private boolean persistedAny;
  private final AtomicLong parked = new AtomicLong();

  /**
   * @param settings of routing; this verticle uses its member-cache bound
   * @param deadLetters where records storage refuses are parked
   * @param retryMaxMs longest wait between two attempts of a failing step
   * @param deadLetterAfterMs how long a record may fail transiently, while the store persists
   *     others, before it is parked ({@code routing.dead_letter_after_ms})
   */
  public LogRoutingVerticle(LogSource source, MessageArchive archive, DeadLetters deadLetters,
      ConversationStore conversations, RoutingSettings settings, long retryMaxMs, long deadLetterAfterMs) {
    this(source, archive, deadLetters, conversations, settings, retryMaxMs, deadLetterAfterMs, null);
  }

  /**
   * @param store where the previous message of a conversation this verticle has not routed
   *     since it got its partition is read (see {@link PreviousIds}); null: such a message's
   *     fan-out carries no previous id
   */
  public LogRoutingVerticle(LogSource source, MessageArchive archive, DeadLetters deadLetters,
      ConversationStore conversations, RoutingSettings settings, long retryMaxMs, long deadLetterAfterMs,
      MessageStore store) {
    this(source, archive, deadLetters, conversations, settings, retryMaxMs, deadLetterAfterMs, store,
        HotFanout.off("local"));
  }

  /**
   * @param hot splits hot conversations' fan-out over the live nodes (see {@link #fanOut})
   */
  public LogRoutingVerticle(LogSource source, MessageArchive archive, DeadLetters deadLetters,
      ConversationStore conversations, RoutingSettings settings, long retryMaxMs, long deadLetterAfterMs,
      MessageStore store, HotFanout hot) {
    this(source, archive, deadLetters, conversations, settings, retryMaxMs, deadLetterAfterMs, store, hot, BridgeTap.OFF);
  }

  /** @param tap where stored messages go to the bridge's message stream (while a bridge follows it) */
  public LogRoutingVerticle(LogSource source, MessageArchive archive, DeadLetters deadLetters,
      ConversationStore conversations, RoutingSettings settings, long retryMaxMs, long deadLetterAfterMs,
      MessageStore store, HotFanout hot, BridgeTap tap) {
    this.tap = tap;
    this.hot = hot;
    this.source = source;
    this.archive = archive;
    this.deadLetters = deadLetters;
    this.members = new MemberSets(conversations, settings.memberCacheMax());
    this.retryMaxMs = retryMaxMs;
    this.deadLetterAfterNanos = TimeUnit.MILLISECONDS.toNanos(deadLetterAfterMs);
    this.store = store;
    this.previous = new PreviousIds(settings.memberCacheMax());
  }

  /** Records parked since start (a counter for metrics). */
  public long parked() {
    return parked.get();
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
      held.values().forEach(Held::drop);
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
   * Routes one turn: the polled batch (persisted in one call; on failure its partitions are held)
   * and whatever held partitions settled meanwhile; hands them to fan-out, waits for fan-out's
   * confirmation and commits them, all before the next poll. Committing before polling again
   * matters: the consumer takes part in a rebalance only inside a poll, so a batch delivered and
   * committed first is never read (and delivered) again by whoever gets its partition.
   * (Overlapping the confirmation and commit with the next polls was tried: rebalances then
   * redelivered already delivered batches.)
   */
  private Future<Void> route(List<LogSource.Logged> batch) {
    List<Settled> settled = collectSettled();
    List<LogSource.Logged> fresh = new ArrayList<>(batch.size());
    for (LogSource.Logged l : batch) {
      Held h = held.get(l.partition());
      if (h != null && h.token == source.ownership(l.partition())) {
        h.add(l); // polled although paused (a pause that failed): it queues behind the held ones
        if (!h.attempting && h.timer == -1) {
          h.attempt();
        }
      } else {
        if (h != null) {
          h.drop(); // reassigned meanwhile: read again from the last commit, this copy is fresh
        }
        fresh.add(l);
      }
    }
    if (fresh.isEmpty() && settled.isEmpty()) {
      return Future.succeededFuture();
    }
    return persistFresh(fresh).compose(f -> {
      if (f != null) {
        settled.add(f);
      }
      return handOver(settled);
    }).compose(h -> h.confirmed().compose(v -> source.commit(h.records()).recover(e -> {
      // the partitions moved on: their new owner reads the batch again, dedupe keeps it single
      LOG.info("commit of {} records not accepted: {}", h.records().size(), e.toString());
      return Future.succeededFuture();
    })));
  }

  /**
   * The happy path: the fresh records persisted in one call. On failure, each of their partitions
   * is held and retried on its own; completes with null then.
   */
  private Future<Settled> persistFresh(List<LogSource.Logged> fresh) {
    if (fresh.isEmpty()) {
      return Future.succeededFuture(null);
    }
    return persist(fresh).transform(ar -> {
      if (ar.succeeded()) {
        return Future.succeededFuture(Settled.persisted(fresh, ar.result()));
      }
      Map<Integer, List<LogSource.Logged>> runs = new LinkedHashMap<>();
      fresh.forEach(l -> runs.computeIfAbsent(l.partition(), k -> new ArrayList<>()).add(l));
      LOG.warn("persist of {} messages failed, retrying partitions {} on their own: {}", fresh.size(), runs.keySet(),
          ar.cause().toString());
      runs.forEach((partition, run) -> {
        long token = source.ownership(partition);
        if (token < 0) {
          return; // moved meanwhile: its new owner reads these records again
        }
        Held h = new Held(partition, token, ar.cause());
        held.put(partition, h);
        source.pause(partition);
        run.forEach(h::add);
        h.attempt();
      });
      return Future.succeededFuture(null);
    });
  }

  /** Persists the records' messages; notes the time of a success (the store works). */
  private Future<List<ChatMessage>> persist(List<LogSource.Logged> records) {
    Future<List<ChatMessage>> f;
    try {
      f = archive.persistLogged(records, source::ownership);
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    return f.onSuccess(v -> {
      lastPersisted = System.nanoTime();
      persistedAny = true;
    });
  }

  /**
   * Whether the store took other records lately (within the dead-letter bound): only then is a
   * refusal trusted to be the record's own fault. A store that refuses everything (a table missing,
   * a schema out of step) parks nothing: every partition waits, logging the cause.
   */
  private boolean storeWorks() {
    return persistedAny && System.nanoTime() - lastPersisted < deadLetterAfterNanos;
  }

  /**
   * Takes what held partitions settled since the last turn; forgets those no longer owned as they
   * were (their new owner reads them again from the last commit) and resumes those with nothing
   * left to retry.
   */
  private List<Settled> collectSettled() {
    List<Settled> out = new ArrayList<>();
    for (Held h : List.copyOf(held.values())) {
      if (h.token != source.ownership(h.partition)) {
        LOG.info("partition {} moved while held: its {} held records are left to its owner", h.partition,
            h.records.size());
        h.drop();
        continue;
      }
      out.addAll(h.settled);
      h.settled.clear();
      if (h.records.isEmpty() && !h.attempting) {
        h.drop();
        source.resume(h.partition);
      }
    }
    return out;
  }

  /** The records of a turn handed to fan-out (to be committed), and fan-out's confirmation of them. */
  private record HandOver(List<LogSource.Logged> records, Future<Void> confirmed) {}

  /**
   * Records done with: persisted ones with their stored originals, and parked ones (with why).
   */
  private record Settled(List<LogSource.Logged> records, List<ChatMessage> originals, List<LogSource.Logged> parked,
      List<String> errors) {
    static Settled persisted(List<LogSource.Logged> records, List<ChatMessage> originals) {
      return new Settled(records, originals, List.of(), List.of());
    }
  }

  /**
   * Sends the verdicts, then hands every new message to fan-out in log order, except those of
   * partitions a rebalance took away meanwhile (their new owner reads them again from the last
   * commit; this node neither delivers nor commits them). Parked records are committed with the
   * rest. The confirmation never fails: an unconfirmed node is logged, and its users sync when
   * they reconnect.
   */
  private Future<HandOver> handOver(List<Settled> settled) {
    Set<Long> convs = new LinkedHashSet<>();
    int size = 0;
    for (Settled s : settled) {
      sendVerdicts(s);
      s.records().forEach(l -> convs.add(l.message().conv()));
      size += s.records().size() + s.parked().size();
    }
    int total = size;
    return Future.join(lookUpPrevious(settled), retrying("load members", () -> memberSets(convs)))
        .map(both -> both.<Map<Long, Set<String>>>resultAt(1)).map(sets -> {
      Map<Integer, Boolean> owned = new HashMap<>();
      List<LogSource.Logged> handed = new ArrayList<>(total);
      List<Fanout> fanouts = new ArrayList<>(total);
      for (Settled s : settled) {
        for (int i = 0; i < s.records().size(); i++) {
          LogSource.Logged l = s.records().get(i);
          if (!owned.computeIfAbsent(l.partition(), source::owns)) {
            continue;
          }
          handed.add(l);
          if (s.originals().get(i).serverId() == l.message().serverId()) {
            ChatMessage m = l.message();
            tap.stored(m);
            Fanout f = fanout(m, l.connectionId(), sets.get(m.conv()),
                previous.next(m.conv(), m.serverId(), l.partition()));
            if (f != null) {
              fanouts.add(f);
            }
          }
        }
        for (LogSource.Logged l : s.parked()) {
          if (owned.computeIfAbsent(l.partition(), source::owns)) {
            handed.add(l);
          }
        }
      }
      if (handed.size() < total) {
        LOG.info("{} of {} records not handed on: their partitions moved to another node meanwhile",
            total - handed.size(), total);
      }
      // commit only once fan-out handed every message to the nodes holding its recipients
      return new HandOver(handed, fanOut(fanouts));
    });
  }

  /**
   * Tells each intake that wrote records of the batch what their senders are acked with: the
   * stored original of each record's (sender, msg id), as an encoded {@code msg} frame, or, for a
   * parked record, a rejection ({@link Verdicts}); one bus message per intake node. A record
   * logged twice (a retry through another node, or after a failed append) is acked with the first
   * copy's id, so every ack of a send carries one id. An intake that is gone has no consumer, and
   * the verdict is dropped: its senders retry elsewhere and get the same original.
   */
  private void sendVerdicts(Settled s) {
    Map<String, JsonArray> byNode = new HashMap<>();
    for (int i = 0; i < s.records().size(); i++) {
      String via = s.records().get(i).via();
      if (via != null) {
        byNode.computeIfAbsent(via, k -> new JsonArray()).add(s.originals().get(i).toFrame());
      }
    }
    for (int i = 0; i < s.parked().size(); i++) {
      LogSource.Logged l = s.parked().get(i);
      if (l.via() != null) {
        byNode.computeIfAbsent(l.via(), k -> new JsonArray()).add(Verdicts.rejected(l.message().from(),
            l.message().msgId(), ErrorCode.REJECTED, "not stored: " + s.errors().get(i)));
      }
    }
    byNode.forEach((node, frames) -> bus.send(Addresses.intakeVerdicts(node), frames));
  }

  /**
   * A partition whose records are held back (paused at the source) and retried on their own,
   * with backoff; event loop only. Each attempt settles a prefix of its records — persisted, or
   * parked — and keeps the rest, in log order, for the next one.
   */
  private final class Held {
    final int partition;
    /** The partition's {@link LogSource#ownership} when it was held. */
    final long token;
    /** Records still to persist, in log order. */
    final List<LogSource.Logged> records = new ArrayList<>();
    /** Settled records not yet handed over, in log order. */
    final List<Settled> settled = new ArrayList<>();
    long lastOffset = -1;
    /** Failed attempts since the held records last made progress (the batch's own persist is the first). */
    int attempts = 1;
    /** This attempt parks the first record that fails, transiently too (no progress for too long). */
    boolean overdue;
    long delay = RETRY_FIRST_MS;
    long previousFailure = System.nanoTime();
    /** Since when the first record fails while the store persists other records (0: it does not). */
    long failingWhileStoreWorks;
    Throwable cause;
    boolean attempting;
    boolean dropped;
    long timer = -1;

    Held(int partition, long token, Throwable cause) {
      this.partition = partition;
      this.token = token;
      this.cause = cause;
    }

    void add(LogSource.Logged l) {
      if (l.offset() > lastOffset) {
        records.add(l);
        lastOffset = l.offset();
      }
    }

    void drop() {
      dropped = true;
      vertx.cancelTimer(timer);
      held.remove(partition, this);
    }

    /** One attempt at the held records; schedules the next one while some are left. */
    void attempt() {
      if (dropped || stopping || records.isEmpty()) {
        return;
      }
      attempting = true;
      List<LogSource.Logged> run = List.copyOf(records);
      settle(run, true).onComplete(ar -> {
        attempting = false;
        if (dropped) {
          return;
        }
        Outcome o = ar.succeeded() ? ar.result() : Outcome.stuck(run, ar.cause());
        if (!o.settled.records().isEmpty() || !o.settled.parked().isEmpty()) {
          settled.add(o.settled);
        }
        records.subList(0, run.size() - o.stuck.size()).clear();
        if (records.isEmpty()) {
          if (attempts > 1) {
            LOG.info("partition {}: held records persisted after {} attempts", partition, attempts);
          }
          return; // resumed by the next turn, after it handed these over
        }
        if (o.stuck.size() < run.size()) {
          attempts = 1; // progress: a new first record
          delay = RETRY_FIRST_MS;
          failingWhileStoreWorks = 0;
        }
        cause = o.cause;
        if (attempts == 1 || Long.bitCount(attempts) == 1) {
          LOG.warn("partition {}: persist of {} held records failed (attempt {}), retrying in {} ms: {}", partition,
              records.size(), attempts, delay, cause.toString());
        }
        timer = vertx.setTimer(delay, t -> {
          timer = -1;
          attempt();
        });
        delay = Math.min(retryMaxMs, delay * 2);
      });
    }

    /**
     * Persists {@code run} (a prefix of the held records; {@code whole}: all of them, this
     * attempt's first call); on a failure that calls for it, finds the record responsible by
     * persisting halves, and parks it. Completes with what is settled, and the stuck rest (the
     * failing record and everything after it) with the cause.
     */
    Future<Outcome> settle(List<LogSource.Logged> run, boolean whole) {
      return persist(run).transform(ar -> {
        if (ar.succeeded()) {
          return Future.succeededFuture(Outcome.done(Settled.persisted(run, ar.result())));
        }
        Throwable e = ar.cause();
        boolean permanent = archive.rejects(e);
        if (whole) {
          attempts++;
          overdue = !permanent && overdue();
        }
        if (!permanent && !overdue) {
          return Future.succeededFuture(Outcome.stuck(run, e));
        }
        if (run.size() == 1) {
          if (permanent && !storeWorks()) {
            return Future.succeededFuture(Outcome.stuck(run, e));
          }
          return park(run.get(0), e, permanent);
        }
        List<LogSource.Logged> left = run.subList(0, run.size() / 2);
        List<LogSource.Logged> right = run.subList(run.size() / 2, run.size());
        return settle(left, false).compose(l -> !l.stuck.isEmpty()
            ? Future.succeededFuture(new Outcome(l.settled, Outcome.concat(l.stuck, right), l.cause))
            : settle(right, false).map(l::then));
      });
    }

    /**
     * Whether the held records have made no progress for longer than the bound while the store
     * kept persisting other records between their attempts (a store down as a whole parks nothing).
     */
    private boolean overdue() {
      long now = System.nanoTime();
      if (lastPersisted - previousFailure > 0) {
        if (failingWhileStoreWorks == 0) {
          failingWhileStoreWorks = now;
        }
      } else {
        failingWhileStoreWorks = 0;
      }
      previousFailure = now;
      return failingWhileStoreWorks != 0 && now - failingWhileStoreWorks >= deadLetterAfterNanos;
    }

    /** Parks {@code l}; stuck (retried later) when the dead-letter topic does not take it. */
    private Future<Outcome> park(LogSource.Logged l, Throwable e, boolean permanent) {
      String error = (permanent ? "refused by storage: " : "failing for longer than the bound: ") + e;
      return deadLetters.park(l, error, attempts).transform(ar -> {
        if (ar.failed()) {
          LOG.warn("partition {}: parking offset {} failed, retrying: {}", partition, l.offset(), ar.cause().toString());
          return Future.succeededFuture(Outcome.stuck(List.of(l), ar.cause()));
        }
        parked.incrementAndGet();
        overdue = false; // the rest of the run is judged by its own failures
        ChatMessage m = l.message();
        LOG.error("parked record partition {} offset {} (conversation {}, sender {}, msg_id {}) in {} after {} attempts: {}",
            l.partition(), l.offset(), m.conv(), m.from(), m.msgId(), deadLetters.describe(), attempts, error, e);
        return Future.succeededFuture(Outcome.done(new Settled(List.of(), List.of(), List.of(l), List.of(error))));
      });
    }
  }

  /** One attempt's result: the settled records of a prefix of the run, then the stuck rest (empty: none) and why. */
  private record Outcome(Settled settled, List<LogSource.Logged> stuck, Throwable cause) {
    static Outcome done(Settled s) {
      return new Outcome(s, List.of(), null);
    }

    static Outcome stuck(List<LogSource.Logged> run, Throwable cause) {
      return new Outcome(new Settled(List.of(), List.of(), List.of(), List.of()), List.copyOf(run), cause);
    }

    /** This outcome followed by {@code next}'s (which starts where this one's settled part ends). */
    Outcome then(Outcome next) {
      return new Outcome(new Settled(concat(settled.records(), next.settled.records()),
          concat(settled.originals(), next.settled.originals()), concat(settled.parked(), next.settled.parked()),
          concat(settled.errors(), next.settled.errors())), next.stuck, next.cause);
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
      List<T> out = new ArrayList<>(a.size() + b.size());
      out.addAll(a);
      out.addAll(b);
      return out;
    }
  }

  /**
   * Gets each new message's previous id ready (see {@link PreviousIds}): checks that each owned
   * partition's records (persisted and parked, in offset order) follow on from the last routed
   * here, and reads the previous message of conversations not known here. Never fails.
   */
  private Future<Void> lookUpPrevious(List<Settled> settled) {
    List<LogSource.Logged> all = new ArrayList<>();
    Set<LogSource.Logged> fresh = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Settled s : settled) {
      for (int i = 0; i < s.records().size(); i++) {
        LogSource.Logged l = s.records().get(i);
        all.add(l);
        if (s.originals().get(i).serverId() == l.message().serverId()) {
          fresh.add(l);
        }
      }
      all.addAll(s.parked());
    }
    all.sort(Comparator.comparingInt(LogSource.Logged::partition).thenComparingLong(LogSource.Logged::offset));
    Map<Long, long[]> firsts = new HashMap<>();
    Map<Integer, Boolean> owned = new HashMap<>();
    for (LogSource.Logged l : all) {
      if (owned.computeIfAbsent(l.partition(), source::owns)) {
        previous.continues(l.partition(), l.offset());
        if (fresh.contains(l)) {
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

  /**
   * Hands the batch's fan-outs over, in one request to this node's fan-out, and for a hot
   * conversation ({@link HotFanout}) one more per other node fanning out some of its recipients, to
   * that node's fan-out ({@link Addresses#nodeFanout}); completes (never failing) once all are
   * confirmed or given up. An unconfirmed part is logged, and its recipients catch up by sync and
   * live-gap backfill, as when this node's own fan-out fails; a node without the address yet (it is
   * still starting) gets its part fanned out here instead.
   */
  private Future<Void> fanOut(List<Fanout> fanouts) {
    if (fanouts.isEmpty()) {
      return Future.succeededFuture();
    }
    Map<String, List<Fanout>> parts = hot.assign(fanouts, System.nanoTime());
    List<Future<Void>> confirmed = new ArrayList<>(parts.size());
    parts.forEach((node, part) -> confirmed.add(node.equals(hot.self()) ? fanOutHere(part) : fanOutOn(node, part)));
    return Future.join(confirmed).transform(ar -> Future.succeededFuture());
  }

  private Future<Void> fanOutHere(List<Fanout> fanouts) {
    return bus.request(Addresses.FANOUT, new FanoutBatch(fanouts), FANOUT_OPTIONS)
        .onFailure(e -> LOG.warn("fan-out of {} messages not confirmed: {}", fanouts.size(), e.toString()))
        .<Void>transform(ar -> Future.succeededFuture());
  }

  private Future<Void> fanOutOn(String node, List<Fanout> fanouts) {
    List<List<Fanout>> requests = hot.requests(fanouts);
    List<Future<Boolean>> answers = new ArrayList<>(requests.size());
    // sent one after another from this loop: the bus keeps their order to that node's fan-out
    for (List<Fanout> request : requests) {
      answers.add(fanOutRequest(node, request));
    }
    return Future.join(answers).transform(ar -> {
      // the requests that node had no fan-out for, fanned out here, still in order
      List<Future<Void>> here = new ArrayList<>();
      for (int i = 0; i < requests.size(); i++) {
        if (answers.get(i).result()) {
          here.add(fanOutHere(requests.get(i)));
        }
      }
      return Future.join(here).transform(v -> Future.succeededFuture());
    });
  }

  /** One request to another node's fan-out; true when that node has none (yet), and it is to be done here. */
  private Future<Boolean> fanOutRequest(String node, List<Fanout> fanouts) {
    hot.stats().sentToOther();
    return bus.request(Addresses.nodeFanout(node), new FanoutBatch(fanouts), REMOTE_FANOUT_OPTIONS).transform(ar -> {
      if (ar.succeeded()) {
        return Future.succeededFuture(false);
      }
      if (ar.cause() instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS) {
        // nothing was delivered there
        LOG.info("node {} has no fan-out yet, fanning out its part of {} messages here", node, fanouts.size());
        return Future.succeededFuture(true);
      }
      hot.stats().unconfirmed();
      hot.unconfirmed(node, System.nanoTime());
      LOG.warn("fan-out of {} messages by node {} not confirmed, its sub-partitions go to other nodes for {} s: {}",
          fanouts.size(), node, TimeUnit.NANOSECONDS.toSeconds(HotFanout.AVOID_NANOS), ar.cause().toString());
      return Future.succeededFuture(false);
    });
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
