import type { Admin } from '@platformatic/kafka';
import type { Logger } from '../../observability/logger.ts';
import { RecordMap, type ChangeListener } from '../record-map.ts';
import { hasKafkaError } from './client-errors.ts';
import type { FetchedRecord } from './message-codec.ts';
import type { LogReader } from './log-reader.ts';
import type { ProduceBatcher } from './produce-batcher.ts';

/** The engine's Kafka clients that a compacted topic reads and writes through. */
export interface CompactedTopicClients {
  admin: Admin;
  reader: LogReader;
  batcher: ProduceBatcher;
  logger: Logger;
}

/** Pause after a failed fetch of the topic before the next try, in ms. */
const retryDelayMs = 1000;

/** How long one fetch of the follow loop lets the broker wait for new records, in ms. */
const followWaitMs = 5000;

/**
 * A compacted single-partition topic whose latest value per key every evq instance keeps in memory.
 * Each instance reads the topic from the beginning at start and then follows it with long-poll
 * fetches. The broker returns such a fetch as soon as a record arrives, so a write made at one
 * instance is in force at the others within milliseconds on a healthy local broker. A removed key
 * leaves a tombstone, a record without a value, which compaction later drops.
 */
export class CompactedTopic<T> {
  readonly #topic: string;
  readonly #decode: (value: string) => T;
  readonly #admin: Admin;
  readonly #reader: LogReader;
  readonly #batcher: ProduceBatcher;
  readonly #logger: Logger;
  readonly #values: RecordMap<T>;
  readonly #offsetWaiters: { offset: number; resolve(): void }[] = [];
  #nextOffset = 0;
  #following: Promise<void> | null = null;
  #closed = false;

  /**
   * `decode` turns a stored value into the value that `get` returns. When it throws, `start`
   * fails, or, while the topic is being followed, the error is logged and the record skipped.
   */
  constructor(topic: string, decode: (value: string) => T, clients: CompactedTopicClients) {
    this.#topic = topic;
    this.#decode = decode;
    this.#admin = clients.admin;
    this.#reader = clients.reader;
    this.#batcher = clients.batcher;
    this.#logger = clients.logger.child({ topic });
    this.#values = new RecordMap(this.#logger);
  }

  /** Creates the topic when missing, reads it to its end, then follows it in the background. */
  async start(): Promise<void> {
    try {
      await this.#admin.createTopics({
        topics: [this.#topic],
        partitions: 1,
        replicas: -1,
        configs: [{ name: 'cleanup.policy', value: 'compact' }],
      });
      this.#logger.info('created the compacted topic');
    } catch (error) {
      if (!hasKafkaError(error, 'TOPIC_ALREADY_EXISTS')) {
        throw error;
      }
    }
    const { latest } = await this.#reader.offsets(this.#topic);
    const end = latest[0] ?? 0;
    while (this.#nextOffset < end) {
      const records = await this.#reader.fetch([{ topic: this.#topic, partition: 0, offset: this.#nextOffset }], {
        maxWaitMs: 0,
      });
      if (records.length === 0) {
        break;
      }
      this.#apply(records);
    }
    this.#following = this.#follow();
  }

  /**
   * Stops following the topic and resolves the writes still waiting to be read back. Idempotent.
   * The fetch in flight ends when the log reader closes; the returned promise settles after that.
   */
  close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#offsetWaiters.splice(0)) {
      waiter.resolve();
    }
    return this.#following ?? Promise.resolve();
  }

  get(key: string): T | null {
    return this.#values.get(key);
  }

  /** Returns the entries whose keys start with `prefix`, sorted by key. */
  entries(prefix: string): [string, T][] {
    return this.#values.entries(prefix);
  }

  /**
   * Calls `listener` after each record read from the topic, except a tombstone of a key that had
   * no value. Returns a function that removes the listener.
   */
  onChange(listener: ChangeListener<T>): () => void {
    return this.#values.onChange(listener);
  }

  /**
   * Writes `value` under `key`, or a tombstone when `value` is null, and resolves once this
   * instance has read the record back and run the listeners. `operation` names the write in the
   * batcher's logs and errors.
   */
  async write(operation: string, key: string, value: string | null): Promise<void> {
    const record = { topic: this.#topic, partition: 0, key, headers: {}, timestamp: BigInt(Date.now()) };
    const [offset] = await this.#batcher.send(operation, [value === null ? record : { ...record, value }]);
    await this.#waitUntilRead(offset!);
  }

  #waitUntilRead(offset: number): Promise<void> {
    if (this.#nextOffset > offset || this.#closed) {
      return Promise.resolve();
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#offsetWaiters.push({ offset, resolve });
    return promise;
  }

  async #follow(): Promise<void> {
    while (!this.#closed) {
      try {
        const records = await this.#reader.fetch([{ topic: this.#topic, partition: 0, offset: this.#nextOffset }], {
          maxWaitMs: followWaitMs,
        });
        this.#apply(records);
      } catch (error) {
        if (this.#closed) {
          return;
        }
        this.#logger.warn({ err: error }, 'following the compacted topic failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      }
    }
  }

  #apply(records: readonly FetchedRecord[]): void {
    for (const record of records) {
      this.#nextOffset = record.offset + 1;
      if (record.key === null) {
        continue;
      }
      this.#values.apply(record.key, record.value === null ? null : this.#decode(record.value));
    }
    for (let index = this.#offsetWaiters.length - 1; index >= 0; index--) {
      const waiter = this.#offsetWaiters[index]!;
      if (waiter.offset < this.#nextOffset) {
        this.#offsetWaiters.splice(index, 1);
        waiter.resolve();
      }
    }
  }
}
