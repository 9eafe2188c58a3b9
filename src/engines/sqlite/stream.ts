import { errors } from '../../errors.ts';
import type { Position, ReadEntry, ReadResult, ReadStart } from '../engine.ts';
import { resolvePosition } from '../request-checks.ts';
import type { SqliteContext } from './context.ts';
import { loadPartitionStates, type PartitionState, type QueueRow } from './queues.ts';
import { messageColumns, toStoredMessage, type MessageRow } from './rows.ts';

/**
 * Offsets that a read with a key filter examines per partition. Bounding the scan keeps one read
 * short when the key is rare; the returned position still moves past what was examined.
 */
const keyScanWindow = 5000;

const readPartitionSql = `SELECT ${messageColumns} FROM messages
  WHERE queue_id = ? AND partition = ? AND offset >= ? AND offset < ? ORDER BY offset LIMIT ?`;
const readPartitionByKeySql = `SELECT ${messageColumns} FROM messages
  WHERE queue_id = ? AND partition = ? AND offset >= ? AND offset < ? AND key = ? ORDER BY offset LIMIT ?`;

/** Turns a start into a position of the queue. Throws like `readStream`. */
export function resolveStart(context: SqliteContext, queue: QueueRow, start: ReadStart): Position {
  return positionOf(queue, start, loadPartitionStates(context, queue.queue_id));
}

/**
 * Reads up to `limit` messages after `start`, merging the partitions in publish order, without
 * waiting. With a `key`, skipped messages still move the returned `next`. Throws CURSOR_EXPIRED for
 * a position before the earliest retained offset, and BAD_USER_INPUT for a position with the wrong
 * partition count or past the end.
 */
export function readStream(
  context: SqliteContext,
  queue: QueueRow,
  start: ReadStart,
  limit: number,
  key: string | null,
): ReadResult {
  const states = loadPartitionStates(context, queue.queue_id);
  const position = positionOf(queue, start, states);
  const scanEnds: number[] = [];
  const found: MessageRow[][] = [];

  for (let partition = 0; partition < states.length; partition++) {
    const from = position[partition]!;
    const end = key === null ? states[partition]!.next : Math.min(states[partition]!.next, from + keyScanWindow);
    scanEnds.push(end);
    if (from >= end) {
      found.push([]);
    } else if (key === null) {
      found.push(context.all<MessageRow>(readPartitionSql, queue.queue_id, partition, from, end, limit));
    } else {
      found.push(context.all<MessageRow>(readPartitionByKeySql, queue.queue_id, partition, from, end, key, limit));
    }
  }

  const chosen = found.flat().sort((a, b) => a.seq - b.seq).slice(0, limit);
  const cursor = [...position];
  const returnedCounts = new Array<number>(states.length).fill(0);
  const entries: ReadEntry[] = [];
  for (const row of chosen) {
    cursor[row.partition] = row.offset + 1;
    returnedCounts[row.partition]!++;
    entries.push({ message: toStoredMessage(queue.name, row), after: [...cursor] });
  }

  // A partition whose matches all fit in this read has nothing more before its scan end.
  for (let partition = 0; partition < states.length; partition++) {
    const rows = found[partition]!;
    if (rows.length < limit && returnedCounts[partition] === rows.length) {
      cursor[partition] = scanEnds[partition]!;
    }
  }
  return { entries, next: cursor };
}

function positionOf(queue: QueueRow, start: ReadStart, states: PartitionState[]): Position {
  return resolvePosition(
    queue.name,
    start,
    states.map((state) => state.earliest),
    states.map((state) => state.next),
  );
}
