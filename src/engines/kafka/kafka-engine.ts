import { randomUUID } from 'node:crypto';
import { Admin, ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import { errors, isEvqError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type {
  AckOutcome,
  AppendResult,
  DeadLetter,
  Engine,
  Lease,
  NewMessage,
  Position,
  QueueConfig,
  QueueSettings,
  QueueStats,
  ReadEntry,
  ReadOptions,
  ReadResult,
  ReadStart,
  ReceiveOptions,
} from '../engine.ts';
import { maxNonceWindowMs } from '../engine.ts';
import { Partitioner } from '../partitioner.ts';
import { hasKafkaError, isUnknownTopic, withTimeout } from './client-errors.ts';
import { ConfigStore, type StoredQueueConfig } from './config-store.ts';
import { listDeadLetters, redriveDeadLetters } from './dead-letters.ts';
import type { EngineGate } from './engine-gate.ts';
import { LogReader } from './log-reader.ts';
import { KafkaNonceClaims } from './nonce-claims.ts';
import { ProduceBatcher, type StringProducer } from './produce-batcher.ts';
import { Publisher } from './publisher.ts';
import { KafkaQuarantine } from './quarantine.ts';
import { QueueAdmin, toQueueConfig } from './queue-admin.ts';
import { ReadinessProbe } from './readiness.ts';
import { KafkaSharedRecords } from './shared-records.ts';
import { checkReadOptions, checkReceiveOptions } from '../request-checks.ts';
import { groupStats } from './stats.ts';
import { StreamReader, type StreamTarget } from './stream-reader.ts';
import { TopicNames } from './topic-names.ts';
import { WorkQueue } from './work-queue.ts';

export interface KafkaEngineOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: string[];
  logger: Logger;
  /** Prefix of every topic and consumer group that evq creates. Default 'evq.'. */
  topicPrefix?: string;
  /** Client id that the brokers see in their logs and quotas. Default 'evq'. */
  clientId?: string;
  /** Name of this evq instance in logs and client ids. Default: a random id. */
  instanceId?: string;
  /**
   * Widest window that `nonces.claim` accepts, in ms, and how far back the nonce topic is read at
   * start. Default and maximum: one day, the topic's retention. A smaller value makes start
   * faster when the topic contains many claims.
   */
  maxNonceWindowMs?: number;
}

/** How long the readiness check waits for a metadata response, in ms. */
const readinessTimeoutMs = 2000;
/** Messages per batch that `tail` yields at most. */
const tailBatchSize = 500;

/**
 * The Apache Kafka engine. A queue is a topic with the queue's partitions and retention. Its
 * configuration lives in a compacted config topic that every instance follows, and its dead
 * letters live in a topic of their own. Leases, acks and nacks are journaled in a compacted topic
 * partitioned like the queue. Each (queue, group) is a Kafka consumer group, so each partition has
 * one owning instance at a time. The shared records live in a second compacted topic that every
 * instance follows. Nonce claims go to a topic that every instance follows too, and quarantined
 * records to a topic that is read on request.
 */
export class KafkaEngine implements Engine {
  readonly kind = 'kafka' as const;
  readonly records: KafkaSharedRecords;
  readonly nonces: KafkaNonceClaims;
  readonly quarantine: KafkaQuarantine;
  readonly #logger: Logger;
  readonly #names: TopicNames;
  readonly #admin: Admin;
  readonly #producer: StringProducer;
  readonly #reader: LogReader;
  readonly #batcher: ProduceBatcher;
  readonly #store: ConfigStore;
  readonly #queues: QueueAdmin;
  readonly #partitioner = new Partitioner();
  readonly #publisher: Publisher;
  readonly #stream: StreamReader;
  readonly #workQueue: WorkQueue;
  readonly #readiness: ReadinessProbe;
  /** Aborts every wait when the engine closes. */
  readonly #shutdown = new AbortController();
  /** Appends in progress; close waits for them. */
  readonly #appends = new Set<Promise<AppendResult[]>>();
  #started = false;
  #closing: Promise<void> | null = null;

  constructor(options: KafkaEngineOptions) {
    const instanceId = options.instanceId ?? randomUUID().slice(0, 8);
    const clientId = `${options.clientId ?? 'evq'}-${instanceId}`;
    const brokers = options.brokers;
    this.#logger = options.logger.child({ component: 'kafka-engine', instanceId });
    this.#names = new TopicNames(options.topicPrefix ?? 'evq.');
    this.#admin = new Admin({ clientId: `${clientId}-admin`, bootstrapBrokers: brokers, retries: 2, retryDelay: 250, timeout: 5000 });
    this.#producer = new Producer({
      clientId: `${clientId}-producer`,
      bootstrapBrokers: brokers,
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      // A finite retry budget, so a send fails within the batcher's timeout instead of hanging.
      retries: 5,
      retryDelay: 200,
      timeout: 5000,
    });
    this.#reader = new LogReader(brokers, `${clientId}-reader`, this.#logger);
    this.#batcher = new ProduceBatcher(this.#producer, this.#logger);
    this.#store = new ConfigStore(this.#names.config(), this.#admin, this.#reader, this.#batcher, this.#logger);
    const clients = { admin: this.#admin, reader: this.#reader, batcher: this.#batcher, logger: this.#logger };
    const gate: EngineGate = {
      checkOpen: (operation) => this.#checkOpen(operation),
      run: (operation, run) => this.#run(operation, run),
    };
    this.records = new KafkaSharedRecords(this.#names.records(), clients, gate);
    this.nonces = new KafkaNonceClaims(this.#names.nonces(), clients, gate, options.maxNonceWindowMs ?? maxNonceWindowMs);
    this.quarantine = new KafkaQuarantine(this.#names.quarantine(), clients, this.#store, gate);
    this.#queues = new QueueAdmin(this.#admin, this.#store, this.#reader, this.#names, this.#logger);
    this.#publisher = new Publisher(this.#batcher, this.#partitioner, this.#reader, this.#logger);
    this.#stream = new StreamReader(this.#reader);
    this.#workQueue = new WorkQueue({
      brokers,
      clientId,
      writer: randomUUID(),
      admin: this.#admin,
      reader: this.#reader,
      batcher: this.#batcher,
      store: this.#store,
      names: this.#names,
      logger: this.#logger,
    });
    this.#store.onChange((name, config) => this.#workQueue.onConfigChange(name, config));

    // forceUpdate sends a request on every check. Without it the client returns its cached
    // metadata, which stays valid for 5 s (metadataMaxAge in @platformatic/kafka 2.12).
    const topics = [this.#names.config()];
    this.#readiness = new ReadinessProbe(
      () => withTimeout('metadata', readinessTimeoutMs, this.#admin.metadata({ topics, forceUpdate: true })),
      this.#logger,
    );
  }

  async start(): Promise<void> {
    if (this.#started || this.#closing !== null) {
      throw new Error('KafkaEngine.start() may be called once.');
    }
    this.#started = true;
    try {
      await Promise.all([this.#store.start(), this.records.start(), this.nonces.start(), this.quarantine.start()]);
    } catch (error) {
      this.#logger.error({ err: error }, 'starting the kafka engine failed');
      // Closing stops the follow loop of whichever topic did start.
      await this.close();
      throw errors.engineUnavailable('start', error);
    }
    this.#logger.info({ queues: this.#store.list('').length }, 'kafka engine started');
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** True while a metadata request to the cluster succeeds within 2 s; the result is reused for 1 s. */
  async isReady(): Promise<boolean> {
    if (!this.#started || this.#closing !== null) {
      return false;
    }
    return this.#readiness.isReady();
  }

  createQueue(name: string, settings: QueueSettings): Promise<QueueConfig> {
    return this.#run('createQueue', () => this.#queues.create(name, settings));
  }

  updateQueue(name: string, settings: QueueSettings): Promise<QueueConfig> {
    return this.#run('updateQueue', () => this.#queues.update(name, settings));
  }

  deleteQueue(name: string): Promise<boolean> {
    return this.#run('deleteQueue', async () => {
      const deleted = await this.#queues.delete(name, () => this.#workQueue.closeQueue(name));
      this.#partitioner.forget(name);
      this.#publisher.forget(name);
      return deleted;
    });
  }

  async getQueue(name: string): Promise<QueueConfig | null> {
    this.#checkOpen('getQueue');
    const config = this.#store.get(name);
    return config === null ? null : toQueueConfig(config);
  }

  async listQueues(prefix = ''): Promise<QueueConfig[]> {
    this.#checkOpen('listQueues');
    return this.#store.list(prefix).map(toQueueConfig);
  }

  stats(queue: string, group: string): Promise<QueueStats> {
    return this.#run('stats', async () => {
      const config = this.#require(queue);
      const member = this.#workQueue.localMember(queue, group);
      await member?.ready();
      await this.#workQueue.expire(config);
      return groupStats(this.#admin, this.#reader, {
        name: queue,
        group,
        topic: this.#names.queue(queue),
        deadLetterTopic: this.#names.deadLetters(queue),
        groupId: this.#names.groupId(queue, group),
        maxAttempts: config.maxAttempts,
      }, member);
    });
  }

  purgeQueue(queue: string): Promise<void> {
    return this.#run('purgeQueue', () => this.#queues.purge(queue));
  }

  append(queue: string, messages: NewMessage[], dedupWindowMs: number): Promise<AppendResult[]> {
    const appending = this.#run('append', () => {
      const config = this.#require(queue);
      return this.#publisher.append(
        { name: queue, topic: this.#names.queue(queue), partitions: config.partitions, createdAt: config.createdAt.getTime() },
        messages,
        dedupWindowMs,
      );
    });
    this.#appends.add(appending);
    void appending.then(
      () => this.#appends.delete(appending),
      () => this.#appends.delete(appending),
    );
    return appending;
  }

  resolve(queue: string, start: ReadStart): Promise<Position> {
    return this.#run('resolve', () => this.#stream.resolve(this.#streamTarget(queue), start));
  }

  read(queue: string, start: ReadStart, options: ReadOptions): Promise<ReadResult> {
    return this.#run('read', async () => {
      checkReadOptions(options);
      const target = this.#streamTarget(queue);
      const signal = options.signal === undefined ? this.#shutdown.signal : AbortSignal.any([options.signal, this.#shutdown.signal]);
      try {
        return await this.#stream.read(target, start, { ...options, signal });
      } catch (error) {
        if (hasKafkaError(error, 'OFFSET_OUT_OF_RANGE')) {
          // Retention or a purge moved the log start after the offsets were checked; check again.
          await this.#stream.resolve(target, start);
        }
        throw error;
      }
    });
  }

  async *tail(queue: string, start: ReadStart, signal: AbortSignal): AsyncGenerator<ReadEntry[]> {
    this.#checkOpen('tail');
    const target = this.#streamTarget(queue);
    const created = this.#require(queue).createdAt.getTime();
    const deleted = new AbortController();
    const stopListening = this.#store.onChange((name, config) => {
      if (name === queue && config?.createdAt.getTime() !== created) {
        deleted.abort();
      }
    });
    const combined = AbortSignal.any([signal, deleted.signal, this.#shutdown.signal]);
    try {
      yield* this.#stream.tail(target, start, combined, () => !deleted.signal.aborted, tailBatchSize);
    } catch (error) {
      if (combined.aborted || isUnknownTopic(error)) {
        return;
      }
      throw this.#toEngineError('tail', error);
    } finally {
      stopListening();
    }
  }

  receive(queue: string, group: string, options: ReceiveOptions): Promise<Lease[]> {
    return this.#run('receive', () => {
      checkReceiveOptions(options);
      return this.#workQueue.receive(this.#require(queue), group, options, this.#shutdown.signal);
    });
  }

  ack(queue: string, receipts: string[]): Promise<AckOutcome[]> {
    return this.#run('ack', () => this.#workQueue.ack(this.#require(queue), receipts));
  }

  nack(queue: string, receipt: string, delaySeconds: number, error?: string | null): Promise<void> {
    return this.#run('nack', () => this.#workQueue.nack(this.#require(queue), receipt, delaySeconds, error ?? null));
  }

  extendVisibility(queue: string, receipt: string, seconds: number): Promise<Date> {
    return this.#run('extendVisibility', () => this.#workQueue.extend(this.#require(queue), receipt, seconds));
  }

  deadLetters(queue: string, after: number | null, limit: number): Promise<DeadLetter[]> {
    return this.#run('deadLetters', async () => {
      const config = this.#require(queue);
      await this.#workQueue.expire(config);
      return listDeadLetters(this.#reader, this.#deadLetterTarget(config), after, limit);
    });
  }

  redrive(queue: string, limit: number): Promise<number> {
    return this.#run('redrive', async () => {
      const config = this.#require(queue);
      await this.#workQueue.expire(config);
      const target = this.#deadLetterTarget(config);
      const { moved, deleteBefore } = await redriveDeadLetters(this.#reader, this.#batcher, this.#partitioner, target, limit);
      if (moved > 0) {
        await this.#admin.deleteRecords({
          topics: [{ name: target.deadLetterTopic, partitions: [{ partition: 0, offset: BigInt(deleteBefore) }] }],
        });
      }
      return moved;
    });
  }

  #require(queue: string): StoredQueueConfig {
    const config = this.#store.get(queue);
    if (config === null) {
      throw errors.queueNotFound(queue);
    }
    return config;
  }

  #streamTarget(queue: string): StreamTarget {
    const config = this.#require(queue);
    return { name: queue, topic: this.#names.queue(queue), partitions: config.partitions };
  }

  #deadLetterTarget(config: StoredQueueConfig) {
    return {
      name: config.name,
      topic: this.#names.queue(config.name),
      deadLetterTopic: this.#names.deadLetters(config.name),
      partitions: config.partitions,
    };
  }

  #checkOpen(operation: string): void {
    if (!this.#started || this.#closing !== null) {
      throw errors.engineUnavailable(operation, new Error('the engine is not started or already closed'));
    }
  }

  /** Runs an operation of the port: EvqErrors pass through, anything else is ENGINE_UNAVAILABLE. */
  async #run<T>(operation: string, run: () => Promise<T>): Promise<T> {
    this.#checkOpen(operation);
    try {
      return await run();
    } catch (error) {
      throw this.#toEngineError(operation, error);
    }
  }

  #toEngineError(operation: string, error: unknown) {
    if (isEvqError(error)) {
      return error;
    }
    if (isUnknownTopic(error)) {
      this.#logger.warn({ err: error, operation }, 'a topic of the queue is missing');
    } else {
      this.#logger.error({ err: error, operation }, 'kafka operation failed');
    }
    return errors.engineUnavailable(operation, error);
  }

  async #close(): Promise<void> {
    this.#shutdown.abort();
    await Promise.allSettled(this.#appends);
    await this.#batcher.close();
    this.#publisher.close();
    const membersStopped = await this.#workQueue.close();
    const storeStopped = this.#store.close();
    const recordsStopped = this.records.close();
    const noncesStopped = this.nonces.close();
    await this.#reader.close();
    await Promise.allSettled([membersStopped, storeStopped, recordsStopped, noncesStopped]);
    await Promise.allSettled([this.#producer.close(), this.#admin.close()]);
    this.#logger.info('kafka engine closed');
  }
}
