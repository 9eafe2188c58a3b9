import { errors } from '../../errors.ts';
import type { SqliteContext } from './context.ts';
import type { QueueRow } from './queues.ts';
import { messageColumns, type MessageRow } from './rows.ts';

/** A consumer group of a queue. */
export interface GroupRow {
  group_id: number;
  queue_id: number;
  name: string;
}

/** A row of `deliveries`: one message a group has taken and not yet acked or dead-lettered. */
export interface DeliveryRow {
  group_id: number;
  partition: number;
  offset: number;
  seq: number;
  /** Deliveries so far; 0 for a message that waits for its `deliverAt` or was redriven. */
  attempt: number;
  leased: number;
  lease_token: number | null;
  /** Unix ms: when the lease ends (leased) or when the message becomes ready (not leased). */
  available_at: number;
  last_error: string | null;
  /** JSON of a `MessageRow` for redriven messages; null means the row in `messages`. */
  message: string | null;
}

/** The note a dead letter carries when its last lease ran out instead of being nacked. */
export const visibilityExpiredError = 'visibility timeout expired';

export function findGroup(context: SqliteContext, queueId: number, name: string): GroupRow | undefined {
  return context.get<GroupRow>('SELECT * FROM groups WHERE queue_id = ? AND name = ?', queueId, name);
}

/**
 * Returns the group, creating it on first use. A new group starts at the earliest retained
 * offset of every partition, so it receives every retained message once.
 */
export function ensureGroup(context: SqliteContext, queue: QueueRow, name: string): GroupRow {
  if (typeof name !== 'string' || name.length === 0) {
    throw errors.invalidInput('group', name, 'a non-empty string');
  }
  const existing = findGroup(context, queue.queue_id, name);
  if (existing !== undefined) {
    return existing;
  }
  const groupId = context.insert('INSERT INTO groups (queue_id, name) VALUES (?, ?)', queue.queue_id, name);
  context.run(
    `INSERT INTO group_partitions (group_id, partition, next_offset)
     SELECT ?, partition, earliest_offset FROM partitions WHERE queue_id = ?`,
    groupId,
    queue.queue_id,
  );
  return { group_id: groupId, queue_id: queue.queue_id, name };
}

export function findDelivery(
  context: SqliteContext,
  groupId: number,
  partition: number,
  offset: number,
): DeliveryRow | undefined {
  return context.get<DeliveryRow>(
    'SELECT * FROM deliveries WHERE group_id = ? AND partition = ? AND offset = ?',
    groupId,
    partition,
    offset,
  );
}

export function deleteDelivery(context: SqliteContext, delivery: DeliveryRow): void {
  context.run(
    'DELETE FROM deliveries WHERE group_id = ? AND partition = ? AND offset = ?',
    delivery.group_id,
    delivery.partition,
    delivery.offset,
  );
}

/** Returns the delivered message, or undefined when retention has removed it. */
export function loadDeliveryMessage(
  context: SqliteContext,
  queueId: number,
  delivery: DeliveryRow,
): MessageRow | undefined {
  if (delivery.message !== null) {
    return JSON.parse(delivery.message) as MessageRow;
  }
  return context.get<MessageRow>(
    `SELECT ${messageColumns} FROM messages WHERE queue_id = ? AND partition = ? AND offset = ?`,
    queueId,
    delivery.partition,
    delivery.offset,
  );
}
