import type { QueueStats } from '../engine.ts';
import type { SqliteContext } from './context.ts';
import { findGroup } from './deliveries.ts';
import { loadPartitionStates, type QueueRow } from './queues.ts';

interface DeliveryCounts {
  in_flight: number | null;
  expired_retry: number | null;
  ready: number | null;
  delayed: number | null;
}

/**
 * Counts a group's messages without writing. Leases that have run out but that no receive has
 * processed yet count as ready, or as dead-lettered when they were the last attempt, which is
 * where the next receive will put them. A group that has never received counts as new: every
 * retained message is ready or delayed.
 */
export function queueStats(context: SqliteContext, queue: QueueRow, groupName: string): QueueStats {
  const now = context.now();
  const states = loadPartitionStates(context, queue.queue_id);
  const published = states.reduce((sum, state) => sum + (state.next - state.earliest), 0);
  const deadLettered = countDeadLetters(context, queue, now);

  const group = findGroup(context, queue.queue_id, groupName);
  const takenUpTo =
    group === undefined
      ? states.map((state) => state.earliest)
      : context
          .all<{ next_offset: number }>(
            'SELECT next_offset FROM group_partitions WHERE group_id = ? ORDER BY partition',
            group.group_id,
          )
          .map((row) => row.next_offset);

  let untaken = 0;
  let delayedUntaken = 0;
  states.forEach((state, partition) => {
    const from = Math.max(takenUpTo[partition] ?? state.earliest, state.earliest);
    untaken += Math.max(state.next - from, 0);
    delayedUntaken += countDelayedMessages(context, queue.queue_id, partition, from, now);
  });

  const counts: DeliveryCounts =
    group === undefined
      ? { in_flight: 0, expired_retry: 0, ready: 0, delayed: 0 }
      : context.get<DeliveryCounts>(
          `SELECT sum(leased = 1 AND available_at > ?1) AS in_flight,
             sum(leased = 1 AND available_at <= ?1 AND attempt < ?2) AS expired_retry,
             sum(leased = 0 AND available_at <= ?1) AS ready,
             sum(leased = 0 AND available_at > ?1) AS delayed
           FROM deliveries WHERE group_id = ?3`,
          now,
          queue.max_attempts,
          group.group_id,
        )!;

  return {
    ready: (counts.ready ?? 0) + (counts.expired_retry ?? 0) + untaken - delayedUntaken,
    inFlight: counts.in_flight ?? 0,
    delayed: (counts.delayed ?? 0) + delayedUntaken,
    deadLettered,
    published,
  };
}

/** Counts the queue's dead letters, with the expired last-attempt leases that will join them. */
function countDeadLetters(context: SqliteContext, queue: QueueRow, now: number): number {
  const stored = context.get<{ count: number }>(
    'SELECT count(*) AS count FROM dead_letters WHERE queue_id = ?',
    queue.queue_id,
  )!.count;
  const pending = context.get<{ count: number }>(
    `SELECT count(*) AS count FROM groups g JOIN deliveries d ON d.group_id = g.group_id
     WHERE g.queue_id = ? AND d.leased = 1 AND d.available_at <= ? AND d.attempt >= ?`,
    queue.queue_id,
    now,
    queue.max_attempts,
  )!.count;
  return stored + pending;
}

function countDelayedMessages(
  context: SqliteContext,
  queueId: number,
  partition: number,
  fromOffset: number,
  now: number,
): number {
  return context.get<{ count: number }>(
    `SELECT count(*) AS count FROM messages
     WHERE queue_id = ? AND partition = ? AND offset >= ? AND deliver_at > ?`,
    queueId,
    partition,
    fromOffset,
    now,
  )!.count;
}
