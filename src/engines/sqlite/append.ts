import { errors } from '../../errors.ts';
import type { AppendResult, NewMessage } from '../engine.ts';
import type { Partitioner } from '../partitioner.ts';
import type { SqliteContext } from './context.ts';
import type { DedupIndex } from './dedup.ts';
import type { QueueRow } from './queues.ts';
import { encodeHeaders } from './rows.ts';

const insertMessageSql = `INSERT INTO messages
  (queue_id, partition, offset, message_id, key, headers, data, producer, published_at, deliver_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * Stores messages in order inside the caller's transaction and returns one result per message.
 * A message whose id was appended at most `windowMs` ago, earlier in this batch included, gets the
 * first result with `duplicate: true` and is not stored. A window of 0 turns dedup off.
 */
export function appendMessages(
  context: SqliteContext,
  dedup: DedupIndex,
  partitioner: Partitioner,
  queue: QueueRow,
  messages: readonly NewMessage[],
  windowMs: number,
): AppendResult[] {
  const now = context.now();
  const nextOffsets = new Map<number, number>();
  const firstInBatch = new Map<string, AppendResult>();
  const results: AppendResult[] = [];

  for (const message of messages) {
    const deduplicate = windowMs > 0 && message.deduplicate !== false;
    if (deduplicate) {
      const first = firstInBatch.get(message.id) ?? dedup.find(context, queue.queue_id, message.id, now - windowMs);
      if (first !== undefined) {
        results.push({ id: message.id, partition: first.partition, offset: first.offset, duplicate: true });
        continue;
      }
    }

    const partition = partitioner.choose(queue.name, message.key, queue.partitions);
    const offset = nextOffsets.get(partition) ?? loadNextOffset(context, queue.queue_id, partition);
    nextOffsets.set(partition, offset + 1);
    context.run(
      insertMessageSql,
      queue.queue_id,
      partition,
      offset,
      message.id,
      message.key,
      encodeHeaders(message.headers),
      message.data,
      message.producer,
      now,
      message.deliverAt === null ? null : message.deliverAt.getTime(),
    );

    const result: AppendResult = { id: message.id, partition, offset, duplicate: false };
    if (deduplicate) {
      dedup.record(context, queue.queue_id, message.id, result, now, windowMs);
      firstInBatch.set(message.id, result);
    }
    results.push(result);
  }

  for (const [partition, nextOffset] of nextOffsets) {
    context.run(
      'UPDATE partitions SET next_offset = ? WHERE queue_id = ? AND partition = ?',
      nextOffset,
      queue.queue_id,
      partition,
    );
  }
  return results;
}

/** Throws BAD_USER_INPUT unless `windowMs` is a non-negative finite number. */
export function checkDedupWindow(windowMs: number): void {
  if (!Number.isFinite(windowMs) || windowMs < 0) {
    throw errors.invalidInput('dedupWindowMs', windowMs, 'a non-negative number of milliseconds');
  }
}

function loadNextOffset(context: SqliteContext, queueId: number, partition: number): number {
  const row = context.get<{ next_offset: number }>(
    'SELECT next_offset FROM partitions WHERE queue_id = ? AND partition = ?',
    queueId,
    partition,
  );
  if (row === undefined) {
    throw new Error(`Partition ${partition} of queue id ${queueId} has no row in the partitions table.`);
  }
  return row.next_offset;
}
