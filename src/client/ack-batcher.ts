import { type BackoffOptions, backoffDelay, sleep } from './backoff.ts';
import { EvqClientError, isRetryable } from './errors.ts';
import type { AckResult } from './operations.ts';

/** A receipt waiting for its ack. */
export interface PendingAck {
  receipt: string;
  messageId: string;
  /** When the lease ends by the local clock, in ms since the epoch. An ack after that fails. */
  leaseEnd: number;
}

export interface AckBatcherOptions {
  send: (receipts: string[]) => Promise<AckResult[]>;
  /** Max receipts in one ack request. */
  maxBatchSize: number;
  /** How long the first receipt after an idle period waits for more, in ms. */
  intervalMs: number;
  backoff: BackoffOptions;
  /** Called with each failed ack request and each receipt that evq did not ack. `retryInMs` is null when the receipts were dropped. */
  onError: (error: Error, messageIds: string[], retryInMs: number | null) => void;
}

/**
 * Collects receipts and acks them in batches, one request at a time, so receipts that arrive while
 * a request is under way go into the next one. A failed request is retried with backoff until the
 * receipts' leases end. After that an ack cannot succeed. evq then redelivers the message, unless
 * an earlier attempt reached it, and the worker's dedup cache acks the redelivery.
 */
export class AckBatcher {
  readonly #options: AckBatcherOptions;
  #pending: PendingAck[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #pump: Promise<void> | null = null;
  #acked = 0;

  constructor(options: AckBatcherOptions) {
    this.#options = options;
  }

  /** Receipts that evq confirmed as acked. */
  get acked(): number {
    return this.#acked;
  }

  add(ack: PendingAck): void {
    this.#pending.push(ack);
    if (this.#pump !== null || this.#timer !== null) return;
    if (this.#pending.length >= this.#options.maxBatchSize) this.#startPump();
    else this.#timer = setTimeout(() => this.#startPump(), this.#options.intervalMs);
  }

  /** Sends every pending receipt and resolves when none is left. */
  async flush(): Promise<void> {
    while (this.#pending.length > 0 || this.#pump !== null) {
      if (this.#pump === null) this.#startPump();
      await this.#pump;
    }
  }

  #startPump(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#pump ??= this.#sendAll().finally(() => {
      this.#pump = null;
    });
  }

  async #sendAll(): Promise<void> {
    let failures = 0;
    while (this.#pending.length > 0) {
      this.#dropEnded();
      const batch = this.#pending.splice(0, this.#options.maxBatchSize);
      if (batch.length === 0) return;
      try {
        const results = await this.#options.send(batch.map((ack) => ack.receipt));
        failures = 0;
        this.#record(batch, results);
      } catch (error) {
        const ids = batch.map((ack) => ack.messageId);
        if (!isRetryable(error)) {
          this.#options.onError(error as Error, ids, null);
          continue;
        }
        this.#pending.unshift(...batch);
        const delay = backoffDelay(failures++, this.#options.backoff);
        this.#options.onError(error as Error, ids, delay);
        await sleep(delay);
      }
    }
  }

  #record(batch: PendingAck[], results: AckResult[]): void {
    const idOf = new Map(batch.map((ack) => [ack.receipt, ack.messageId]));
    const rejected = results.filter((result) => !result.acked);
    this.#acked += results.length - rejected.length;
    if (rejected.length === 0) return;
    const [first] = rejected;
    const error = new EvqClientError(`evq did not ack ${rejected.length} of ${results.length} receipts: ${first?.error ?? 'no reason given'}`, {
      code: first?.code ?? 'RECEIPT_INVALID',
    });
    this.#options.onError(error, rejected.map((result) => idOf.get(result.receipt) ?? result.receipt), null);
  }

  /** Drops receipts whose lease has ended, since evq rejects their ack. */
  #dropEnded(): void {
    const now = Date.now();
    const ended = this.#pending.filter((ack) => ack.leaseEnd <= now);
    if (ended.length === 0) return;
    this.#pending = this.#pending.filter((ack) => ack.leaseEnd > now);
    const error = new Error(
      `Dropped ${ended.length} acks because their lease ended before evq could be reached. evq redelivers each of those messages unless an earlier ack reached it.`,
    );
    this.#options.onError(error, ended.map((ack) => ack.messageId), null);
  }
}
