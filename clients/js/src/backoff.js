/**
 * Capped exponential backoff with jitter: the n-th delay (from 0) is drawn from
 * [d/2, d] with d = min(maxMs, baseMs * factor^n) ("equal jitter": never less than half the
 * step, so a crowd of clients spreads out without any of them retrying at once).
 */
export class Backoff {
  /**
   * @param {{baseMs?: number, maxMs?: number, factor?: number, random?: () => number}} [options]
   */
  constructor({ baseMs = 500, maxMs = 30_000, factor = 2, random = Math.random } = {}) {
    if (!(baseMs > 0) || !(maxMs >= baseMs) || !(factor >= 1)) {
      throw new RangeError('backoff needs baseMs > 0, maxMs >= baseMs and factor >= 1');
    }
    this.baseMs = baseMs;
    this.maxMs = maxMs;
    this.factor = factor;
    this.random = random;
    this.attempt = 0;
  }

  /** The next delay in milliseconds; each call moves one step up, to the cap. */
  next() {
    const step = Math.min(this.maxMs, this.baseMs * this.factor ** Math.min(this.attempt, 64));
    this.attempt++;
    return Math.round(step / 2 + this.random() * (step / 2));
  }

  /** Back to the first step (after a success). */
  reset() {
    this.attempt = 0;
  }
}
