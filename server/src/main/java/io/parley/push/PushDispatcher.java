package io.parley.push;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.parley.config.PushDeliverySettings.Pacing;
import io.parley.history.ConversationStore;
import io.parley.push.ProviderSender.Kind;
import io.parley.push.ProviderSender.Outcome;
import io.parley.push.PushQueue.Queued;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns queued push jobs ({@link PushQueue}) into provider requests: coalesced per device and
 * conversation, paced per provider, retried until the provider answers for good, spilled to an
 * email digest when they wait too long. Runs on one context (push's verticle); nothing here blocks.
 *
 * <h2>Coalescing</h2>
 * Jobs are grouped by slot (user, device, conversation). The first job of a quiet slot becomes a
 * notification at once; jobs arriving within {@code coalesceMs} of the slot's last notification
 * wait and go out together as one follow-up at the end of that window, carrying their count and
 * the newest message. Jobs arriving while the slot's notification still waits for its provider
 * (paced, throttled, backing off) join that notification instead, with those that came while it
 * was in flight, so it always names the newest message. So a burst of fifty messages to
 * a sleeping phone is two notifications; the providers' collapse ids (per conversation) make the
 * device show one entry.
 *
 * <h2>Pacing and answers</h2>
 * Per provider a lane: a token bucket ({@code rate_per_s}, {@code burst}; Bucket4j) and at most
 * {@code in_flight_max} requests outstanding. A notification leaves only with a token and a free
 * slot; the rest wait in the lane, in order. Answers ({@link Outcome}):
 * <ul>
 *   <li>accepted, gone (the registration is removed), refused: the notification is finished and its
 *       jobs are done in the queue;
 *   <li>throttled (429): the whole lane pauses for the provider's {@code Retry-After}, or an
 *       exponential backoff with jitter when it named none, and the notification goes back to the
 *       head of the lane; after the pause the lane sends one request at a time and widens by one
 *       per accepted request (slow start) up to {@code in_flight_max};
 *   <li>retry (5xx) and transport errors: this notification waits an exponential backoff with
 *       jitter ({@code retry_base_ms} doubling up to {@code retry_max_ms}), or the
 *       {@code Retry-After}, and joins the lane's tail again;
 *   <li>too large (413): sent again at once without the preview.
 * </ul>
 * Nothing is dropped for waiting: a throttled provider builds a backlog that drains afterwards,
 * and message delivery to online users never waits for any of it (push runs after fan-out).
 *
 * <h2>Spill-over</h2>
 * Every second: a user whose oldest unfinished job is older than {@code spillAfterMs} gets one
 * email digest ({@link SpillOver}) of every notification still owed to any of their devices, once
 * none of them is in flight (so one digest, not one now and one for the in-flight rest), and those
 * jobs are finished — mailed or, when there is nobody to mail, given
 * up and counted as expired.
 */
public final class PushDispatcher {
  private static final Logger LOG = LoggerFactory.getLogger(PushDispatcher.class);
  static final long TICK_MS = 1000;

  /**
   * @param coalesceMs {@code push.coalesce_ms}
   * @param previewChars {@code push.preview_chars}
   * @param spillAfterMs {@code push.spill_after_ms}
   * @param retryBaseMs first backoff after a failure ({@code push.retry_base_ms})
   * @param retryMaxMs longest backoff ({@code push.retry_max_ms})
   */
  public record Settings(long coalesceMs, int previewChars, long spillAfterMs, long retryBaseMs, long retryMaxMs) {}

  private final Vertx vertx;
  private final PushQueue queue;
  private final PushRegistrations registrations;
  private final ConversationStore conversations;
  private final SpillOver spill;
  private final Settings settings;
  private final PushStats stats;
  private final LongSupplier clock;
  private final Map<String, Lane> lanes = new HashMap<>();
  private final Map<String, Slot> slots = new LinkedHashMap<>();
  private long tick = -1;
  private Context context;

  /** One (user, device, conversation): its notification on its way, if any, and jobs waiting for the window. */
  private final class Slot {
    final String key;
    final String user;
    long sentAt = Long.MIN_VALUE / 2;
    Note active;
    final List<Queued> pending = new ArrayList<>();
    long flushTimer = -1;

    Slot(String key, String user) {
      this.key = key;
      this.user = user;
    }

    long oldest() {
      long oldest = Long.MAX_VALUE;
      if (active != null && !active.jobs.isEmpty()) {
        oldest = active.jobs.get(0).job().at();
      }
      if (!pending.isEmpty()) {
        oldest = Math.min(oldest, pending.get(0).job().at());
      }
      return oldest;
    }
  }

  private enum State { READY, IN_FLIGHT, WAITING, FINISHED }

  /** One notification: the jobs it stands for (oldest first), its lane and its attempts. */
  private final class Note {
    final Slot slot;
    final Lane lane;
    final List<Queued> jobs = new ArrayList<>();
    State state = State.READY;
    int attempt;
    boolean noPreview;
    long retryTimer = -1;

    Note(Slot slot, Lane lane) {
      this.slot = slot;
      this.lane = lane;
    }

    /** The job of the newest message (the highest server id: jobs of one slot may be queued out of order). */
    PushJob newest() {
      PushJob newest = jobs.get(0).job();
      for (Queued q : jobs) {
        if (q.job().serverId() > newest.serverId()) {
          newest = q.job();
        }
      }
      return newest;
    }
  }

  /** A provider's sender with its pacing and its waiting notifications. */
  private final class Lane {
    final ProviderSender sender;
    final Bucket bucket;
    final int inFlightMax;
    /**
     * Requests allowed in flight now: {@code inFlightMax}, down to 1 when the provider throttles,
     * then one more per accepted request (doubling per round trip) back up to the maximum, so the
     * end of a pause probes the provider instead of firing a burst it will refuse.
     */
    int window;
    final ArrayDeque<Note> ready = new ArrayDeque<>();
    int inFlight;
    long pausedUntil;
    int throttles;
    long timer = -1;

    Lane(ProviderSender sender, Pacing pacing) {
      this.sender = sender;
      this.bucket = Bucket.builder()
          .addLimit(limit -> limit.capacity(pacing.burst()).refillGreedy(pacing.ratePerS(), Duration.ofSeconds(1)))
          .build();
      this.inFlightMax = pacing.inFlightMax();
      this.window = inFlightMax;
    }

    String provider() {
      return sender.provider();
    }
  }

  public PushDispatcher(Vertx vertx, PushQueue queue, List<ProviderSender> senders, Map<String, Pacing> pacing,
      PushRegistrations registrations, ConversationStore conversations, SpillOver spill, Settings settings,
      PushStats stats) {
    this(vertx, queue, senders, pacing, registrations, conversations, spill, settings, stats, System::currentTimeMillis);
  }

  PushDispatcher(Vertx vertx, PushQueue queue, List<ProviderSender> senders, Map<String, Pacing> pacing,
      PushRegistrations registrations, ConversationStore conversations, SpillOver spill, Settings settings,
      PushStats stats, LongSupplier clock) {
    this.vertx = vertx;
    this.queue = queue;
    this.registrations = registrations;
    this.conversations = conversations;
    this.spill = spill;
    this.settings = settings;
    this.stats = stats;
    this.clock = clock;
    for (ProviderSender s : senders) {
      Pacing p = pacing.get(s.provider());
      if (p == null) {
        throw new IllegalArgumentException("no pacing for push provider " + s.provider());
      }
      lanes.put(s.provider(), new Lane(s, p));
    }
  }

  /** Starts the periodic spill-over and idle-slot sweep; call on the dispatcher's context. */
  public void start() {
    context = vertx.getOrCreateContext();
    tick = vertx.setPeriodic(TICK_MS, t -> sweep());
  }

  public void stop() {
    if (tick >= 0) {
      vertx.cancelTimer(tick);
      tick = -1;
    }
    lanes.values().forEach(l -> {
      if (l.timer >= 0) {
        vertx.cancelTimer(l.timer);
      }
    });
    slots.values().forEach(s -> {
      if (s.flushTimer >= 0) {
        vertx.cancelTimer(s.flushTimer);
      }
      if (s.active != null && s.active.retryTimer >= 0) {
        vertx.cancelTimer(s.active.retryTimer);
      }
    });
  }

  /** A job from the queue. */
  public void accept(Queued q) {
    PushJob job = q.job();
    Lane lane = lanes.get(job.device().provider());
    if (lane == null) {
      // the provider was switched off since the job was queued: nobody to send it to
      stats.inc("unroutable");
      queue.done(q);
      return;
    }
    Slot slot = slots.computeIfAbsent(job.slot(), k -> new Slot(k, job.user()));
    long now = clock.getAsLong();
    if (slot.active != null && slot.active.state != State.IN_FLIGHT && slot.active.lane == lane) {
      // still waiting for its provider (throttled, backing off): the notification stands for this
      // one too, and for the older ones that came while it was in flight, so that it names the
      // newest message and no follow-up with an older one replaces it on the device
      for (Iterator<Queued> it = slot.pending.iterator(); it.hasNext(); ) {
        Queued p = it.next();
        if (lanes.get(p.job().device().provider()) == lane) {
          slot.active.jobs.add(p);
          it.remove();
        }
      }
      slot.active.jobs.add(q);
      stats.inc("coalesced");
      return;
    }
    if (slot.active == null && slot.pending.isEmpty() && now - slot.sentAt >= settings.coalesceMs()) {
      Note note = new Note(slot, lane);
      note.jobs.add(q);
      slot.sentAt = now;
      slot.active = note;
      enqueue(note, false);
      return;
    }
    slot.pending.add(q);
    stats.inc("coalesced");
    scheduleFlush(slot);
  }

  /** The slot's waiting jobs leave as one notification at the end of its window (once nothing is on its way). */
  private void scheduleFlush(Slot slot) {
    if (slot.flushTimer >= 0 || slot.active != null || slot.pending.isEmpty()) {
      return;
    }
    long delay = Math.max(1, slot.sentAt + settings.coalesceMs() - clock.getAsLong());
    slot.flushTimer = vertx.setTimer(delay, t -> {
      slot.flushTimer = -1;
      flush(slot);
    });
  }

  private void flush(Slot slot) {
    if (slot.active != null || slot.pending.isEmpty()) {
      return;
    }
    Lane lane = lanes.get(slot.pending.get(0).job().device().provider());
    Note note = new Note(slot, lane);
    note.jobs.addAll(slot.pending);
    slot.pending.clear();
    slot.sentAt = clock.getAsLong();
    slot.active = note;
    enqueue(note, false);
  }

  private void enqueue(Note note, boolean first) {
    note.state = State.READY;
    if (first) {
      note.lane.ready.addFirst(note);
    } else {
      note.lane.ready.addLast(note);
    }
    pump(note.lane);
  }

  private void pump(Lane lane) {
    while (!lane.ready.isEmpty() && lane.inFlight < lane.window) {
      Note note = lane.ready.peekFirst();
      if (note.state != State.READY) {
        lane.ready.pollFirst(); // spilled while waiting
        continue;
      }
      long now = clock.getAsLong();
      if (now < lane.pausedUntil) {
        wake(lane, lane.pausedUntil - now);
        return;
      }
      ConsumptionProbe probe = lane.bucket.tryConsumeAndReturnRemaining(1);
      if (!probe.isConsumed()) {
        wake(lane, Math.max(1, (probe.getNanosToWaitForRefill() + 999_999) / 1_000_000));
        return;
      }
      lane.ready.pollFirst();
      send(note);
    }
  }

  private void wake(Lane lane, long delayMs) {
    if (lane.timer >= 0) {
      return;
    }
    lane.timer = vertx.setTimer(Math.max(1, delayMs), t -> {
      lane.timer = -1;
      pump(lane);
    });
  }

  private void send(Note note) {
    Lane lane = note.lane;
    note.state = State.IN_FLIGHT;
    lane.inFlight++;
    PushJob newest = note.newest();
    int count = distinctMessages(note.jobs);
    Future<Integer> badge = conversations == null ? Future.succeededFuture(-1)
        : conversations.unreadCount(newest.user()).otherwise(e -> {
          LOG.debug("badge of {} unavailable: {}", newest.user(), e.toString());
          return -1;
        });
    OnContext.on(context, badge.compose(b -> {
      String payload = PushPayload.of(newest.conv(), newest.serverId(), newest.from(), newest.preview(),
          count, b, note.noPreview ? 0 : settings.previewChars());
      return lane.sender.send(newest.device(), newest.conv(), payload);
    })).onComplete(ar -> {
      lane.inFlight--;
      if (ar.failed()) {
        stats.outcome(lane.provider(), "error");
        LOG.debug("{} push to {}/{} failed: {}", lane.provider(), newest.user(), newest.device().device(), ar.cause().toString());
        retry(note, -1);
      } else {
        answered(note, ar.result());
      }
      pump(lane);
    });
  }

  private static int distinctMessages(List<Queued> jobs) {
    Set<Long> ids = new HashSet<>();
    jobs.forEach(q -> ids.add(q.job().serverId()));
    return ids.size();
  }

  private void answered(Note note, Outcome outcome) {
    Lane lane = note.lane;
    PushRegistration device = note.newest().device();
    stats.outcome(lane.provider(), outcome.kind().name().toLowerCase(java.util.Locale.ROOT));
    switch (outcome.kind()) {
      case ACCEPTED -> {
        lane.throttles = 0;
        lane.window = Math.min(lane.inFlightMax, lane.window + 1);
        stats.inc("notifications");
        finish(note);
      }
      case GONE -> {
        LOG.info("{} registration of {}/{} is gone ({} {}): removed", lane.provider(), device.user(), device.device(),
            outcome.status(), outcome.reason());
        registrations.removeAddress(device.provider(), device.address()).onFailure(e -> LOG.warn(
            "removing the {} registration of {}/{} failed: {}", device.provider(), device.user(), device.device(), e.toString()));
        finish(note);
      }
      case REFUSED -> {
        LOG.warn("{} refused the push to {}/{} for {}: {} {}", lane.provider(), device.user(), device.device(),
            note.newest().serverId(), outcome.status(), outcome.reason());
        finish(note);
      }
      case TOO_LARGE -> {
        if (!note.noPreview && settings.previewChars() > 0) {
          note.noPreview = true;
          enqueue(note, true);
        } else {
          LOG.warn("{} says the push to {}/{} is too large even without a preview", lane.provider(), device.user(),
              device.device());
          finish(note);
        }
      }
      case THROTTLED -> {
        lane.throttles++;
        lane.window = 1;
        long wait = outcome.retryAfterMs() >= 0 ? outcome.retryAfterMs() : backoff(lane.throttles);
        long now = clock.getAsLong();
        if (lane.pausedUntil <= now && lane.throttles == 1) {
          LOG.info("{} throttles: pausing its pushes for {} ms, then resuming one at a time", lane.provider(), wait);
        }
        lane.pausedUntil = Math.max(lane.pausedUntil, now + wait);
        note.attempt++;
        enqueue(note, true);
      }
      case RETRY -> retry(note, outcome.retryAfterMs());
    }
  }

  private void retry(Note note, long retryAfterMs) {
    note.attempt++;
    long wait = retryAfterMs >= 0 ? retryAfterMs : backoff(note.attempt);
    note.state = State.WAITING;
    note.retryTimer = vertx.setTimer(Math.max(1, wait), t -> {
      note.retryTimer = -1;
      if (note.state == State.WAITING) {
        enqueue(note, false);
      }
    });
  }

  /** Exponential backoff with "equal jitter": half fixed, half random. */
  long backoff(int attempt) {
    long base = settings.retryBaseMs() << Math.min(30, Math.max(0, attempt - 1));
    long capped = Math.min(settings.retryMaxMs(), base < 0 ? settings.retryMaxMs() : base);
    return capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
  }

  /** The notification is over: its jobs are done, and the slot's waiting jobs follow at the end of its window. */
  private void finish(Note note) {
    note.state = State.FINISHED;
    for (Queued q : note.jobs) {
      queue.done(q);
    }
    Slot slot = note.slot;
    if (slot.active == note) {
      slot.active = null;
    }
    scheduleFlush(slot);
  }

  /** Spill-over of users whose oldest job waited too long, and forgetting idle slots. */
  void sweep() {
    long now = clock.getAsLong();
    Map<String, List<Slot>> byUser = new HashMap<>();
    Set<String> overdue = new HashSet<>();
    Map<String, Long> oldestByProvider = new HashMap<>();
    for (Iterator<Slot> it = slots.values().iterator(); it.hasNext(); ) {
      Slot s = it.next();
      if (s.active == null && s.pending.isEmpty()) {
        if (now - s.sentAt >= settings.coalesceMs() && s.flushTimer < 0) {
          it.remove();
        }
        continue;
      }
      String provider = s.active != null ? s.active.lane.provider() : s.pending.get(0).job().device().provider();
      oldestByProvider.merge(provider, s.oldest(), Math::min);
      byUser.computeIfAbsent(s.user, u -> new ArrayList<>()).add(s);
      if (now - s.oldest() > settings.spillAfterMs()) {
        overdue.add(s.user);
      }
    }
    overdue.forEach(user -> spill(user, byUser.get(user)));
    // the age of each provider's oldest unfinished push (parley_push_backlog_age_seconds), 0 when none
    lanes.keySet().forEach(provider -> {
      Long oldest = oldestByProvider.get(provider);
      stats.set(provider + ".backlog_age_ms", oldest == null ? 0 : Math.max(0, now - oldest));
    });
  }

  private void spill(String user, List<Slot> userSlots) {
    List<Queued> taken = new ArrayList<>();
    Map<Long, Set<Long>> messagesByConv = new LinkedHashMap<>();
    Map<Long, String> previews = new HashMap<>();
    for (Slot s : userSlots) {
      if (s.active != null && s.active.state == State.IN_FLIGHT) {
        return; // a request of this user's is out: its answer first, then one digest of the rest (next sweep)
      }
    }
    for (Slot s : userSlots) {
      List<Queued> jobs = new ArrayList<>(s.pending);
      s.pending.clear();
      if (s.flushTimer >= 0) {
        vertx.cancelTimer(s.flushTimer);
        s.flushTimer = -1;
      }
      if (s.active != null) {
        Note n = s.active;
        if (n.state == State.WAITING) {
          vertx.cancelTimer(n.retryTimer);
        }
        n.state = State.FINISHED; // a lane skips it
        jobs.addAll(0, n.jobs);
        s.active = null;
      }
      for (Queued q : jobs) {
        PushJob j = q.job();
        messagesByConv.computeIfAbsent(j.conv(), c -> new HashSet<>()).add(j.serverId());
        if (j.preview() != null) {
          previews.put(j.conv(), j.preview());
        }
      }
      taken.addAll(jobs);
    }
    if (taken.isEmpty()) {
      return;
    }
    List<SpillOver.Item> items = new ArrayList<>();
    messagesByConv.forEach((conv, ids) -> items.add(new SpillOver.Item(conv, ids.size(),
        settings.previewChars() > 0 ? PushPayload.truncate(previews.getOrDefault(conv, ""), settings.previewChars()) : null)));
    OnContext.on(context, spill.spill(user, items)).onComplete(ar -> {
      if (ar.succeeded() && ar.result()) {
        stats.inc("digests");
        stats.add("spilled", taken.size());
        LOG.info("{}: {} pushes waited over {} ms, mailed one digest instead", user, taken.size(), settings.spillAfterMs());
      } else {
        stats.add("expired", taken.size());
        LOG.warn("{}: {} pushes waited over {} ms and no digest could be mailed ({}): given up", user, taken.size(),
            settings.spillAfterMs(), ar.failed() ? ar.cause().toString() : "no address");
      }
      taken.forEach(queue::done);
    });
  }
}
