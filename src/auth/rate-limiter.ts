import { EvqError, errors } from '../errors.ts';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Buckets kept before a sweep drops the full ones, and then the earliest created, down to half. */
const maxBuckets = 10_000;

/**
 * A token bucket per principal: `ratePerSecond` tokens flow in each second up to `burst`, and each
 * published message takes one. `ratePerSecond: 0` turns the limit off.
 */
export class RateLimiter {
  readonly #ratePerSecond: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(ratePerSecond: number, burst: number) {
    this.#ratePerSecond = ratePerSecond;
    this.#burst = burst;
  }

  /**
   * Takes `count` tokens from the principal's bucket, or throws RATE_LIMITED and takes none.
   * Throws BAD_USER_INPUT when `count` is larger than the burst, because waiting cannot help.
   */
  take(principalId: string, count: number, now = Date.now()): void {
    if (this.#ratePerSecond === 0) return;
    if (count > this.#burst) {
      throw errors.invalidInput('messages', count, `at most ${this.#burst} messages in one request, the publish burst; split the batch`);
    }
    let bucket = this.#buckets.get(principalId);
    if (bucket === undefined) {
      if (this.#buckets.size >= maxBuckets) this.#sweep(now);
      bucket = { tokens: this.#burst, updatedAt: now };
      this.#buckets.set(principalId, bucket);
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.#ratePerSecond);
      bucket.updatedAt = now;
    }
    if (bucket.tokens < count) {
      const retryAfterSeconds = Math.max(1, Math.ceil((Math.min(count, this.#burst) - bucket.tokens) / this.#ratePerSecond));
      throw new EvqError(
        'RATE_LIMITED',
        `Publish rate limit of ${this.#ratePerSecond} messages per second (bursts up to ${this.#burst}) reached; retry after ${retryAfterSeconds} s.`,
        { principal: principalId, limit: this.#ratePerSecond, burst: this.#burst, requested: count, retryAfterSeconds },
      );
    }
    bucket.tokens -= count;
  }

  /**
   * Drops the buckets that refilled, since a new one starts full too. When more than half remain,
   * the earliest created go as well, so sweeps cost O(1) per new principal. A dropped bucket that
   * was not full starts over full, which lets that principal burst again. That happens only when
   * more than 5000 principals published within the time a bucket takes to refill.
   */
  #sweep(now: number): void {
    for (const [id, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.#ratePerSecond >= this.#burst) this.#buckets.delete(id);
    }
    for (const id of this.#buckets.keys()) {
      if (this.#buckets.size <= maxBuckets / 2) break;
      this.#buckets.delete(id);
    }
  }
}
