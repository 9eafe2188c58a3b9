import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { AckBatcher } from './ack-batcher.ts';
import { type BackoffOptions, backoffDelay, defaultBackoff, sleep } from './backoff.ts';
import { DedupCache } from './dedup-cache.ts';
import { EvqClientError, isRetryable } from './errors.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import type { MessageVerifier } from './message-verifier.ts';
import { ackDocument, type Delivery, extendVisibilityDocument, type Message, nackDocument, queueSettingsDocument, receiveDocument } from './operations.ts';

/** The delivery details that the worker passes to the handler with the message. */
export interface DeliveryContext {
  receipt: string;
  /** 1 on the first delivery, then 1 more for each redelivery. */
  attempt: number;
  group: string;
  /** Aborts when the worker stops. The worker still waits for the handler to return. */
  signal: AbortSignal;
}

/** Processes one message. The worker acks the message when it returns and nacks it when it throws. */
export type MessageHandler = (message: Message, context: DeliveryContext) => unknown;

/** The step of the worker that failed. */
export type WorkOperation = 'settings' | 'receive' | 'ack' | 'nack' | 'extendVisibility' | 'verify' | 'handler';

export interface WorkErrorInfo {
  operation: WorkOperation;
  /** Ids of the messages that the error concerns, empty for `settings` and `receive`. */
  messageIds: string[];
  /** The delivery attempt, for `verify` and `handler` errors. */
  attempt?: number;
  /** Time in ms until the step is tried again, or null when it is not. For a nacked message, the time until evq makes it visible again. */
  retryInMs: number | null;
}

export interface WorkOptions {
  /** Consumer group, `default` by default. */
  group?: string;
  /** Max handler calls at once, 10 by default. */
  concurrency?: number;
  /** Max deliveries per receive request, from 1 to 100. By default the concurrency, capped at 100. */
  batchSize?: number;
  /** How long one receive request waits for messages (long poll) in seconds, 20 by default. */
  waitSeconds?: number;
  /** Lease length in seconds, the queue's visibilityTimeoutSeconds by default. */
  visibilitySeconds?: number;
  /** The queue's maxAttempts, read from evq when omitted. At the last attempt a nack has no delay, because evq dead-letters the message. */
  maxAttempts?: number;
  /** Delay of a nacked message before its next attempt, doubling from `initialSeconds` up to `maxSeconds` with jitter. 1 s and 300 s by default. */
  nackDelay?: { initialSeconds: number; maxSeconds: number };
  /**
   * Verifies evq's signature on each message before the handler gets it. A message that fails, or
   * whose keys cannot be fetched, is nacked like a message whose handler threw.
   */
  verify?: MessageVerifier;
  /** Ids whose handler call succeeded. A new DedupCache of 10 000 ids by default. */
  dedup?: DedupCache;
  /** Max receipts in one ack request, 100 by default. */
  ackBatchSize?: number;
  /** How long a receipt waits for others to share its ack request in ms, 50 by default. */
  ackIntervalMs?: number;
  /** Delays between retries of failed requests, by default 250 ms doubling up to 10 s, with jitter. */
  retry?: BackoffOptions;
  /** Time limit of each request other than receive in ms, 10 000 by default. Receive gets `waitSeconds` more. */
  requestTimeoutMs?: number;
  /** Stops the worker: no more receives, and `work` resolves once running handlers return and their acks are sent. */
  signal?: AbortSignal;
  /** Called with each error that the worker handles itself, and with each message it nacks. */
  onError?: (error: Error, info: WorkErrorInfo) => void;
}

/** Counts of a worker's deliveries, which `work` resolves with. */
export interface WorkStats {
  /** Deliveries received. */
  received: number;
  /** Handler calls that returned. */
  handled: number;
  /** Handler calls that threw. The worker nacked each of those deliveries. */
  failed: number;
  /** Deliveries nacked without a handler call, because verification failed or evq's keys could not be fetched. */
  rejected: number;
  /** Deliveries of an id whose handler call had succeeded, acked without another call. */
  duplicates: number;
  /** Receipts that evq confirmed as acked. */
  acked: number;
}

