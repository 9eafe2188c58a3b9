import { ConfigResourceTypes, IncrementalAlterConfigOperationTypes, type Admin } from '@platformatic/kafka';
import { errors } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { QueueConfig, QueueSettings } from '../engine.ts';
import { defaultQueueSettings, mergeQueueSettings } from '../queue-settings.ts';
import { hasKafkaError, isUnknownTopic } from './client-errors.ts';
import type { ConfigStore, StoredQueueConfig } from './config-store.ts';
import type { LogReader } from './log-reader.ts';
import type { TopicNames } from './topic-names.ts';

const queueNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Max queue name length; the queue service enforces the same limit for every engine. */
const maxQueueNameLength = 200;
/** Kafka rejects topic names longer than this. */
const maxTopicNameLength = 249;

/** Returns the public configuration, without the fields that only the engine uses. */
export function toQueueConfig(stored: StoredQueueConfig): QueueConfig {
  const { purges: _purges, ...config } = stored;
  return config;
}

/**
 * Creates, changes, purges and deletes queues: the topics through the admin API and the
 * configuration through the config topic.
 */
export class QueueAdmin {
  readonly #admin: Admin;
  readonly #store: ConfigStore;
  readonly #reader: LogReader;
  readonly #names: TopicNames;
  readonly #logger: Logger;
  /** 200, or less when a long topic prefix would push the journal topic's name past 249 characters. */
  readonly #maxNameLength: number;

  constructor(admin: Admin, store: ConfigStore, reader: LogReader, names: TopicNames, logger: Logger) {
    this.#admin = admin;
    this.#store = store;
    this.#reader = reader;
    this.#names = names;
    this.#logger = logger;
    // The journal topic's name is the longest of the three topics of a queue.
    this.#maxNameLength = Math.min(maxQueueNameLength, maxTopicNameLength - names.journal('').length);
  }

  /**
   * Creates the queue's topics, then stores its configuration. When two instances create the same
   * name at once, the broker accepts one topic creation and rejects the other with
   * TOPIC_ALREADY_EXISTS, which becomes QUEUE_EXISTS.
   */
  async create(name: string, settings: QueueSettings): Promise<QueueConfig> {
    checkQueueName(name, this.#maxNameLength);
    const merged = mergeQueueSettings(defaultQueueSettings, settings);
    if (this.#store.get(name) !== null) {
      throw errors.queueExists(name);
    }
    const retention = { name: 'retention.ms', value: String(merged.retentionSeconds * 1000) };
    try {
      await this.#admin.createTopics({
        topics: [this.#names.queue(name)],
        partitions: merged.partitions,
        replicas: -1,
        configs: [retention],
      });
    } catch (error) {
      if (hasKafkaError(error, 'TOPIC_ALREADY_EXISTS')) {
        throw errors.queueExists(name);
      }
      throw error;
    }
    await this.#createIfMissing(this.#names.deadLetters(name), 1, [retention]);
    await this.#createIfMissing(this.#names.journal(name), merged.partitions, [
      retention,
      { name: 'cleanup.policy', value: 'compact,delete' },
    ]);
    const config: StoredQueueConfig = { name, ...merged, createdAt: new Date(), purges: 0 };
    await this.#store.put('createQueue', config);
    this.#logger.info({ queue: name, partitions: merged.partitions }, 'queue created');
    return toQueueConfig(config);
  }

  /** Changes every setting but `partitions`, which may only repeat its value. */
  async update(name: string, settings: QueueSettings): Promise<QueueConfig> {
    const current = this.#store.get(name);
    if (current === null) {
      throw errors.queueNotFound(name);
    }
    const merged = mergeQueueSettings(toQueueConfig(current), settings);
    if (merged.partitions !== current.partitions) {
      throw errors.invalidInput(
        'partitions',
        settings.partitions,
        `${current.partitions}, because the partition count is fixed when a queue is created`,
      );
    }
    if (merged.retentionSeconds !== current.retentionSeconds) {
      const value = String(merged.retentionSeconds * 1000);
      const topics = [this.#names.queue(name), this.#names.deadLetters(name), this.#names.journal(name)];
      await this.#admin.incrementalAlterConfigs({
        resources: topics.map((topic) => ({
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: topic,
          configs: [{ name: 'retention.ms', configOperation: IncrementalAlterConfigOperationTypes.SET, value }],
        })),
      });
    }
    const config: StoredQueueConfig = { ...current, ...merged };
    await this.#store.put('updateQueue', config);
    return toQueueConfig(config);
  }

  /**
   * Deletes the configuration first, so no instance serves the queue any more, then runs
   * `afterRemoval` (which stops this instance's members of the queue), then deletes the topics and
   * consumer groups. Returns false when the queue did not exist.
   */
  async delete(name: string, afterRemoval: () => Promise<void>): Promise<boolean> {
    if (this.#store.get(name) === null) {
      return false;
    }
    await this.#store.remove('deleteQueue', name);
    await afterRemoval();
    const topics = [this.#names.queue(name), this.#names.deadLetters(name), this.#names.journal(name)];
    for (const topic of topics) {
      try {
        await this.#admin.deleteTopics({ topics: [topic] });
      } catch (error) {
        if (!isUnknownTopic(error)) {
          throw error;
        }
      }
    }
    await this.#deleteGroups(name);
    this.#logger.info({ queue: name }, 'queue deleted');
    return true;
  }

  /**
   * Deletes every record of the queue and its dead-letter topic up to the current end, which moves
   * each partition's log start offset there, and counts a purge in the configuration so that every
   * owner of a partition drops its leases.
   */
  async purge(name: string): Promise<void> {
    const current = this.#store.get(name);
    if (current === null) {
      throw errors.queueNotFound(name);
    }
    for (const topic of [this.#names.queue(name), this.#names.deadLetters(name)]) {
      const { latest } = await this.#reader.offsets(topic);
      await this.#admin.deleteRecords({
        topics: [{ name: topic, partitions: latest.map((offset, partition) => ({ partition, offset: BigInt(offset) })) }],
      });
    }
    await this.#store.put('purgeQueue', { ...current, purges: current.purges + 1 });
  }

  async #createIfMissing(topic: string, partitions: number, configs: { name: string; value: string }[]): Promise<void> {
    try {
      await this.#admin.createTopics({ topics: [topic], partitions, replicas: -1, configs });
    } catch (error) {
      if (!hasKafkaError(error, 'TOPIC_ALREADY_EXISTS')) {
        throw error;
      }
    }
  }

  /** Deletes the queue's consumer groups; a group that still has members is left for Kafka to expire. */
  async #deleteGroups(name: string): Promise<void> {
    const prefix = this.#names.groupIdPrefix(name);
    try {
      const groups = [...(await this.#admin.listGroups()).keys()].filter((id) => id.startsWith(prefix));
      if (groups.length > 0) {
        await this.#admin.deleteGroups({ groups });
      }
    } catch (error) {
      this.#logger.warn({ err: error, queue: name }, 'deleting the consumer groups of a deleted queue failed');
    }
  }
}

function checkQueueName(name: string, maxLength: number): void {
  if (typeof name !== 'string' || !queueNamePattern.test(name) || name.length > maxLength) {
    throw errors.invalidInput(
      'name',
      name,
      `a name of 1 to ${maxLength} letters, digits, '.', '_' or '-' that starts with a letter or digit`,
    );
  }
}
