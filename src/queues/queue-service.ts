import { EventEmitter } from 'node:events';
import type { Limits } from '../config.ts';
import type {
  AckOutcome,
  DeadLetter,
  Engine,
  Lease,
  Position,
  QueueConfig,
  QueueSettings,
  QueueStats,
  ReadStart,
  StoredMessage,
} from '../engines/engine.ts';
import { EvqError, errors } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { type MessageSignature, producerHeaders } from '../signing/message-seal.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { MessageIntegrity } from './message-integrity.ts';
import {
  type PublishInput,
  validateInteger,
  validateKey,
  validateName,
  validatePublishInput,
  validateQueueSettings,
} from './validation.ts';

/** A stored message with the cursor right after it, as clients see it. */
export interface MessageView extends StoredMessage {
  /** Null for work-queue deliveries, which are not read from a stream position. */
  cursor: string | null;
  /** evq's signature, for consumers that verify it with the JWKS; null for records stored without one. */
  signature: MessageSignature | null;
}

export interface PublishResult {
  id: string;
  queue: string;
  cursor: string;
  duplicate: boolean;
  partition: number;
  offset: number;
}

export interface PollResult {
  messages: MessageView[];
  cursor: string;
}

export interface DeliveryView extends Omit<Lease, 'message'> {
  message: MessageView;
}

export interface QueueStatsView extends QueueStats {
  /** Open `messages` and `deliveries` subscriptions on this evq instance. */
  consumers: number;
}

/** Start of a stream read, as the API takes it. */
export interface StreamStart {
  after?: string | null;
  from?: 'EARLIEST' | 'LATEST' | null;
}

export interface QueueServiceOptions {
  engine: Engine;
  /** Producer signatures and evq's seal on publish, seal checks on delivery. */
  integrity: MessageIntegrity;
  limits: Limits;
  logger: Logger;
  metrics: Metrics;
}

/**
 * The queue service: every API layer (GraphQL, REST, CLI) calls it, and it alone calls the
 * engine. It validates input against the limits, encodes cursors and counts metrics.
 */
export class QueueService {
  readonly engine: Engine;
  readonly limits: Limits;
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  readonly #integrity: MessageIntegrity;
  /**
   * Emits `settled` after an ack or nack and `extended` after extendVisibility made through this
   * instance, so `deliveries` subscriptions can count their unacked leases.
   */
  readonly leaseEvents = new EventEmitter<{ settled: [receipt: string]; extended: [receipt: string, visibleUntil: Date] }>();
  readonly #consumers = new Map<string, number>();
  readonly #latestPositions = new Map<string, Promise<Position>>();

  constructor(options: QueueServiceOptions) {
    this.engine = options.engine;
    this.#integrity = options.integrity;
    this.limits = options.limits;
    this.#logger = options.logger.child({ component: 'queue-service' });
    this.#metrics = options.metrics;
    this.leaseEvents.setMaxListeners(0);
  }

  async createQueue(name: string, settings: QueueSettings): Promise<QueueConfig> {
    validateName('queue', name);
    const config = await this.engine.createQueue(name, validateQueueSettings(settings, this.limits, true));
    this.#logger.info({ queue: name }, 'queue created');
    return config;
  }

  async updateQueue(name: string, settings: QueueSettings): Promise<QueueConfig> {
    validateName('queue', name);
    return this.engine.updateQueue(name, validateQueueSettings(settings, this.limits, false));
  }

  async deleteQueue(name: string): Promise<boolean> {
    validateName('queue', name);
    const deleted = await this.engine.deleteQueue(name);
    if (deleted) this.#logger.info({ queue: name }, 'queue deleted');
    return deleted;
  }

  async getQueue(name: string): Promise<QueueConfig | null> {
    validateName('queue', name);
    return this.engine.getQueue(name);
  }

  /** Returns the queue's config or throws QUEUE_NOT_FOUND. */
  async requireQueue(name: string): Promise<QueueConfig> {
    const queue = await this.getQueue(name);
    if (!queue) throw errors.queueNotFound(name);
    return queue;
  }

  async listQueues(prefix?: string | null): Promise<QueueConfig[]> {
    if (prefix) validateName('prefix', prefix);
    return this.engine.listQueues(prefix ?? '');
  }