/** The GraphQL requests that the worker sends, as EvqClient implements them. */
export interface GraphQLTransport {
  request<Result, Variables extends Record<string, unknown>>(
    document: TypedDocumentNode<Result, Variables>,
    variables: Variables,
    options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<Result>;
}

type Outcome = { ok: true } | { ok: false; error: Error; operation: 'verify' | 'handler' };

/** The max length of a nack's `error` that evq accepts. */
const maxNackErrorLength = 8192;

/**
 * Runs a worker until `options.signal` aborts or a request fails with an error that a retry cannot
 * fix, which `work` then rejects with after the running handlers have returned.
 *
 * Delivery is at least once. A message whose handler call succeeded is acked. When the ack does not
 * reach evq before the lease ends, evq delivers the message again. The dedup cache then acks that
 * delivery without calling the handler, as long as the id is still in the cache of this process.
 * Another process that receives the redelivery calls its handler.
 *
 * A message that fails signature verification is nacked, not acked: evq retries it up to
 * maxAttempts and then keeps it as a dead letter with the reason as its last error. A mismatch
 * means that the message was changed on its way or that the verifier has the wrong keys, and in
 * the second case acking would delete every message while the keys are wrong. A dead letter can
 * be redriven once the cause is fixed.
 */
export class Worker {
  readonly #transport: GraphQLTransport;
  readonly #queue: string;
  readonly #handler: MessageHandler;
  readonly #options: WorkOptions;
  readonly #group: string;
  readonly #concurrency: number;
  readonly #dedup: DedupCache;
  readonly #retry: BackoffOptions;
  readonly #stop: AbortSignal;
  readonly #inProgress = new Map<string, Promise<Outcome>>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #stats: WorkStats = { received: 0, handled: 0, failed: 0, rejected: 0, duplicates: 0, acked: 0 };
  #acks: AckBatcher | null = null;
  #visibilitySeconds = 0;
  #maxAttempts = 0;
  #wake: (() => void) | null = null;

  constructor(transport: GraphQLTransport, queue: string, handler: MessageHandler, options: WorkOptions = {}) {
    this.#transport = transport;
    this.#queue = queue;
    this.#handler = handler;
    this.#options = options;
    this.#group = options.group ?? 'default';
    this.#concurrency = positiveInteger('concurrency', options.concurrency ?? 10);
    this.#dedup = options.dedup ?? new DedupCache();
    this.#retry = options.retry ?? defaultBackoff;
    this.#stop = options.signal ?? new AbortController().signal;
  }

