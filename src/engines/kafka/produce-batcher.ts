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
  /** Offsets of the records sent so far, by index. */
  offsets: number[];
  /** Records not acknowledged yet; the send resolves when this reaches 0. */
  unacknowledged: number;
  failed: boolean;
  resolve(offsets: number[]): void;
  reject(error: unknown): void;
}

/** A run of consecutive records of one send that goes into one produce request. */
interface SendSlice {
  send: PendingSend;
  from: number;
  to: number;
}

export interface ProduceBatcherOptions {
  /** How long a send may take before its callers get ENGINE_UNAVAILABLE, in ms. Default 10 000. */
  timeoutMs?: number;
  /** Records that make a batch go out without waiting for the end of the event-loop turn. Default 5000. */
  maxBatchRecords?: number;
  /**
   * Estimated bytes of one produce request at most. Default 900 000, below the broker's default
   * `message.max.bytes` of 1 048 588, which limits the record batch of a partition. A send larger
   * than this goes out in several requests.
   */
  maxBatchBytes?: number;
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
  readonly #maxBatchBytes: number;
  /** Sends with records not taken into a request yet; the first may be partly taken. */
  #pending: PendingSend[] = [];
  /** Index of the first record of `#pending[0]` that no request has taken. */
  #pendingFrom = 0;
  #pendingRecords = 0;
  #scheduled: NodeJS.Immediate | null = null;
  #inFlight: Promise<void> | null = null;
  #closed = false;

  constructor(producer: StringProducer, logger: Logger, options: ProduceBatcherOptions = {}) {
    this.#producer = producer;
    this.#logger = logger;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxBatchRecords = options.maxBatchRecords ?? 5000;
    this.#maxBatchBytes = options.maxBatchBytes ?? 900_000;
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
    this.#pending.push({ operation, records, offsets: [], unacknowledged: records.length, failed: false, resolve, reject });
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

  /** Takes records in order until the request reaches the record or byte limit; at least one record. */
  #takeBatch(): SendSlice[] {
    const slices: SendSlice[] = [];
    let count = 0;
    let bytes = 0;
    while (this.#pending.length > 0) {
      const send = this.#pending[0]!;
      if (send.failed) {
        // An earlier part of this send failed, so its caller got an error; the rest stays unsent.
        this.#pendingRecords -= send.records.length - this.#pendingFrom;
        this.#pending.shift();
        this.#pendingFrom = 0;
        continue;
      }
      let to = this.#pendingFrom;
      while (to < send.records.length) {
        const size = estimateBytes(send.records[to]!);
        if (count > 0 && (count + 1 > this.#maxBatchRecords || bytes + size > this.#maxBatchBytes)) {
          break;
        }
        count++;
        bytes += size;
        to++;
      }
      if (to > this.#pendingFrom) {
        slices.push({ send, from: this.#pendingFrom, to });
      }
      if (to < send.records.length) {
        this.#pendingFrom = to;
        break;
      }
      this.#pending.shift();
      this.#pendingFrom = 0;
    }
    this.#pendingRecords -= count;
    return slices;
  }

  async #sendBatch(slices: SendSlice[]): Promise<void> {
    const messages = slices.flatMap((slice) => slice.send.records.slice(slice.from, slice.to));
    let result;
    try {
      result = await withTimeout('produce', this.#timeoutMs, this.#producer.send({ messages }));
    } catch (error) {
      const operations = [...new Set(slices.map((slice) => slice.send.operation))];
      this.#logger.error({ err: error, operations, records: messages.length }, 'produce request failed');
      for (const { send } of slices) {
        if (!send.failed) {
          send.failed = true;
          send.reject(errors.engineUnavailable(send.operation, error));
        }
      }
      return;
    }

    const nextOffsets = new Map<string, number>();
    for (const entry of result.offsets ?? []) {
      nextOffsets.set(`${entry.topic}:${entry.partition}`, Number(entry.offset));
    }
    for (const { send, from, to } of slices) {
      for (let index = from; index < to; index++) {
        const record = send.records[index]!;
        const partitionKey = `${record.topic}:${record.partition}`;
        const offset = nextOffsets.get(partitionKey) ?? -1;
        nextOffsets.set(partitionKey, offset + 1);
        send.offsets[index] = offset;
      }
      send.unacknowledged -= to - from;
      if (send.unacknowledged === 0 && !send.failed) {
        send.resolve(send.offsets);
      }
    }
  }
}

/** Estimates the bytes a record takes in a record batch: its parts plus about 70 bytes of framing. */
function estimateBytes(record: RecordToProduce): number {
  let bytes = 70 + Buffer.byteLength(record.value ?? '') + Buffer.byteLength(record.key ?? '');
  for (const [name, value] of Object.entries(record.headers)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value) + 2;
  }
  return bytes;
}
