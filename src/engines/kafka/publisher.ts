import { errors } from '../../errors.ts';
import type { AppendResult, NewMessage } from '../engine.ts';
import type { Partitioner } from '../partitioner.ts';
import type { DedupCache } from './dedup-cache.ts';
import type { LogReader } from './log-reader.ts';
import { encodeMessage, messageHeaders, type RecordToProduce } from './message-codec.ts';
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
}

/** Records per partition that the dedup warm-up reads at most. */
const maxWarmUpRecords = 200_000;

/**
 * Appends messages to a queue topic through the shared produce batcher, with dedup by message id
 * against the ids this instance appended within the window, in flight ones included. Before the
 * first append to a queue, it reads the ids stored within the window from the topic, so dedup
 * also works across a restart and for appends that other instances made before that moment.
 */
export class Publisher {
  readonly #batcher: ProduceBatcher;
  readonly #partitioner: Partitioner;
  readonly #dedup: DedupCache;
  readonly #reader: LogReader;
  /** Per queue, the warm-up of the dedup cache; it runs once per queue and window. */
  readonly #warmUps = new Map<string, { windowMs: number; done: Promise<void> }>();
  /** Per queue and id, the append that the broker has not acknowledged yet and the record's index in it. */
  readonly #inFlight = new Map<string, Map<string, { placements: Promise<Placement[]>; index: number }>>();

  constructor(batcher: ProduceBatcher, partitioner: Partitioner, dedup: DedupCache, reader: LogReader) {
    this.#reader = reader;
    this.#batcher = batcher;
    this.#partitioner = partitioner;
    this.#dedup = dedup;
  }

  async append(target: AppendTarget, messages: readonly NewMessage[], windowMs: number): Promise<AppendResult[]> {
    if (!Number.isFinite(windowMs) || windowMs < 0) {
      throw errors.invalidInput('dedupWindowMs', windowMs, 'a non-negative number of milliseconds');
    }
    if (windowMs > 0) {
      await this.#warmUp(target, windowMs);
    }
    const now = Date.now();
    const records: RecordToProduce[] = [];
    const slots: (number | Placement | Promise<Placement | null>)[] = [];
    const firstInBatch = new Map<string, number>();

    for (const message of messages) {
      if (windowMs > 0) {
        const earlier = this.#findEarlier(target.name, message.id, now - windowMs, firstInBatch);
        if (earlier !== undefined) {
          slots.push(earlier);
          continue;
        }
      }
      const partition = this.#partitioner.choose(target.name, message.key, target.partitions);
      firstInBatch.set(message.id, records.length);
      slots.push(records.length);
      records.push(encodeMessage(target.topic, partition, message, now));
    }

    const sent = this.#batcher.send('append', records);
    const placements = sent.then((offsets) =>
      records.map((record, index) => ({ partition: record.partition, offset: offsets[index]! })),
    );
    if (windowMs > 0) {
      this.#trackInFlight(target.name, firstInBatch, placements);
    }
    const stored = await placements;
    if (windowMs > 0) {
      firstInBatch.forEach((index, id) => this.#dedup.record(target.name, id, stored[index]!.partition, stored[index]!.offset, now));
    }
    return this.#results(messages, slots, stored);
  }

  /** Drops what the publisher remembers of a deleted queue. */
  forget(queue: string): void {
    this.#warmUps.delete(queue);
    this.#dedup.forgetQueue(queue);
  }

  #warmUp(target: AppendTarget, windowMs: number): Promise<void> {
    const previous = this.#warmUps.get(target.name);
    if (previous !== undefined && previous.windowMs >= windowMs) {
      return previous.done;
    }
    const done = this.#readStoredIds(target, windowMs).catch((error: unknown) => {
      this.#warmUps.delete(target.name);
      throw error;
    });
    this.#warmUps.set(target.name, { windowMs, done });
    return done;
  }

  /** Records in the dedup cache the id of every message stored within the window. */
  async #readStoredIds(target: AppendTarget, windowMs: number): Promise<void> {
    const since = Date.now() - windowMs;
    const [starts, { latest }] = await Promise.all([
      this.#reader.offsetsForTime(target.topic, since),
      this.#reader.offsets(target.topic),
    ]);
    for (let partition = 0; partition < latest.length; partition++) {
      const end = latest[partition] ?? 0;
      const first = starts[partition] ?? -1;
      let next = first < 0 ? end : first;
      while (next < end && next - first < maxWarmUpRecords) {
        const records = await this.#reader.fetch([{ topic: target.topic, partition, offset: next }], { maxWaitMs: 0 });
        if (records.length === 0) {
          break;
        }
        for (const record of records) {
          next = record.offset + 1;
          const id = record.headers.get(messageHeaders.id);
          if (id !== undefined && record.timestamp >= since && this.#dedup.find(target.name, id, since) === undefined) {
            this.#dedup.record(target.name, id, partition, record.offset, record.timestamp);
          }
        }
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
