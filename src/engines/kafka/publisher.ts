import { errors } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { AppendResult, NewMessage } from '../engine.ts';
import { partitionForKey, type Partitioner } from '../partitioner.ts';
import { withTimeout } from './client-errors.ts';
import { DedupCache } from './dedup-cache.ts';
import { DedupIndex } from './dedup-index.ts';
import { LatestOffsets } from './latest-offsets.ts';
import type { LogReader } from './log-reader.ts';
import { encodeMessage, type RecordToProduce } from './message-codec.ts';
import type { ProduceBatcher } from './produce-batcher.ts';

interface Placement {
  partition: number;
  offset: number;
}

/** The queue an append writes to. */
export interface AppendTarget {
  name: string;
  topic: string;
  partitions: number;
  /** When the queue was created, in Unix ms, which distinguishes a queue created again under the same name. */
  createdAt: number;
}

/** How long an append may wait for the dedup index before it fails, in ms. */
const catchUpTimeoutMs = 10_000;
/** How often the publisher drops the indexes of queues that no publish used for their window, in ms. */
const idleSweepIntervalMs = 30_000;

/**
 * Appends messages to a queue topic through the shared produce batcher, with dedup by message id
 * across every evq instance that serves the topic.
 *
 * A message whose id came from its producer goes to the partition of its key or, without a key,
 * of its id, so a retry lands in the partition of the first append. Before appending such
 * messages, the publisher lists the topic's latest offsets and waits until the queue's dedup index
 * contains the ids up to them in those partitions. The ids of this instance's appends that the
 * broker has not acknowledged yet count too. Messages whose id the service generated skip all of
 * this and are spread round-robin.
 *
 * NOTE: two instances that append the same id at the same moment may both store it, because
 * neither has read the other's record before its own append. A retry with a key other than its
 * first append's may also be stored again, because the index then catches up another partition.
 */
export class Publisher {
  readonly #batcher: ProduceBatcher;
  readonly #partitioner: Partitioner;
  readonly #reader: LogReader;
  readonly #logger: Logger;
  readonly #dedup = new DedupCache();
  readonly #latestOffsets: LatestOffsets;
  /** Per queue, the index of its ids, created by the first append with a producer id. */
  readonly #indexes = new Map<string, DedupIndex>();
  /** Per queue and id, the append that the broker has not acknowledged yet and the record's index in it. */
  readonly #inFlight = new Map<string, Map<string, { placements: Promise<Placement[]>; index: number }>>();
  readonly #idleSweep: NodeJS.Timeout;

  constructor(batcher: ProduceBatcher, partitioner: Partitioner, reader: LogReader, logger: Logger) {
    this.#batcher = batcher;
    this.#partitioner = partitioner;
    this.#reader = reader;
    this.#logger = logger;
    this.#latestOffsets = new LatestOffsets(reader);
    this.#idleSweep = setInterval(() => this.#dropIdleIndexes(), idleSweepIntervalMs).unref();
  }

  async append(target: AppendTarget, messages: readonly NewMessage[], windowMs: number): Promise<AppendResult[]> {
    if (!Number.isFinite(windowMs) || windowMs < 0) {
      throw errors.invalidInput('dedupWindowMs', windowMs, 'a non-negative number of milliseconds');
    }
    const deduplicated = (message: NewMessage): boolean => windowMs > 0 && message.deduplicate !== false;
    const dedupPartitions = new Set(messages.filter(deduplicated).map((message) => dedupPartition(target, message)));
    if (dedupPartitions.size > 0) {
      await this.#catchUp(target, dedupPartitions, windowMs);
    }

    const now = Date.now();
    const records: RecordToProduce[] = [];
    const slots: (number | Placement | Promise<Placement | null>)[] = [];
    const firstInBatch = new Map<string, number>();

    for (const message of messages) {
      if (deduplicated(message)) {
        const earlier = this.#findEarlier(target.name, message.id, now - windowMs, firstInBatch);
        if (earlier !== undefined) {
          slots.push(earlier);
          continue;
        }
        firstInBatch.set(message.id, records.length);
      }
      const partition =
        message.deduplicate === false
          ? this.#partitioner.choose(target.name, message.key, target.partitions)
          : dedupPartition(target, message);
      slots.push(records.length);
      records.push(encodeMessage(target.topic, partition, message, now));
    }

    const sent = this.#batcher.send('append', records);
    const placements = sent.then((offsets) => {
      const stored = records.map((record, index) => ({ partition: record.partition, offset: offsets[index]! }));
      // Recording here, before the in-flight entries go, leaves no moment in which neither has an id.
      this.#recordOwn(target, firstInBatch, stored, now);
      return stored;
    });
    if (firstInBatch.size > 0) {
      this.#trackInFlight(target.name, firstInBatch, placements);
    }
    return this.#results(messages, slots, await placements);
  }

  /** Drops the index of a deleted queue. */
  forget(queue: string): void {
    this.#indexes.get(queue)?.stop();
    this.#indexes.delete(queue);
  }

