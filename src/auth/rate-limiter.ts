import { EvqError } from '../errors.ts';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Buckets kept before idle, full ones are dropped. */
const maxIdleBuckets = 10_000;

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

  /** Takes `count` tokens from the principal's bucket, or throws RATE_LIMITED and takes none. */
  take(principalId: string, count: number, now = Date.now()): void {
    if (this.#ratePerSecond === 0) return;
    let bucket = this.#buckets.get(principalId);
    if (bucket === undefined) {
      if (this.#buckets.size >= maxIdleBuckets) this.#dropFullBuckets(now);
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

  #dropFullBuckets(now: number): void {
    for (const [id, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.#ratePerSecond >= this.#burst) this.#buckets.delete(id);
    }
  }
}
