import { errors } from '../../errors.ts';
import type { Position, ReadEntry, ReadOptions, ReadResult, ReadStart, StoredMessage } from '../engine.ts';
import { resolvePosition } from '../request-checks.ts';
import { maxFetchWaitMs, type LogReader, type TopicOffsets } from './log-reader.ts';
import { decodeMessage, type FetchedRecord } from './message-codec.ts';

/** The queue that a stream read concerns. */
export interface StreamTarget {
  name: string;
  topic: string;
  partitions: number;
}

/** Bytes per partition that one read fetches at most; a read with a small limit needs less. */
const readBytesPerPartition = 1024 * 1024;

/**
 * Reads a queue topic from a position without a consumer group, merging partitions by publish
 * time. A read that finds nothing long-polls the broker, which responds as soon as any partition
 * receives a record.
 */
export class StreamReader {
  readonly #reader: LogReader;

  constructor(reader: LogReader) {
    this.#reader = reader;
  }

  /** Turns a start into a position. Throws like `read`. */
  async resolve(target: StreamTarget, start: ReadStart): Promise<Position> {
    return positionOf(target, start, await this.#reader.offsets(target.topic));
  }

  /**
   * Reads up to `limit` messages after `start`; with a key, skipped messages still move the
   * returned position. Throws CURSOR_EXPIRED before the log start offset and BAD_USER_INPUT for
   * a position with the wrong partition count or past the end.
   */
  async read(target: StreamTarget, start: ReadStart, options: ReadOptions): Promise<ReadResult> {
    const deadline = performance.now() + (options.waitMs ?? 0);
    const offsets = await this.#reader.offsets(target.topic);
    let position = positionOf(target, start, offsets);
    let available = offsets.latest.some((end, partition) => position[partition]! < end);

    for (;;) {
      const remaining = deadline - performance.now();
      const waitMs = available ? 0 : Math.max(Math.floor(remaining), 0);
      if (!available && waitMs === 0) {
        return { entries: [], next: position };
      }
      const records = await this.#fetch(target, position, waitMs, options.signal);
      const result = collect(target.name, position, records, options.limit, options.key);
      if (result.entries.length > 0 || options.signal?.aborted === true || deadline - performance.now() <= 0) {
        return result;
      }
      // Records that the key filter skipped mean more may follow at once; none means the wait ran out.
      available = records.length > 0;
      position = result.next;
    }
  }

  /**
   * Yields every message after `start` in batches until `signal` aborts or `isLive` turns false
   * (the queue was deleted).
   */
  async *tail(
    target: StreamTarget,
    start: ReadStart,
    signal: AbortSignal,
    isLive: () => boolean,
    batchSize: number,
  ): AsyncGenerator<ReadEntry[]> {
    let position = await this.resolve(target, start);
    while (!signal.aborted && isLive()) {
      const result = await this.read(target, position, { limit: batchSize, waitMs: maxFetchWaitMs, signal });
      position = result.next;
      if (result.entries.length > 0) {
        yield result.entries;
      }
    }
  }

  /** Fetches every partition from `position`; an abort ends the wait early with no records. */
  async #fetch(target: StreamTarget, position: Position, waitMs: number, signal?: AbortSignal): Promise<FetchedRecord[]> {
    const requests = position.map((offset, partition) => ({ topic: target.topic, partition, offset }));
    const fetch = this.#reader.fetch(requests, { maxWaitMs: waitMs, partitionMaxBytes: readBytesPerPartition });
    if (signal === undefined || waitMs === 0) {
      return fetch;
    }
    if (signal.aborted) {
      void fetch.catch(() => undefined);
      return [];
    }
    const { promise: aborted, resolve } = Promise.withResolvers<FetchedRecord[]>();
    const onAbort = (): void => resolve([]);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await Promise.race([fetch, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
      void fetch.catch(() => undefined);
    }
  }
}

/**
 * Takes records in publish-time order, moving the position past each, until `limit` messages
 * matched. Records after the last taken one stay unread.
 */
function collect(
  queue: string,
  start: Position,
  records: FetchedRecord[],
  limit: number,
  key: string | null | undefined,
): ReadResult {
  const ordered = [...records].sort(
    (a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset,
  );
  const cursor = [...start];
  const entries: ReadEntry[] = [];
  for (const record of ordered) {
    if (entries.length === limit) {
      break;
    }
    cursor[record.partition] = record.offset + 1;
    const message: StoredMessage | null = decodeMessage(queue, record);
    if (message === null || (key !== undefined && key !== null && message.key !== key)) {
      continue;
    }
    entries.push({ message, after: [...cursor] });
  }
  return { entries, next: cursor };
}

export function positionOf(target: StreamTarget, start: ReadStart, offsets: TopicOffsets): Position {
  return resolvePosition(target.name, start, offsets.earliest, offsets.latest);
}
