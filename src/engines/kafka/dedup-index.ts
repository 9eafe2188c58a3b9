import type { Logger } from '../../observability/logger.ts';
import { ChangeSignal } from '../change-signal.ts';
import { OperationTimeoutError } from './client-errors.ts';
import type { DedupCache } from './dedup-cache.ts';
import type { LogReader } from './log-reader.ts';
import { messageHeaders, type FetchedRecord } from './message-codec.ts';

/** The queue whose ids an index contains. */
export interface IndexTarget {
  name: string;
  topic: string;
  /** When the queue was created, in Unix ms; a queue created again under the same name differs. */
  createdAt: number;
}

/** Records per partition that a new index reads at most, counted back from the end of the log. */
const maxWarmUpRecords = 200_000;

/**
 * Keeps in the dedup cache the ids of a queue's records within the dedup window, whichever evq
 * instance appended them, by reading the queue topic on demand. A publish lists the latest offsets
 * and calls `reach`, which reads the records that the index has not seen up to those offsets. The
 * records that this instance appends move the index forward without a read, so an instance that
 * is the only writer of a queue never reads it.
 *
 * Records whose id the service generated, and redriven dead letters, stay out of the cache. A
 * failed read stops the index; the publisher then starts a new one.
 */
export class DedupIndex {
  readonly target: IndexTarget;
  readonly #reader: LogReader;
  readonly #cache: DedupCache;
  readonly #logger: Logger;
  /** Wakes `reach` callers whenever the index has read more, or has stopped. */
  readonly #progress = new ChangeSignal();
  #windowMs: number;
  #lastUsedAt = Date.now();
  /** Next offset to read in each partition; every id below it is in the cache. Null while starting. */
  #position: number[] | null = null;
  /** The highest offset, per partition, that a caller of `reach` waits for. */
  readonly #wanted: number[] = [];
  #reading = false;
  #stopped = false;
  #failure: unknown = null;

