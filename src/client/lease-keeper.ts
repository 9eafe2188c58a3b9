import { type BackoffOptions, backoffDelay } from './backoff.ts';
import { isRetryable } from './errors.ts';

export interface LeaseKeeperOptions {
  /** Sends extendVisibility for the receipt with `visibilitySeconds`. */
  extend: () => Promise<unknown>;
  visibilitySeconds: number;
  /** When the receive request was sent, in ms since the epoch. The lease cannot have started earlier. */
  leaseStart: number;
  backoff: BackoffOptions;
  /** Called with each failed extension. `retryInMs` is null when the keeper gave up because the lease ended. */
  onError: (error: Error, retryInMs: number | null) => void;
}

/**
 * Keeps a lease alive while its message is processed: when half of the lease has passed, it sets
 * the lease to end `visibilitySeconds` from then. A failed extension is retried with backoff until
 * the lease ends. Lease ends are estimated with the local clock from when each request was sent, so
 * they are never later than evq's.
 */
export class LeaseKeeper {
  readonly #options: LeaseKeeperOptions;
  readonly #visibilityMs: number;
  #leaseEnd: number;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;
  #failures = 0;

  constructor(options: LeaseKeeperOptions) {
    this.#options = options;
    this.#visibilityMs = options.visibilitySeconds * 1000;
    this.#leaseEnd = options.leaseStart + this.#visibilityMs;
    this.#schedule(this.#leaseEnd - this.#visibilityMs / 2 - Date.now());
  }

  /** When the lease ends by the local clock, in ms since the epoch. */
  get leaseEnd(): number {
    return this.#leaseEnd;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#extend(), Math.max(0, delayMs));
  }

  async #extend(): Promise<void> {
    const sentAt = Date.now();
    try {
      await this.#options.extend();
      if (this.#stopped) return;
      this.#failures = 0;
      this.#leaseEnd = sentAt + this.#visibilityMs;
      this.#schedule(sentAt + this.#visibilityMs / 2 - Date.now());
    } catch (error) {
      if (this.#stopped) return;
      const left = this.#leaseEnd - Date.now();
      if (!isRetryable(error) || left <= 0) {
        this.#options.onError(error as Error, null);
        return;
      }
      const delay = Math.min(backoffDelay(this.#failures++, this.#options.backoff), left / 2);
      this.#options.onError(error as Error, delay);
      this.#schedule(delay);
    }
  }
}
