import type { Admin } from '@platformatic/kafka';
import { errors } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Quarantine, QuarantinedRecord } from '../engine.ts';
import {
  fromQuarantinedMessageJson,
  stringifyQuarantineEntry,
  toQuarantinedMessageJson,
  type QuarantinedMessageJson,
} from '../quarantine-codec.ts';
import { checkListLimit, checkQuarantinedRecord, checkQueueName } from '../request-checks.ts';
import type { ConfigStore, StoredQueueConfig } from './config-store.ts';
import type { EngineGate } from './engine-gate.ts';
import { createSinglePartitionTopic } from './internal-topic.ts';
import type { LogReader } from './log-reader.ts';
import type { FetchedRecord } from './message-codec.ts';
import type { ProduceBatcher } from './produce-batcher.ts';

/** The engine's Kafka clients that the quarantine reads and writes through. */
export interface QuarantineClients {
  admin: Admin;
  reader: LogReader;
  batcher: ProduceBatcher;
  logger: Logger;
}

/**
 * The JSON value of a quarantine record. `queueCreatedAt` and `purges` tie it to one life of the
 * queue: a queue deleted and created again, or purged, has other values, so `list` leaves the
 * entry out.
 */
interface QuarantineEntry {
  queue: string;
  queueCreatedAt: number;
  purges: number;
  partition: number;
  offset: number;
  reason: string;
  message: QuarantinedMessageJson;
}

/** How long the topic keeps quarantined records: 7 days, in ms. */
const retentionMs = 7 * 24 * 60 * 60 * 1000;
/** Entries that `add` remembers, so that a record read again is not produced again. */
const addedCapacity = 10_000;

/**
 * The quarantine on Kafka: a single-partition topic keyed `<queue>/<partition>/<offset>` with a JSON
 * value, kept for 7 days. `list` reads the topic from its start, which is fine for an operator
 * query on a small topic, and returns each (partition, offset) once. Deleting or purging a queue
 * leaves its records in the topic until retention removes them, but `list` leaves them out.
 *
 * NOTE: `add` skips a record that this instance added before (among the last 10 000), but two
 * instances may both add one record. `list` shows the first.
 */
export class KafkaQuarantine implements Quarantine {
  readonly #topic: string;
  readonly #clients: QuarantineClients;
  readonly #store: ConfigStore;
  readonly #gate: EngineGate;
  readonly #logger: Logger;
  /** Adds in progress or done, by queue life, partition and offset, oldest first. */
  readonly #added = new Map<string, Promise<void>>();

  constructor(topic: string, clients: QuarantineClients, store: ConfigStore, gate: EngineGate) {
    this.#topic = topic;
    this.#clients = clients;
    this.#store = store;
    this.#gate = gate;
    this.#logger = clients.logger.child({ topic });
  }

