import { errors } from '../../errors.ts';
import type { DeadLetter, StoredMessage } from '../engine.ts';
import type { Partitioner } from '../partitioner.ts';
import type { LogReader } from './log-reader.ts';
import { decodeMessage, encodeMessage, messageHeaders, toNewMessage, type FetchedRecord, type RecordToProduce } from './message-codec.ts';
import type { ProduceBatcher } from './produce-batcher.ts';

/** Header names of the fields a dead-letter record adds to those of its message. */
const deadLetterHeaders = {
  group: 'evq-group',
  attempts: 'evq-attempts',
  lastError: 'evq-last-error',
  partition: 'evq-partition',
  offset: 'evq-offset',
  publishedAt: 'evq-published-at',
} as const;

/** The queue whose dead letters a call concerns. */
export interface DeadLetterTarget {
  name: string;
  topic: string;
  deadLetterTopic: string;
  partitions: number;
}

/** Builds the dead-letter record of a message; the record timestamp is when it was dead-lettered. */
export function encodeDeadLetter(
  topic: string,
  message: StoredMessage,
  group: string,
  attempts: number,
  lastError: string | null,
  now: number,
): RecordToProduce {
  const headers: Record<string, string> = {
    [deadLetterHeaders.group]: group,
    [deadLetterHeaders.attempts]: String(attempts),
    [deadLetterHeaders.partition]: String(message.partition),
    [deadLetterHeaders.offset]: String(message.offset),
    [deadLetterHeaders.publishedAt]: String(message.publishedAt.getTime()),
  };
  if (lastError !== null) {
    headers[deadLetterHeaders.lastError] = lastError;
  }
  return encodeMessage(topic, 0, toNewMessage(message), now, headers);
}

/** Returns the dead letter a record of the dead-letter topic stores, or null for a foreign record. */
export function decodeDeadLetter(queue: string, record: FetchedRecord): DeadLetter | null {
  const stored = decodeMessage(queue, record);
  const group = record.headers.get(deadLetterHeaders.group);
  if (stored === null || group === undefined) {
    return null;
  }
  const message: StoredMessage = {
    ...stored,
    partition: Number(record.headers.get(deadLetterHeaders.partition) ?? 0),
    offset: Number(record.headers.get(deadLetterHeaders.offset) ?? 0),
    publishedAt: new Date(Number(record.headers.get(deadLetterHeaders.publishedAt) ?? record.timestamp)),
  };
  return {
    message,
    group,
    attempts: Number(record.headers.get(deadLetterHeaders.attempts) ?? 0),
    lastError: record.headers.get(deadLetterHeaders.lastError) ?? null,
    deadLetteredAt: new Date(record.timestamp),
    // Sequences start at 1, so `after: 0` and `after: null` both list from the start.
    sequence: record.offset + 1,
  };
}

/** Lists dead letters after a sequence number (exclusive), oldest first. */
export async function listDeadLetters(
  reader: LogReader,
  target: DeadLetterTarget,
  after: number | null,
  limit: number,
): Promise<DeadLetter[]> {
  checkLimit(limit);
  if (after !== null && (!Number.isSafeInteger(after) || after < 0)) {
    throw errors.invalidInput('after', after, 'a non-negative integer sequence number or null');
  }
  const { earliest, latest } = await reader.offsets(target.deadLetterTopic);
  let offset = Math.max(after ?? 0, earliest[0] ?? 0);
  const end = latest[0] ?? 0;
  const found: DeadLetter[] = [];
  while (found.length < limit && offset < end) {
    const records = await reader.fetch([{ topic: target.deadLetterTopic, partition: 0, offset }], { maxWaitMs: 0 });
    if (records.length === 0) {
      break;
    }
    for (const record of records) {
      offset = record.offset + 1;
      const deadLetter = decodeDeadLetter(target.name, record);
      if (deadLetter !== null && found.length < limit) {
        found.push(deadLetter);
      }
    }
  }
  return found;
}

/**
 * Publishes up to `limit` of the oldest dead letters to the queue again, each marked for its
 * group only. Returns how many moved and the dead-letter offset below which the caller deletes
 * the records, which moves the topic's log start past them.
 *
 * NOTE: the republished record gets a new offset and shows in the stream again. A crash between
 * the publish and the deletion moves the same dead letters a second time.
 */
export async function redriveDeadLetters(
  reader: LogReader,
  batcher: ProduceBatcher,
  partitioner: Partitioner,
  target: DeadLetterTarget,
  limit: number,
): Promise<{ moved: number; deleteBefore: number }> {
  checkLimit(limit);
  const { earliest, latest } = await reader.offsets(target.deadLetterTopic);
  let offset = earliest[0] ?? 0;
  const end = latest[0] ?? 0;
  const records: RecordToProduce[] = [];
  let moved = 0;
  while (moved < limit && offset < end) {
    const fetched = await reader.fetch([{ topic: target.deadLetterTopic, partition: 0, offset }], { maxWaitMs: 0 });
    if (fetched.length === 0) {
      break;
    }
    for (const record of fetched) {
      if (moved === limit) {
        break;
      }
      offset = record.offset + 1;
      const deadLetter = decodeDeadLetter(target.name, record);
      if (deadLetter === null) {
        continue;
      }
      moved++;
      const message = deadLetter.message;
      const partition = partitioner.choose(target.name, message.key, target.partitions);
      records.push(
        encodeMessage(target.topic, partition, toNewMessage(message), Date.now(), {
          [messageHeaders.redriveGroup]: deadLetter.group,
        }),
      );
    }
  }
  await batcher.send('redrive', records);
  return { moved, deleteBefore: offset };
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw errors.invalidInput('limit', limit, 'a positive integer');
  }
}
