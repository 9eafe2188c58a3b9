import type { Admin } from '@platformatic/kafka';
import type { Logger } from '../../observability/logger.ts';
import type { QueueConfig } from '../engine.ts';
import { hasKafkaError } from './client-errors.ts';
import type { LogReader } from './log-reader.ts';
import type { ProduceBatcher } from './produce-batcher.ts';

/** A queue's configuration as the config topic stores it. */
export interface StoredQueueConfig extends QueueConfig {
  /** Counts the purges of the queue, so that owners of its partitions drop what they hold. */
  purges: number;
}

interface ConfigRecordValue {
  name: string;
  partitions: number;
  retentionSeconds: number;
  visibilityTimeoutSeconds: number;
  maxAttempts: number;
  requireSignature: boolean;
  createdAt: number;
  purges: number;
}

/** Called after a queue's configuration changed; `config` is null when the queue was deleted. */
export type ConfigListener = (name: string, config: StoredQueueConfig | null) => void;

/** Pause after a failed fetch of the config topic before the next try, in ms. */
const retryDelayMs = 1000;

/**
 * Every queue's configuration, from a compacted single-partition topic keyed by queue name. Each
 * evq instance reads it from the beginning and then follows it with long-poll fetches, so a change
 * made at one instance is in force at all of them once their fetch returns (milliseconds on a
 * healthy local broker). A deleted queue leaves a tombstone, a record without a value.
 */
export class ConfigStore {
  readonly #topic: string;
  readonly #admin: Admin;
  readonly #reader: LogReader;
  readonly #batcher: ProduceBatcher;
  readonly #logger: Logger;
  readonly #configs = new Map<string, StoredQueueConfig>();
  readonly #listeners = new Set<ConfigListener>();
  readonly #offsetWaiters: { offset: number; resolve(): void }[] = [];
  #nextOffset = 0;
  #following: Promise<void> | null = null;
  #closed = false;

  constructor(topic: string, admin: Admin, reader: LogReader, batcher: ProduceBatcher, logger: Logger) {
    this.#topic = topic;
    this.#admin = admin;
    this.#reader = reader;
    this.#batcher = batcher;
    this.#logger = logger;
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
      this.#logger.info({ topic: this.#topic }, 'created the queue config topic');
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
   * Stops following the topic. Idempotent. The fetch in flight ends when the log reader closes;
   * the returned promise settles after that.
   */
  close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#offsetWaiters.splice(0)) {
      waiter.resolve();
    }
    return this.#following ?? Promise.resolve();
  }

  get(name: string): StoredQueueConfig | null {
    return this.#configs.get(name) ?? null;
  }

  /** Returns the queues whose names start with `prefix`, sorted by name. */
  list(prefix: string): StoredQueueConfig[] {
    return [...this.#configs.values()]
      .filter((config) => config.name.startsWith(prefix))
      .sort(compareNames);
  }

  onChange(listener: ConfigListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stores a configuration and resolves once this instance has read it back from the topic. */
  async put(operation: string, config: StoredQueueConfig): Promise<void> {
    const value: ConfigRecordValue = { ...config, createdAt: config.createdAt.getTime() };
    await this.#write(operation, config.name, JSON.stringify(value));
  }

  /** Writes the tombstone of a deleted queue and resolves once this instance has read it back. */
  async remove(operation: string, name: string): Promise<void> {
    await this.#write(operation, name, undefined);
  }

  async #write(operation: string, name: string, value: string | undefined): Promise<void> {
    const record = { topic: this.#topic, partition: 0, key: name, headers: {}, timestamp: BigInt(Date.now()) };
    const [offset] = await this.#batcher.send(operation, [value === undefined ? record : { ...record, value }]);
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
          maxWaitMs: 5000,
        });
        this.#apply(records);
      } catch (error) {
        if (this.#closed) {
          return;
        }
        this.#logger.warn({ err: error, topic: this.#topic }, 'reading the queue config topic failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      }
    }
  }

  #apply(records: { offset: number; key: string | null; value: string | null }[]): void {
    for (const record of records) {
      this.#nextOffset = record.offset + 1;
      if (record.key === null) {
        continue;
      }
      const config = record.value === null ? null : parseConfig(record.value);
      if (config === null) {
        this.#configs.delete(record.key);
      } else {
        this.#configs.set(record.key, config);
      }
      for (const listener of this.#listeners) {
        listener(record.key, config);
      }
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

function compareNames(a: StoredQueueConfig, b: StoredQueueConfig): number {
  if (a.name === b.name) {
    return 0;
  }
  return a.name < b.name ? -1 : 1;
}

function parseConfig(value: string): StoredQueueConfig {
  const stored = JSON.parse(value) as ConfigRecordValue;
  return { ...stored, createdAt: new Date(stored.createdAt), purges: stored.purges ?? 0 };
}
