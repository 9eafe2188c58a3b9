import { errors, isEvqError } from '../../errors.ts';
import type { AckOutcome } from '../engine.ts';
import type { SqliteContext } from './context.ts';
import { moveToDeadLetters } from './dead-letters.ts';
import { deleteDelivery, findDelivery, visibilityExpiredError, type DeliveryRow } from './deliveries.ts';
import type { QueueRow } from './queues.ts';
import { decodeReceipt } from './receipts.ts';

/**
 * Returns the delivery that a receipt leases, or throws RECEIPT_INVALID when the receipt is
 * malformed, belongs to another queue, or its lease has expired or ended.
 */
export function requireLiveLease(context: SqliteContext, queue: QueueRow, receipt: string, now: number): DeliveryRow {
  const fields = decodeReceipt(receipt);
  if (fields === null) {
    throw errors.receiptInvalid(String(receipt), 'it is malformed');
  }
  const group = context.get<{ queue_id: number }>('SELECT queue_id FROM groups WHERE group_id = ?', fields.groupId);
  if (group?.queue_id !== queue.queue_id) {
    throw errors.receiptInvalid(receipt, `it does not belong to queue ${JSON.stringify(queue.name)}`);
  }
  const delivery = findDelivery(context, fields.groupId, fields.partition, fields.offset);
  if (delivery === undefined || delivery.leased !== 1 || delivery.lease_token !== fields.leaseToken) {
    throw errors.receiptInvalid(receipt, 'its lease has ended: the message was acked or nacked, or its visibility timeout expired');
  }
  if (delivery.available_at <= now) {
    throw errors.receiptInvalid(receipt, 'its lease has expired; receive the message again');
  }
  return delivery;
}

/**
 * Acks each receipt on its own. A bad receipt gets `acked: false` instead of an error, but storage
 * errors still throw.
 */
export function ackReceipts(context: SqliteContext, queue: QueueRow, receipts: readonly string[]): AckOutcome[] {
  const now = context.now();
  return receipts.map((receipt) => {
    try {
      deleteDelivery(context, requireLiveLease(context, queue, receipt, now));
      return { receipt, acked: true };
    } catch (error) {
      if (!isEvqError(error)) {
        throw error;
      }
      return { receipt, acked: false, error: error.message };
    }
  });
}

/**
 * Ends a lease, recording `error`. The message becomes ready after `delaySeconds`, or moves to the
 * dead-letter list when this was its last allowed attempt.
 */
export function nackReceipt(
  context: SqliteContext,
  queue: QueueRow,
  receipt: string,
  delaySeconds: number,
  error: string | null,
): void {
  if (!Number.isFinite(delaySeconds) || delaySeconds < 0) {
    throw errors.invalidInput('delaySeconds', delaySeconds, 'a non-negative number of seconds');
  }
  const now = context.now();
  const delivery = requireLiveLease(context, queue, receipt, now);
  if (delivery.attempt >= queue.max_attempts) {
    moveToDeadLetters(context, queue, delivery, delivery.attempt, error, now);
    return;
  }
  context.run(
    `UPDATE deliveries SET leased = 0, lease_token = NULL, available_at = ?, last_error = ?
     WHERE group_id = ? AND partition = ? AND offset = ?`,
    now + Math.round(delaySeconds * 1000),
    error,
    delivery.group_id,
    delivery.partition,
    delivery.offset,
  );
}

/** Sets a live lease to end `seconds` from now and returns the new end. */
export function extendLease(context: SqliteContext, queue: QueueRow, receipt: string, seconds: number): Date {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw errors.invalidInput('seconds', seconds, 'a non-negative number of seconds');
  }
  const now = context.now();
  const delivery = requireLiveLease(context, queue, receipt, now);
  const visibleUntil = now + Math.round(seconds * 1000);
  context.run(
    'UPDATE deliveries SET available_at = ? WHERE group_id = ? AND partition = ? AND offset = ?',
    visibleUntil,
    delivery.group_id,
    delivery.partition,
    delivery.offset,
  );
  return new Date(visibleUntil);
}

/**
 * Ends the group's leases that ran out by `now`. Each message becomes ready again, or a dead letter
 * when that lease was its last attempt.
 */
export function expireGroupLeases(context: SqliteContext, queue: QueueRow, groupId: number, now: number): void {
  const expired = context.all<DeliveryRow>(
    'SELECT * FROM deliveries WHERE group_id = ? AND leased = 1 AND available_at <= ?',
    groupId,
    now,
  );
  expireLeases(context, queue, expired, now);
}

/** Ends the expired leases of every group of the queue, like `expireGroupLeases`. */
export function expireQueueLeases(context: SqliteContext, queue: QueueRow, now: number): void {
  const expired = context.all<DeliveryRow>(
    `SELECT d.* FROM groups g JOIN deliveries d ON d.group_id = g.group_id
     WHERE g.queue_id = ? AND d.leased = 1 AND d.available_at <= ?`,
    queue.queue_id,
    now,
  );
  expireLeases(context, queue, expired, now);
}

function expireLeases(context: SqliteContext, queue: QueueRow, expired: DeliveryRow[], now: number): void {
  for (const delivery of expired) {
    if (delivery.attempt >= queue.max_attempts) {
      moveToDeadLetters(context, queue, delivery, delivery.attempt, visibilityExpiredError, now);
      continue;
    }
    context.run(
      `UPDATE deliveries SET leased = 0, lease_token = NULL, last_error = ?
       WHERE group_id = ? AND partition = ? AND offset = ?`,
      visibilityExpiredError,
      delivery.group_id,
      delivery.partition,
      delivery.offset,
    );
  }
}
