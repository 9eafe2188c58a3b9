import type { SqliteContext } from './context.ts';
import { loadPartitionStates, type QueueRow } from './queues.ts';

/** Max offsets that one sweep examines per partition, which bounds how long it blocks the event loop. */
const retentionChunk = 10_000;

/**
 * Deletes a queue's messages older than its retention and returns how many it deleted. Deletion
 * runs from the low end of each partition up to the first message still retained, so retained
 * offsets stay contiguous even if the clock stepped back. Unacked deliveries of deleted messages
 * go too; redriven ones keep their own copy. One call examines a bounded chunk of each
 * partition. `more` is true when expired messages may remain for another call.
 */
export function applyRetention(context: SqliteContext, queue: QueueRow): { deleted: number; more: boolean } {
  const cutoff = context.now() - queue.retention_seconds * 1000;
  const states = loadPartitionStates(context, queue.queue_id);
  let deleted = 0;
  let more = false;

  states.forEach((state, partition) => {
    if (state.earliest >= state.next) {
      return;
    }
    const scanEnd = Math.min(state.earliest + retentionChunk, state.next);
    const firstRetained = context.get<{ offset: number }>(
      `SELECT offset FROM messages WHERE queue_id = ? AND partition = ? AND offset >= ? AND offset < ?
         AND published_at >= ? ORDER BY offset LIMIT 1`,
      queue.queue_id,
      partition,
      state.earliest,
      scanEnd,
      cutoff,
    );
    const newEarliest = firstRetained?.offset ?? scanEnd;
    more ||= firstRetained === undefined && scanEnd < state.next;
    if (newEarliest === state.earliest) {
      return;
    }
    deleted += context.run(
      'DELETE FROM messages WHERE queue_id = ? AND partition = ? AND offset < ?',
      queue.queue_id,
      partition,
      newEarliest,
    );
    context.run(
      'UPDATE partitions SET earliest_offset = ? WHERE queue_id = ? AND partition = ?',
      newEarliest,
      queue.queue_id,
      partition,
    );
    context.run(
      `DELETE FROM deliveries WHERE group_id IN (SELECT group_id FROM groups WHERE queue_id = ?)
         AND partition = ? AND offset < ? AND message IS NULL`,
      queue.queue_id,
      partition,
      newEarliest,
    );
  });
  return { deleted, more };
}