  async run(): Promise<WorkStats> {
    const wakeOnStop = () => this.#wake?.();
    this.#stop.addEventListener('abort', wakeOnStop, { once: true });
    let fatal: unknown = null;
    try {
      if (await this.#loadSettings()) await this.#receiveLoop();
    } catch (error) {
      fatal = error;
    } finally {
      this.#stop.removeEventListener('abort', wakeOnStop);
    }
    await Promise.all(this.#tasks);
    await this.#acks?.flush();
    this.#stats.acked = this.#acks?.acked ?? 0;
    if (fatal !== null) throw fatal;
    return { ...this.#stats };
  }

  /** Reads the settings that the options leave out. Returns false when the worker stopped first. */
  async #loadSettings(): Promise<boolean> {
    const { visibilitySeconds, maxAttempts } = this.#options;
    if (visibilitySeconds !== undefined && maxAttempts !== undefined) {
      this.#visibilitySeconds = positiveInteger('visibilitySeconds', visibilitySeconds);
      this.#maxAttempts = positiveInteger('maxAttempts', maxAttempts);
    } else {
      const result = await this.#retrying('settings', [], () =>
        this.#transport.request(queueSettingsDocument, { name: this.#queue }, this.#requestOptions()),
      );
      if (result === null) return false;
      if (result.queue === null) {
        throw new EvqClientError(`Queue ${JSON.stringify(this.#queue)} was not found, or the credential has no grant for it.`, {
          code: 'QUEUE_NOT_FOUND',
          queue: this.#queue,
        });
      }
      this.#visibilitySeconds = positiveInteger('visibilitySeconds', visibilitySeconds ?? result.queue.visibilityTimeoutSeconds);
      this.#maxAttempts = positiveInteger('maxAttempts', maxAttempts ?? result.queue.maxAttempts);
    }
    this.#acks = new AckBatcher({
      send: async (receipts) => (await this.#transport.request(ackDocument, { queue: this.#queue, receipts }, this.#requestOptions())).ack,
      maxBatchSize: positiveInteger('ackBatchSize', this.#options.ackBatchSize ?? 100),
      intervalMs: this.#options.ackIntervalMs ?? 50,
      backoff: this.#retry,
      onError: (error, messageIds, retryInMs) => this.#report(error, { operation: 'ack', messageIds, retryInMs }),
    });
    return true;
  }

  async #receiveLoop(): Promise<void> {
    const waitSeconds = this.#options.waitSeconds ?? 20;
    const batchSize = positiveInteger('batchSize', this.#options.batchSize ?? Math.min(this.#concurrency, 100));
    const timeoutMs = (this.#options.requestTimeoutMs ?? 10_000) + waitSeconds * 1000;
    while (!this.#stop.aborted) {
      await this.#slotFree();
      if (this.#stop.aborted) return;
      const limit = Math.min(batchSize, this.#concurrency - this.#tasks.size);
      const variables = { queue: this.#queue, group: this.#group, limit, waitSeconds, visibilitySeconds: this.#visibilitySeconds };
      let leaseStart = 0;
      const result = await this.#retrying('receive', [], () => {
        // Taken at each attempt, because leases start when the attempt that succeeds reaches evq.
        leaseStart = Date.now();
        return this.#transport.request(receiveDocument, variables, { signal: this.#stop, timeoutMs });
      });
      if (result === null) return;
      this.#stats.received += result.receive.length;
      for (const delivery of result.receive) this.#start(delivery, leaseStart);
    }
  }

  /** Sends a request until it succeeds. Returns null when the worker stopped first, and throws errors that a retry cannot fix. */
  async #retrying<Result>(operation: WorkOperation, messageIds: string[], send: () => Promise<Result>): Promise<Result | null> {
    for (let failures = 0; ; failures++) {
      try {
        return await send();
      } catch (error) {
        if (this.#stop.aborted) return null;
        if (!isRetryable(error)) throw error;
        const delay = backoffDelay(failures, this.#retry);
        this.#report(error as Error, { operation, messageIds, retryInMs: delay });
        await sleep(delay, this.#stop);
      }
    }
  }

  #slotFree(): Promise<void> {
    if (this.#tasks.size < this.#concurrency || this.#stop.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  #start(delivery: Delivery, leaseStart: number): void {
    const task = this.#process(delivery, leaseStart).finally(() => {
      this.#tasks.delete(task);
      const wake = this.#wake;
      this.#wake = null;
      wake?.();
    });
    this.#tasks.add(task);
  }

  async #process(delivery: Delivery, leaseStart: number): Promise<void> {
    const { receipt, message } = delivery;
    const keeper = new LeaseKeeper({
      extend: () => this.#transport.request(extendVisibilityDocument, { queue: this.#queue, receipt, seconds: this.#visibilitySeconds }, this.#requestOptions()),
      visibilitySeconds: this.#visibilitySeconds,
      leaseStart,
      backoff: this.#retry,
      onError: (error, retryInMs) => this.#report(error, { operation: 'extendVisibility', messageIds: [message.id], retryInMs }),
    });
    try {
      const outcome = await this.#outcome(delivery);
      if (outcome.ok) this.#acks!.add({ receipt, messageId: message.id, leaseEnd: keeper.leaseEnd });
      else await this.#nack(delivery, outcome, keeper.leaseEnd);
    } finally {
      keeper.stop();
    }
  }

  /**
   * Returns the outcome of a delivery, calling the handler only for an id that has neither
   * succeeded before nor is running now. A redelivery of a running id, after its first lease
   * ended, waits for the running call and shares its outcome.
   */
  async #outcome(delivery: Delivery): Promise<Outcome> {
    const id = delivery.message.id;
    if (this.#dedup.has(id)) {
      this.#stats.duplicates++;
      return { ok: true };
    }
    const running = this.#inProgress.get(id);
    if (running !== undefined) {
      const outcome = await running;
      if (outcome.ok) this.#stats.duplicates++;
      return outcome;
    }
    const outcome = this.#handle(delivery);
    this.#inProgress.set(id, outcome);
    try {
      const result = await outcome;
      // Added before the id leaves #inProgress, so a redelivery always finds it in one of the two.
      if (result.ok) this.#dedup.add(id);
      return result;
    } finally {
      this.#inProgress.delete(id);
    }
  }

  async #handle(delivery: Delivery): Promise<Outcome> {
    if (this.#options.verify) {
      try {
        await this.#options.verify.verify(delivery.message);
      } catch (error) {
        this.#stats.rejected++;
        return { ok: false, error: error as Error, operation: 'verify' };
      }
    }
    try {
      await this.#handler(delivery.message, { receipt: delivery.receipt, attempt: delivery.attempt, group: delivery.group, signal: this.#stop });
      this.#stats.handled++;
      return { ok: true };
    } catch (error) {
      this.#stats.failed++;
      return { ok: false, error: error instanceof Error ? error : new Error(String(error)), operation: 'handler' };
    }
  }