  async stats(queue: string, group = 'default'): Promise<QueueStatsView> {
    validateName('group', group);
    const stats = await this.engine.stats(queue, group);
    return { ...stats, consumers: this.#consumers.get(queue) ?? 0 };
  }

  async purgeQueue(name: string): Promise<void> {
    validateName('queue', name);
    await this.engine.purgeQueue(name);
    this.#logger.info({ queue: name }, 'queue purged');
  }

  /** Publishes one message; see publishBatch. */
  async publish(queue: string, input: PublishInput, producer: string | null): Promise<PublishResult> {
    const [result] = await this.#publishValidated(queue, [input], producer, false);
    return result!;
  }

  /**
   * Validates every message first, so a batch with one bad message stores nothing, then appends
   * them in order and returns one result per message.
   */
  async publishBatch(queue: string, inputs: PublishInput[], producer: string | null): Promise<PublishResult[]> {
    if (!Array.isArray(inputs) || inputs.length === 0) {
      throw errors.invalidInput('messages', inputs, 'a list of 1 or more messages');
    }
    if (inputs.length > this.limits.maxBatchSize) {
      throw errors.outOfRange('messages.length', inputs.length, 1, this.limits.maxBatchSize);
    }
    return this.#publishValidated(queue, inputs, producer, true);
  }

  async #publishValidated(
    queue: string,
    inputs: PublishInput[],
    producer: string | null,
    batch: boolean,
  ): Promise<PublishResult[]> {
    validateName('queue', queue);
    const config = await this.requireQueue(queue);
    const now = Date.now();
    const messages = inputs.map((input, index) =>
      validatePublishInput(input, config, this.limits, producer, now, batch ? index : undefined),
    );
    const sealed = await this.#integrity.prepare(config, inputs, messages, now);
    // A verbatim retry of a signed message passes the nonce check, so only its id stops it from
    // being stored twice. The id must therefore be remembered as long as the signature is accepted.
    const signed = inputs.some((input) => input.signature != null);
    const dedupWindowMs = Math.max(this.limits.dedupWindowSeconds, signed ? this.#integrity.signatureWindowSeconds : 0) * 1000;

    const started = performance.now();
    const results = await this.engine.append(queue, sealed, dedupWindowMs);
    this.#metrics.publishSeconds.observe({ queue }, (performance.now() - started) / 1000);

    const stored = results.filter((result) => !result.duplicate).length;
    if (stored > 0) this.#metrics.published.inc({ queue }, stored);
    if (stored < results.length) this.#metrics.duplicates.inc({ queue }, results.length - stored);

    const base = config.partitions === 1 ? null : await this.#latestPosition(queue);
    return results.map((result) => {
      const position = base ? [...base] : [0];
      position[result.partition] = result.offset + 1;
      return {
        id: result.id,
        queue,
        cursor: encodeCursor(queue, position),
        duplicate: result.duplicate,
        partition: result.partition,
        offset: result.offset,
      };
    });
  }

  /**
   * Resolves the end of a queue's log for the cursors of publishes to queues with several
   * partitions. Concurrent publishes share one resolve, which costs a round trip on Kafka. A shared
   * result may predate a publish, so its cursor can replay a few messages of other partitions,
   * but it never skips one that was stored before the publish started.
   */
  #latestPosition(queue: string): Promise<Position> {
    let pending = this.#latestPositions.get(queue);
    if (pending === undefined) {
      pending = this.engine.resolve(queue, 'latest').finally(() => this.#latestPositions.delete(queue));
      this.#latestPositions.set(queue, pending);
    }
    return pending;
  }

  /** Turns an API start (cursor or EARLIEST/LATEST) into an engine start. `after` wins over `from`. */
  parseStart(queue: string, start: StreamStart, fallback: 'earliest' | 'latest'): ReadStart {
    if (start.after != null) return decodeCursor(queue, start.after);
    if (start.from === 'EARLIEST') return 'earliest';
    if (start.from === 'LATEST') return 'latest';
    return fallback;
  }

  /** Reads the stream without side effects, long-polling up to `waitSeconds` when nothing is there. */
  async poll(
    queue: string,
    options: { after?: string | null; limit?: number; waitSeconds?: number; key?: string | null; signal?: AbortSignal },
  ): Promise<PollResult> {
    validateName('queue', queue);
    const limit = validateInteger('limit', options.limit ?? 100, 1, this.limits.maxPollLimit);
    const waitSeconds = validateInteger('waitSeconds', options.waitSeconds ?? 0, 0, this.limits.maxWaitSeconds);
    const key = validateKey(options.key);
    const start = this.parseStart(queue, { after: options.after }, 'earliest');

    const result = await this.engine.read(queue, start, {
      limit,
      key,
      waitMs: waitSeconds * 1000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return {
      messages: this.#integrity.admitEntries(result.entries).map((entry) => this.view(entry.message, entry.after)),
      cursor: encodeCursor(queue, result.next),
    };
  }

  /** Leases up to `limit` messages to a receiver of `group`. */
  async receive(
    queue: string,
    options: {
      group?: string;
      limit?: number;
      waitSeconds?: number;
      visibilitySeconds?: number | null;
      signal?: AbortSignal;
    },
  ): Promise<DeliveryView[]> {
    validateName('queue', queue);
    const group = validateName('group', options.group ?? 'default');
    const limit = validateInteger('limit', options.limit ?? 1, 1, this.limits.maxReceiveLimit);
    const waitSeconds = validateInteger('waitSeconds', options.waitSeconds ?? 0, 0, this.limits.maxWaitSeconds);
    const config = await this.requireQueue(queue);
    const visibilitySeconds = this.validateVisibility(options.visibilitySeconds ?? config.visibilityTimeoutSeconds);

    const leases = await this.engine.receive(queue, group, {
      limit,
      visibilitySeconds,
      waitMs: waitSeconds * 1000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const admitted = await this.#integrity.admitLeases(queue, group, leases);
    if (admitted.length > 0) this.#metrics.delivered.inc({ queue, group }, admitted.length);
    return admitted.map((lease) => ({ ...lease, message: this.view(lease.message, null) }));
  }

  validateVisibility(seconds: unknown): number {
    return validateInteger('visibilitySeconds', seconds, this.limits.minVisibilitySeconds, this.limits.maxVisibilitySeconds);
  }

  async ack(queue: string, receipts: string[]): Promise<AckOutcome[]> {
    validateName('queue', queue);
    if (!Array.isArray(receipts) || receipts.length === 0 || receipts.length > this.limits.maxBatchSize) {
      throw errors.invalidInput('receipts', receipts, `a list of 1 to ${this.limits.maxBatchSize} receipts`);
    }
    await this.requireQueue(queue);
    const outcomes = await this.engine.ack(queue, receipts);
    const acked = outcomes.filter((outcome) => outcome.acked);
    if (acked.length > 0) this.#metrics.acked.inc({ queue }, acked.length);
    for (const outcome of acked) this.leaseEvents.emit('settled', outcome.receipt);
    return outcomes;
  }

  async nack(queue: string, receipt: string, delaySeconds = 0, error: string | null = null): Promise<void> {
    validateName('queue', queue);
    const config = await this.requireQueue(queue);
    validateInteger('delaySeconds', delaySeconds, 0, config.retentionSeconds);
    if (error != null && (typeof error !== 'string' || error.length > 8192)) {
      throw errors.invalidInput('error', error, 'a string of at most 8192 characters');
    }
    await this.engine.nack(queue, receipt, delaySeconds, error);
    this.#metrics.nacked.inc({ queue });
    this.leaseEvents.emit('settled', receipt);
  }

  async extendVisibility(queue: string, receipt: string, seconds: number): Promise<Date> {
    validateName('queue', queue);
    await this.requireQueue(queue);
    const visibleUntil = await this.engine.extendVisibility(queue, receipt, this.validateVisibility(seconds));
    this.leaseEvents.emit('extended', receipt, visibleUntil);
    return visibleUntil;
  }

  async deadLetters(queue: string, after: string | null | undefined, limit = 100): Promise<{ entries: DeadLetter[]; cursor: string | null }> {
    validateName('queue', queue);
    validateInteger('limit', limit, 1, this.limits.maxPollLimit);
    let afterSequence: number | null = null;
    if (after != null) {
      afterSequence = Number(after);
      if (!/^\d{1,15}$/.test(after) || !Number.isSafeInteger(afterSequence)) {
        throw errors.invalidInput('after', after, 'the cursor of a previous deadLetters page');
      }
    }
    await this.requireQueue(queue);
    const entries = await this.engine.deadLetters(queue, afterSequence, limit);
    const last = entries.at(-1);
    // The cursor moves past dropped entries too, so the next page does not return them again.
    return {
      entries: entries.filter((entry) => this.#integrity.admits(entry.message)),
      cursor: last ? String(last.sequence) : after ?? null,
    };
  }

  async redrive(queue: string, limit = 100): Promise<number> {
    validateName('queue', queue);
    validateInteger('limit', limit, 1, this.limits.maxBatchSize);
    await this.requireQueue(queue);
    const moved = await this.engine.redrive(queue, limit);
    this.#logger.info({ queue, moved }, 'dead letters redriven');
    return moved;
  }

  /** Counts an open subscription toward the queue's `consumers`; call the returned function on close. */
  trackConsumer(queue: string, kind: 'messages' | 'deliveries'): () => void {
    this.#consumers.set(queue, (this.#consumers.get(queue) ?? 0) + 1);
    this.#metrics.subscriptions.inc({ kind });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const count = (this.#consumers.get(queue) ?? 1) - 1;
      if (count === 0) this.#consumers.delete(queue);
      else this.#consumers.set(queue, count);
      this.#metrics.subscriptions.dec({ kind });
    };
  }

  /** Adds the client cursor to a stored message. */
  view(message: StoredMessage, after: Position | null): MessageView {
    return {
      ...message,
      headers: producerHeaders(message.headers),
      cursor: after ? encodeCursor(message.queue, after) : null,
      signature: this.#integrity.signatureOf(message),
    };
  }
}