  /** Stops every index; call it before closing the log reader. Idempotent. */
  close(): void {
    clearInterval(this.#idleSweep);
    for (const index of this.#indexes.values()) {
      index.stop();
    }
    this.#indexes.clear();
  }

  /**
   * Waits until the queue's index contains every id that the brokers had acknowledged in
   * `partitions` when this call began. An index that stops while this call waits (after a failed
   * fetch, say) is replaced once. Throws OperationTimeoutError after 10 s.
   */
  async #catchUp(target: AppendTarget, partitions: Set<number>, windowMs: number): Promise<void> {
    const deadline = performance.now() + catchUpTimeoutMs;
    const remainingMs = (): number => Math.max(deadline - performance.now(), 0);
    for (let attempt = 1; ; attempt++) {
      const index = this.#indexOf(target, windowMs);
      try {
        const ends = await withTimeout('listing the latest offsets', remainingMs(), this.#latestOffsets.get(target.topic));
        await index.reach(partitions, ends, remainingMs());
        return;
      } catch (error) {
        if (attempt > 1 || !index.stopped) {
          throw error;
        }
        this.#logger.debug({ err: error, queue: target.name }, 'the dedup index stopped during an append; starting a new one');
      }
    }
  }

  #indexOf(target: AppendTarget, windowMs: number): DedupIndex {
    let index = this.#indexes.get(target.name);
    if (index !== undefined && index.target.createdAt !== target.createdAt) {
      // The queue was deleted and created again, perhaps at another instance, so its ids are stale.
      index.stop();
    }
    if (index === undefined || index.stopped) {
      index = new DedupIndex(target, windowMs, this.#reader, this.#dedup, this.#logger);
      this.#indexes.set(target.name, index);
    }
    index.use(windowMs);
    return index;
  }

  /** Tells the queue's index, if there is one, about the records that this append stored. */
  #recordOwn(target: AppendTarget, firstInBatch: Map<string, number>, stored: Placement[], appendedAt: number): void {
    const index = this.#indexes.get(target.name);
    if (index === undefined || index.target.createdAt !== target.createdAt) {
      return;
    }
    for (const [id, recordIndex] of firstInBatch) {
      index.record(id, stored[recordIndex]!.partition, stored[recordIndex]!.offset, appendedAt);
    }
    index.skipOwn(stored);
    // An instance that is the only writer of a queue never reads it, so expiry happens here too.
    index.expire();
  }

  #dropIdleIndexes(): void {
    const now = Date.now();
    for (const [queue, index] of this.#indexes) {
      if (index.stopped || index.isIdle(now)) {
        index.stop();
        this.#indexes.delete(queue);
      }
    }
  }

  #findEarlier(
    queue: string,
    id: string,
    since: number,
    firstInBatch: Map<string, number>,
  ): number | Placement | Promise<Placement | null> | undefined {
    const earlier = firstInBatch.get(id) ?? this.#dedup.find(queue, id, since);
    if (earlier !== undefined) {
      return earlier;
    }
    const inFlight = this.#inFlight.get(queue)?.get(id);
    return inFlight?.placements.then(
      (stored) => stored[inFlight.index]!,
      () => null,
    );
  }

  #trackInFlight(queue: string, firstInBatch: Map<string, number>, placements: Promise<Placement[]>): void {
    let ids = this.#inFlight.get(queue);
    if (ids === undefined) {
      ids = new Map();
      this.#inFlight.set(queue, ids);
    }
    for (const [id, index] of firstInBatch) {
      ids.set(id, { placements, index });
    }
    const forget = (): void => {
      const current = this.#inFlight.get(queue);
      for (const id of firstInBatch.keys()) {
        if (current?.get(id)?.placements === placements) {
          current.delete(id);
        }
      }
      if (current?.size === 0) {
        this.#inFlight.delete(queue);
      }
    };
    placements.then(forget, forget);
  }

  async #results(
    messages: readonly NewMessage[],
    slots: (number | Placement | Promise<Placement | null>)[],
    stored: Placement[],
  ): Promise<AppendResult[]> {
    const results: AppendResult[] = [];
    for (let index = 0; index < messages.length; index++) {
      const slot = slots[index]!;
      const id = messages[index]!.id;
      if (typeof slot === 'number') {
        const placement = stored[slot]!;
        const duplicate = firstSlotOf(slots, slot) !== index;
        results.push({ id, ...placement, duplicate });
        continue;
      }
      const placement = await slot;
      if (placement === null) {
        // The earlier append of this id failed, so nothing was stored for it.
        throw errors.engineUnavailable('append', new Error(`the earlier append of message ${id} failed`));
      }
      results.push({ id, partition: placement.partition, offset: placement.offset, duplicate: true });
    }
    return results;
  }
}

/** Returns the index of the first slot that points at record `recordIndex`. */
function firstSlotOf(slots: readonly unknown[], recordIndex: number): number {
  return slots.indexOf(recordIndex);
}

/**
 * Returns the partition of a message whose id came from its producer: the partition of its key,
 * or of its id when it has no key, so every retry of it goes to one partition.
 */
function dedupPartition(target: AppendTarget, message: NewMessage): number {
  return partitionForKey(message.key ?? message.id, target.partitions);
}