  /** Nacks a failed delivery with backoff, or with no delay at its last attempt or when the worker stops. */
  async #nack(delivery: Delivery, outcome: Outcome & { ok: false }, leaseEnd: number): Promise<void> {
    const { receipt, attempt, message } = delivery;
    const lastAttempt = attempt >= this.#maxAttempts;
    const delaySeconds = lastAttempt || this.#stop.aborted ? 0 : this.#nackDelaySeconds(attempt);
    this.#report(outcome.error, { operation: outcome.operation, messageIds: [message.id], attempt, retryInMs: lastAttempt ? null : delaySeconds * 1000 });

    const error = `${outcome.error.name}: ${outcome.error.message}`.slice(0, maxNackErrorLength);
    for (let failures = 0; ; failures++) {
      try {
        await this.#transport.request(nackDocument, { queue: this.#queue, receipt, delaySeconds, error }, this.#requestOptions());
        return;
      } catch (failure) {
        // After the lease ends, evq makes the message visible again without the nack.
        const left = leaseEnd - Date.now();
        const retryInMs = isRetryable(failure) && left > 0 ? Math.min(backoffDelay(failures, this.#retry), left) : null;
        this.#report(failure as Error, { operation: 'nack', messageIds: [message.id], retryInMs });
        if (retryInMs === null) return;
        await sleep(retryInMs);
      }
    }
  }

  #nackDelaySeconds(attempt: number): number {
    const { initialSeconds, maxSeconds } = this.#options.nackDelay ?? { initialSeconds: 1, maxSeconds: 300 };
    return Math.ceil(backoffDelay(attempt - 1, { initialDelayMs: initialSeconds * 1000, maxDelayMs: maxSeconds * 1000 }) / 1000);
  }

  #requestOptions(): { timeoutMs: number } {
    return { timeoutMs: this.#options.requestTimeoutMs ?? 10_000 };
  }

  #report(error: Error, info: WorkErrorInfo): void {
    this.#options.onError?.(error, info);
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`Invalid ${name} ${value}; expected a positive integer.`);
  return value;
}