  /** Creates the topic when missing. */
  async start(): Promise<void> {
    const created = await createSinglePartitionTopic(this.#clients.admin, this.#topic, [
      { name: 'cleanup.policy', value: 'delete' },
      { name: 'retention.ms', value: String(retentionMs) },
    ]);
    if (created) {
      this.#logger.info('created the quarantine topic');
    }
  }

  add(record: Omit<QuarantinedRecord, 'quarantinedAt'>): Promise<void> {
    return this.#gate.run('addToQuarantine', async () => {
      checkQuarantinedRecord(record);
      const config = this.#require(record.queue);
      const entry: QuarantineEntry = {
        queue: record.queue,
        queueCreatedAt: config.createdAt.getTime(),
        purges: config.purges,
        partition: record.partition,
        offset: record.offset,
        reason: record.reason,
        message: toQuarantinedMessageJson(record.message),
      };
      const value = stringifyQuarantineEntry(entry);
      const addedKey = [entry.queue, entry.queueCreatedAt, entry.purges, entry.partition, entry.offset].join('/');
      let adding = this.#added.get(addedKey);
      if (adding === undefined) {
        adding = this.#produce(entry, value);
        this.#remember(addedKey, adding);
      }
      await adding;
    });
  }

  list(queue: string, limit: number): Promise<QuarantinedRecord[]> {
    return this.#gate.run('listQuarantine', async () => {
      checkQueueName(queue);
      checkListLimit(limit);
      const config = this.#require(queue);
      const reader = this.#clients.reader;
      const { earliest, latest } = await reader.offsets(this.#topic);
      let offset = earliest[0] ?? 0;
      const end = latest[0] ?? 0;
      const found = new Map<string, QuarantinedRecord>();
      while (found.size < limit && offset < end) {
        const records = await reader.fetch([{ topic: this.#topic, partition: 0, offset }], { maxWaitMs: 0 });
        if (records.length === 0) {
          break;
        }
        for (const record of records) {
          offset = record.offset + 1;
          const entry = this.#decode(queue, record);
          if (entry === null || !isOfQueueLife(entry, config)) {
            continue;
          }
          const position = `${entry.partition}/${entry.offset}`;
          if (!found.has(position) && found.size < limit) {
            found.set(position, toQuarantinedRecord(entry, record.timestamp));
          }
        }
      }
      return [...found.values()];
    });
  }

  #require(queue: string): StoredQueueConfig {
    const config = this.#store.get(queue);
    if (config === null) {
      throw errors.queueNotFound(queue);
    }
    return config;
  }

  async #produce(entry: QuarantineEntry, value: string): Promise<void> {
    await this.#clients.batcher.send('addToQuarantine', [
      {
        topic: this.#topic,
        partition: 0,
        key: `${entry.queue}/${entry.partition}/${entry.offset}`,
        value,
        headers: {},
        timestamp: BigInt(Date.now()),
      },
    ]);
  }

  /** Remembers an add until it fails, and drops the oldest add beyond the capacity. */
  #remember(addedKey: string, adding: Promise<void>): void {
    this.#added.set(addedKey, adding);
    adding.catch(() => {
      if (this.#added.get(addedKey) === adding) {
        this.#added.delete(addedKey);
      }
    });
    if (this.#added.size > addedCapacity) {
      const oldest = this.#added.keys().next().value!;
      this.#added.delete(oldest);
    }
  }

  /** Returns the entry of a record of `queue`, or null for another queue's record or one that is not an entry. */
  #decode(queue: string, record: FetchedRecord): QuarantineEntry | null {
    // Queue names contain no '/', so the key prefix selects the queue without parsing the value.
    if (record.key === null || !record.key.startsWith(`${queue}/`)) {
      return null;
    }
    let entry: unknown;
    try {
      entry = JSON.parse(record.value ?? '');
    } catch {
      entry = null;
    }
    if (!isQuarantineEntry(entry) || entry.queue !== queue) {
      this.#logger.warn({ offset: record.offset, queue }, 'skipped a record of the quarantine topic that is not an entry');
      return null;
    }
    return entry;
  }
}

function isOfQueueLife(entry: QuarantineEntry, config: StoredQueueConfig): boolean {
  return entry.queueCreatedAt === config.createdAt.getTime() && entry.purges === config.purges;
}

function isQuarantineEntry(value: unknown): value is QuarantineEntry {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const entry = value as Record<string, unknown>;
  return (
    typeof entry.queue === 'string' &&
    typeof entry.queueCreatedAt === 'number' &&
    typeof entry.purges === 'number' &&
    typeof entry.partition === 'number' &&
    typeof entry.offset === 'number' &&
    typeof entry.reason === 'string' &&
    typeof entry.message === 'object' &&
    entry.message !== null
  );
}

function toQuarantinedRecord(entry: QuarantineEntry, timestamp: number): QuarantinedRecord {
  return {
    queue: entry.queue,
    partition: entry.partition,
    offset: entry.offset,
    message: fromQuarantinedMessageJson(entry.message),
    reason: entry.reason,
    quarantinedAt: new Date(timestamp),
  };
}
