import type { Lease } from '../engine.ts';
import type { SqliteContext } from './context.ts';
import { moveToDeadLetters } from './dead-letters.ts';
import { deleteDelivery, ensureGroup, loadDeliveryMessage, type DeliveryRow, type GroupRow } from './deliveries.ts';
import { expireGroupLeases } from './leases.ts';
import type { QueueRow } from './queues.ts';
import { encodeReceipt, newLeaseToken } from './receipts.ts';
import { messageColumns, toStoredMessage, type MessageRow } from './rows.ts';

/** The leases of one receive pass, and the moment the group's next delayed message or lease is due. */
export interface ReceiveOutcome {
  leases: Lease[];
  /** Unix ms of the earliest future moment a message of the group may become ready; null if none. */
  nextDueAt: number | null;
}

/** The moment and length of the leases that one receive pass hands out. */
interface LeaseTerms {
  now: number;
  visibleUntil: number;
}

/**
 * Leases up to `limit` ready messages of the queue to `groupName`, creating the group on first use.
 * Retries (expired leases, nacks, redriven messages) come first, then messages the group has not
 * taken yet in publish order. A message whose `deliverAt` lies ahead is set aside as a delayed
 * delivery, so it never holds up the messages behind it.
 */
export function receiveMessages(
  context: SqliteContext,
  queue: QueueRow,
  groupName: string,
  limit: number,
  visibilityMs: number,
): ReceiveOutcome {
  const now = context.now();
  const terms = { now, visibleUntil: now + visibilityMs };
  const group = ensureGroup(context, queue, groupName);
  expireGroupLeases(context, queue, group.group_id, now);

  const leases = leaseRetries(context, queue, group, limit, terms);
  if (leases.length < limit) {
    leases.push(...leaseNewMessages(context, queue, group, limit - leases.length, terms));
  }
  return { leases, nextDueAt: leases.length > 0 ? null : findNextDueAt(context, group.group_id, now) };
}

/** Leases ready rows of `deliveries`, oldest ready moment first. */
function leaseRetries(
  context: SqliteContext,
  queue: QueueRow,
  group: GroupRow,
  limit: number,
  terms: LeaseTerms,
): Lease[] {
  const ready = context.all<DeliveryRow>(
    `SELECT * FROM deliveries WHERE group_id = ? AND leased = 0 AND available_at <= ?
     ORDER BY available_at LIMIT ?`,
    group.group_id,
    terms.now,
    limit,
  );
  const leases: Lease[] = [];
  for (const delivery of ready) {
    const message = loadDeliveryMessage(context, queue.queue_id, delivery);
    if (message === undefined) {
      deleteDelivery(context, delivery);
      continue;
    }
    const attempt = delivery.attempt + 1;
    // Reachable only when updateQueue lowered maxAttempts below the attempts already made.
    if (attempt > queue.max_attempts) {
      moveToDeadLetters(context, queue, delivery, delivery.attempt, delivery.last_error, terms.now);
      continue;
    }
    const leaseToken = newLeaseToken();
    context.run(
      `UPDATE deliveries SET leased = 1, attempt = ?, lease_token = ?, available_at = ?
       WHERE group_id = ? AND partition = ? AND offset = ?`,
      attempt,
      leaseToken,
      terms.visibleUntil,
      group.group_id,
      delivery.partition,
      delivery.offset,
    );
    leases.push(toLease(queue, group, message, attempt, leaseToken, terms));
  }
  return leases;
}

/**
 * Takes messages past the group's next offsets in publish order: leases the ready ones and sets
 * aside those whose `deliverAt` lies ahead. Moves each partition's next offset past what it took.
 */
function leaseNewMessages(
  context: SqliteContext,
  queue: QueueRow,
  group: GroupRow,
  limit: number,
  terms: LeaseTerms,
): Lease[] {
  const nextOffsets = context
    .all<{ next_offset: number }>(
      'SELECT next_offset FROM group_partitions WHERE group_id = ? ORDER BY partition',
      group.group_id,
    )
    .map((row) => row.next_offset);
  const leases: Lease[] = [];
  let moved = false;

  while (leases.length < limit) {
    const candidates = nextOffsets
      .flatMap((offset, partition) =>
        context.all<MessageRow>(
          `SELECT ${messageColumns} FROM messages WHERE queue_id = ? AND partition = ? AND offset >= ?
           ORDER BY offset LIMIT ?`,
          queue.queue_id,
          partition,
          offset,
          limit - leases.length,
        ),
      )
      .sort((a, b) => a.seq - b.seq);
    if (candidates.length === 0) {
      break;
    }
    for (const message of candidates) {
      if (leases.length === limit) {
        break;
      }
      nextOffsets[message.partition] = message.offset + 1;
      moved = true;
      const lease = takeMessage(context, queue, group, message, terms);
      if (lease !== null) {
        leases.push(lease);
      }
    }
  }

  if (moved) {
    nextOffsets.forEach((offset, partition) => {
      context.run(
        'UPDATE group_partitions SET next_offset = ? WHERE group_id = ? AND partition = ?',
        offset,
        group.group_id,
        partition,
      );
    });
  }
  return leases;
}

/** Inserts the group's delivery row for a message: leased now, or waiting for its `deliverAt`. */
function takeMessage(
  context: SqliteContext,
  queue: QueueRow,
  group: GroupRow,
  message: MessageRow,
  terms: LeaseTerms,
): Lease | null {
  const insertSql = `INSERT INTO deliveries (group_id, partition, offset, seq, attempt, leased, lease_token,
    available_at, last_error, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)`;
  if (message.deliver_at !== null && message.deliver_at > terms.now) {
    const { partition, offset, seq } = message;
    context.run(insertSql, group.group_id, partition, offset, seq, 0, 0, null, message.deliver_at);
    return null;
  }
  const leaseToken = newLeaseToken();
  context.run(
    insertSql,
    group.group_id,
    message.partition,
    message.offset,
    message.seq,
    1,
    1,
    leaseToken,
    terms.visibleUntil,
  );
  return toLease(queue, group, message, 1, leaseToken, terms);
}

/** Returns the earliest future moment a delayed, nacked or leased message of the group is due. */
function findNextDueAt(context: SqliteContext, groupId: number, now: number): number | null {
  // One indexed lookup per lease state; min() over both states would scan every future row.
  const dueTimes = [0, 1].flatMap((leased) => {
    const row = context.get<{ available_at: number }>(
      `SELECT available_at FROM deliveries WHERE group_id = ? AND leased = ? AND available_at > ?
       ORDER BY available_at LIMIT 1`,
      groupId,
      leased,
      now,
    );
    return row === undefined ? [] : [row.available_at];
  });
  return dueTimes.length === 0 ? null : Math.min(...dueTimes);
}

function toLease(
  queue: QueueRow,
  group: GroupRow,
  message: MessageRow,
  attempt: number,
  leaseToken: number,
  terms: LeaseTerms,
): Lease {
  return {
    receipt: encodeReceipt({
      groupId: group.group_id,
      partition: message.partition,
      offset: message.offset,
      leaseToken,
    }),
    group: group.name,
    attempt,
    visibleUntil: new Date(terms.visibleUntil),
    message: toStoredMessage(queue.name, message),
  };
}
