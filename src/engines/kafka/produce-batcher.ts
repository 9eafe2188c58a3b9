import type { Producer } from '@platformatic/kafka';
import { errors } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { withTimeout } from './client-errors.ts';
import type { RecordToProduce } from './message-codec.ts';

/** The producer that evq uses: every part of a record is a string. */
export type StringProducer = Producer<string, string, string, string>;

interface PendingSend {
  operation: string;
  records: RecordToProduce[];
  resolve(offsets: number[]): void;
  reject(error: unknown): void;
}

export interface ProduceBatcherOptions {
  /** How long a send may take before its callers get ENGINE_UNAVAILABLE, in ms. Default 10 000. */
  timeoutMs?: number;
  /** Records that make a batch go out without waiting for the end of the event-loop turn. Default 5000. */
  maxBatchRecords?: number;
}

/**
 * Sends the records that callers submit during one turn of the event loop in one produce request
 * (group commit), with at most one request in flight, so concurrent publishes share round trips.
 * Every caller resolves only after the broker acknowledged its records, with their offsets.
 * When the request fails or times out, every caller in it rejects with ENGINE_UNAVAILABLE.
 */
export class ProduceBatcher {
  readonly #producer: StringProducer;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #maxBatchRecords: number;
  #pending: PendingSend[] = [];
  #pendingRecords = 0;
  #scheduled: NodeJS.Immediate | null = null;
  #inFlight: Promise<void> | null = null;
  #closed = false;

  constructor(producer: StringProducer, logger: Logger, options: ProduceBatcherOptions = {}) {
    this.#producer = producer;
    this.#logger = logger;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxBatchRecords = options.maxBatchRecords ?? 5000;
  }

  /** Queues records for the next produce request; resolves with their offsets, in order. */
  send(operation: string, records: RecordToProduce[]): Promise<number[]> {
    if (this.#closed) {
      return Promise.reject(errors.engineUnavailable(operation, new Error('the engine is closed')));
    }
    if (records.length === 0) {
      return Promise.resolve([]);
    }
    const { promise, resolve, reject } = Promise.withResolvers<number[]>();
    this.#pending.push({ operation, records, resolve, reject });
    this.#pendingRecords += records.length;
    this.#schedule();
    return promise;
  }

  /** Sends what is queued, waits for every request in flight, and rejects later sends. Idempotent. */
  async close(): Promise<void> {
    while (this.#pending.length > 0 || this.#inFlight !== null) {
      if (this.#inFlight === null) {
        this.#flush();
      }
      await this.#inFlight;
    }
    this.#closed = true;
  }

  #schedule(): void {
    if (this.#inFlight !== null) {
      return;
    }
    if (this.#pendingRecords >= this.#maxBatchRecords) {
      this.#flush();
      return;
    }
    this.#scheduled ??= setImmediate(() => this.#flush());
  }

  #flush(): void {
    if (this.#scheduled !== null) {
      clearImmediate(this.#scheduled);
      this.#scheduled = null;
    }
    if (this.#inFlight !== null || this.#pending.length === 0) {
      return;
    }
    const batch = this.#takeBatch();
    this.#inFlight = this.#sendBatch(batch).finally(() => {
      this.#inFlight = null;
      if (this.#pending.length > 0) {
        this.#schedule();
      }
    });
  }

  /** Takes whole sends from the queue until the batch reaches the record limit. */
  #takeBatch(): PendingSend[] {
    let count = 0;
    let taken = 0;
    while (taken < this.#pending.length && (taken === 0 || count + this.#pending[taken]!.records.length <= this.#maxBatchRecords)) {
      count += this.#pending[taken]!.records.length;
      taken++;
    }
    this.#pendingRecords -= count;
    return this.#pending.splice(0, taken);
  }

  async #sendBatch(batch: PendingSend[]): Promise<void> {
    const messages = batch.flatMap((send) => send.records);
    let result;
    try {
      result = await withTimeout('produce', this.#timeoutMs, this.#producer.send({ messages }));
    } catch (error) {
      const operations = [...new Set(batch.map((send) => send.operation))];
      this.#logger.error({ err: error, operations, records: messages.length }, 'produce request failed');
      for (const send of batch) {
        send.reject(errors.engineUnavailable(send.operation, error));
      }
      return;
    }

    const nextOffsets = new Map<string, number>();
    for (const entry of result.offsets ?? []) {
      nextOffsets.set(`${entry.topic}:${entry.partition}`, Number(entry.offset));
    }
    for (const send of batch) {
      const offsets: number[] = [];
      for (const record of send.records) {
        const partitionKey = `${record.topic}:${record.partition}`;
        const offset = nextOffsets.get(partitionKey) ?? -1;
        nextOffsets.set(partitionKey, offset + 1);
        offsets.push(offset);
      }
      send.resolve(offsets);
    }
  }
}
