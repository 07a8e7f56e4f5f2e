package io.parley.push;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.util.List;

/**
 * Push's durable backlog: every notification owed to an offline device is appended here before
 * anything is sent, and stays until {@link #done} — the provider accepted it, said the device is
 * gone, refused it for good, or spill-over took it. A node that dies (even {@code kill -9}) leaves
 * its unfinished jobs to be handed out again, to itself after a restart or to another node; a
 * notification sent twice is harmless (same collapse id).
 *
 * <p>Adapters: RocksDB on the embedded profile, a Kafka topic partitioned by user on the cluster
 * profile (so one user's jobs reach one consumer, which is what coalescing needs).
 */
public interface PushQueue {

  /** Appends jobs; completes once they are durable. */
  Future<Void> append(List<PushJob> jobs);

  /**
   * Starts handing out jobs, those a previous run left first, on the caller's context. At most
   * {@code maxOutstanding} jobs are out (handed out and not {@link #done}) at a time; beyond that
   * the queue waits, and whatever is not handed out stays durable.
   */
  Future<Void> start(Handler<Queued> handler, int maxOutstanding);

  /** The job is finished: it is not handed out again. Idempotent; a handle from a revoked partition is ignored. */
  void done(Queued job);

  /** Jobs handed out and not done yet. */
  int outstanding();

  /** Stops handing out and releases the queue (unfinished jobs stay for the next run). */
  Future<Void> close();

  /** A job as handed out, with the queue's handle on it. */
  final class Queued {
    private final PushJob job;
    final int partition;
    final long position;
    private boolean finished;

    public Queued(PushJob job, int partition, long position) {
      this.job = job;
      this.partition = partition;
      this.position = position;
    }

    public PushJob job() {
      return job;
    }

    public int partition() {
      return partition;
    }

    public long position() {
      return position;
    }

    /** Marks the handle finished; false when it already was (so adapters count each job once). */
    public boolean finish() {
      if (finished) {
        return false;
      }
      finished = true;
      return true;
    }
  }
}
