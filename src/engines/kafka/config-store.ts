import type { Admin } from '@platformatic/kafka';
import type { Logger } from '../../observability/logger.ts';
import type { QueueConfig } from '../engine.ts';
import { CompactedTopic } from './compacted-topic.ts';
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

/**
 * Every queue's configuration, from a compacted single-partition topic keyed by queue name. Each
 * evq instance reads it from the beginning and then follows it with long-poll fetches, so a change
 * made at one instance is in force at all of them once their fetch returns (milliseconds on a
 * healthy local broker). A deleted queue leaves a tombstone, a record without a value.
 */
export class ConfigStore {
  readonly #topic: CompactedTopic<StoredQueueConfig>;

  constructor(topic: string, admin: Admin, reader: LogReader, batcher: ProduceBatcher, logger: Logger) {
    this.#topic = new CompactedTopic(topic, parseConfig, { admin, reader, batcher, logger });
  }

  /** Creates the topic when missing, reads it to its end, then follows it in the background. */
  start(): Promise<void> {
    return this.#topic.start();
  }

  /**
   * Stops following the topic. Idempotent. The fetch in flight ends when the log reader closes;
   * the returned promise settles after that.
   */
  close(): Promise<void> {
    return this.#topic.close();
  }

  get(name: string): StoredQueueConfig | null {
    return this.#topic.get(name);
  }

  /** Returns the queues whose names start with `prefix`, sorted by name. */
  list(prefix: string): StoredQueueConfig[] {
    return this.#topic.entries(prefix).map(([, config]) => config);
  }

  onChange(listener: ConfigListener): () => void {
    return this.#topic.onChange(listener);
  }

  /** Stores a configuration and resolves once this instance has read it back from the topic. */
  async put(operation: string, config: StoredQueueConfig): Promise<void> {
    const value: ConfigRecordValue = { ...config, createdAt: config.createdAt.getTime() };
    await this.#topic.write(operation, config.name, JSON.stringify(value));
  }

  /** Writes the tombstone of a deleted queue and resolves once this instance has read it back. */
  async remove(operation: string, name: string): Promise<void> {
    await this.#topic.write(operation, name, null);
  }
}

function parseConfig(value: string): StoredQueueConfig {
  const stored = JSON.parse(value) as ConfigRecordValue;
  return { ...stored, createdAt: new Date(stored.createdAt), purges: stored.purges ?? 0 };
}