  constructor(target: IndexTarget, windowMs: number, reader: LogReader, cache: DedupCache, logger: Logger) {
    this.target = target;
    this.#windowMs = windowMs;
    this.#reader = reader;
    this.#cache = cache;
    this.#logger = logger.child({ component: 'dedup-index', queue: target.name });
    void this.#start();
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Marks the index as used by a publish now, with a window of `windowMs`; the largest window wins. */
  use(windowMs: number): void {
    this.#lastUsedAt = Date.now();
    this.#windowMs = Math.max(this.#windowMs, windowMs);
  }

  /** True when no publish has used the index for longer than its window. */
  isIdle(now: number): boolean {
    return now - this.#lastUsedAt > this.#windowMs;
  }

  /**
   * Resolves once the index contains every id below `ends[partition]` in each of `partitions`.
   * Rejects when the index stops first, or with OperationTimeoutError after `timeoutMs`.
   */
  async reach(partitions: Iterable<number>, ends: readonly number[], timeoutMs: number): Promise<void> {
    for (const partition of partitions) {
      this.#wanted[partition] = Math.max(this.#wanted[partition] ?? 0, ends[partition] ?? 0);
    }
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const seen = this.#progress.version;
      if (this.#stopped) {
        throw new Error(`the dedup index of queue ${JSON.stringify(this.target.name)} stopped`, { cause: this.#failure });
      }
      if (this.#hasReached(partitions, ends)) {
        return;
      }
      void this.#read();
      const remainingMs = deadline - performance.now();
      if (remainingMs <= 0) {
        throw new OperationTimeoutError('reading the ids of the dedup window', timeoutMs);
      }
      await this.#progress.wait(seen, remainingMs);
    }
  }

  /** Stores where this instance appended `id`, unless the index has stopped. */
  record(id: string, partition: number, offset: number, appendedAt: number): void {
    if (!this.#stopped) {
      this.#cache.record(this.target.name, id, partition, offset, appendedAt, Date.now() - this.#windowMs);
    }
  }

  /**
   * Moves the index past records that this instance appended, given in offset order per partition,
   * when nothing lies between them and what the index has read. Call it after `record`.
   */
  skipOwn(placements: readonly { partition: number; offset: number }[]): void {
    if (this.#position === null || this.#stopped) {
      return;
    }
    let moved = false;
    for (const { partition, offset } of placements) {
      if (this.#position[partition] === offset) {
        this.#position[partition] = offset + 1;
        moved = true;
      }
    }
    if (moved) {
      this.#progress.notify();
    }
  }

  /** Drops the queue's ids that are older than the window. */
  expire(): void {
    if (!this.#stopped) {
      this.#cache.expireQueue(this.target.name, Date.now() - this.#windowMs);
    }
  }

  /** Stops reading and drops the queue's ids from the cache. Idempotent. */
  stop(): void {
    if (this.#stopped) {
      return;
    }
    this.#stopped = true;
    this.#cache.forgetQueue(this.target.name);
    this.#progress.close();
  }

  #hasReached(partitions: Iterable<number>, ends: readonly number[]): boolean {
    if (this.#position === null) {
      return false;
    }
    for (const partition of partitions) {
      if ((this.#position[partition] ?? 0) < (ends[partition] ?? 0)) {
        return false;
      }
    }
    return true;
  }

  async #start(): Promise<void> {
    try {
      const position = await this.#startPosition();
      if (!this.#stopped) {
        this.#position = position;
        this.#progress.notify();
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  /**
   * Returns where reading starts: the first record of the window in each partition, but at most
   * `maxWarmUpRecords` before the end.
   */
  async #startPosition(): Promise<number[]> {
    const [windowStarts, { earliest, latest }] = await Promise.all([
      this.#reader.offsetsForTime(this.target.topic, Date.now() - this.#windowMs),
      this.#reader.offsets(this.target.topic),
    ]);
    // NOTE: a new index leaves out ids more than maxWarmUpRecords records before the end of their
    // partition, so a repeat of one of them is stored again.
    return latest.map((end, partition) => {
      const windowStart = windowStarts[partition] ?? -1;
      const start = windowStart < 0 ? end : windowStart;
      return Math.max(start, end - maxWarmUpRecords, earliest[partition] ?? 0);
    });
  }

  /** Fetches until every partition reaches its wanted offset; one read runs at a time. */
  async #read(): Promise<void> {
    if (this.#reading || this.#position === null || this.#stopped) {
      return;
    }
    this.#reading = true;
    const position = this.#position;
    try {
      for (;;) {
        const requests = [];
        for (let partition = 0; partition < position.length; partition++) {
          if (position[partition]! < (this.#wanted[partition] ?? 0)) {
            requests.push({ topic: this.target.topic, partition, offset: position[partition]! });
          }
        }
        if (requests.length === 0 || this.#stopped) {
          return;
        }
        const records = await this.#reader.fetch(requests, { maxWaitMs: 0 });
        if (this.#stopped) {
          return;
        }
        if (records.length === 0) {
          // Below the latest offset, a fetch returns records unless only transaction markers lie
          // there, and those contain no ids.
          for (const { partition } of requests) {
            position[partition] = Math.max(position[partition]!, this.#wanted[partition] ?? 0);
          }
        }
        this.#index(records, position);
        this.#progress.notify();
      }
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#reading = false;
    }
  }

  #index(records: readonly FetchedRecord[], position: number[]): void {
    const since = Date.now() - this.#windowMs;
    for (const record of records) {
      position[record.partition] = Math.max(position[record.partition]!, record.offset + 1);
      const id = record.headers.get(messageHeaders.id);
      if (id === undefined || record.timestamp < since || !isProducerId(record)) {
        continue;
      }
      this.#cache.record(this.target.name, id, record.partition, record.offset, record.timestamp, since);
    }
    this.expire();
  }

  #fail(error: unknown): void {
    if (!this.#stopped) {
      this.#logger.warn({ err: error }, 'reading the queue topic for dedup failed; the next publish starts a new index');
      this.#failure = error;
      this.stop();
    }
  }
}

/**
 * True when the record's id came from its producer. Ids that the service generated cannot repeat,
 * and a redriven dead letter repeats the id of a message that is already indexed.
 */
function isProducerId(record: FetchedRecord): boolean {
  return !record.headers.has(messageHeaders.generatedId) && !record.headers.has(messageHeaders.redriveGroup);
}
