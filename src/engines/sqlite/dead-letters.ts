import { errors } from '../../errors.ts';
import type { DeadLetter } from '../engine.ts';
import type { SqliteContext } from './context.ts';
import { deleteDelivery, loadDeliveryMessage, type DeliveryRow } from './deliveries.ts';
import type { QueueRow } from './queues.ts';
import { messageColumns, toStoredMessage, type MessageRow } from './rows.ts';

interface DeadLetterRow extends MessageRow {
  sequence: number;
  group_id: number;
  group_name: string;
  attempts: number;
  last_error: string | null;
  dead_lettered_at: number;
}

/**
 * Moves a delivery to the queue's dead-letter list with a copy of its message. A delivery whose
 * message retention has already removed is dropped, because there is nothing left to keep.
 */
export function moveToDeadLetters(
  context: SqliteContext,
  queue: QueueRow,
  delivery: DeliveryRow,
  attempts: number,
  lastError: string | null,
  now: number,
): void {
  const message = loadDeliveryMessage(context, queue.queue_id, delivery);
  deleteDelivery(context, delivery);
  if (message === undefined) {
    return;
  }
  context.run(
    `INSERT INTO dead_letters (queue_id, group_id, ${messageColumns}, attempts, last_error, dead_lettered_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    queue.queue_id,
    delivery.group_id,
    message.seq,
    message.partition,
    message.offset,
    message.message_id,
    message.key,
    message.headers,
    message.data,
    message.producer,
    message.published_at,
    message.deliver_at,
    attempts,
    lastError,
    now,
  );
}

/** Lists dead letters after a sequence number (exclusive), oldest first. */
export function listDeadLetters(
  context: SqliteContext,
  queue: QueueRow,
  after: number | null,
  limit: number,
): DeadLetter[] {
  checkLimit(limit);
  if (after !== null && !Number.isSafeInteger(after)) {
    throw errors.invalidInput('after', after, 'an integer sequence number or null');
  }
  const rows = context.all<DeadLetterRow>(
    `SELECT d.*, g.name AS group_name FROM dead_letters d JOIN groups g ON g.group_id = d.group_id
     WHERE d.queue_id = ? AND d.sequence > ? ORDER BY d.sequence LIMIT ?`,
    queue.queue_id,
    after ?? 0,
    limit,
  );
  return rows.map((row) => ({
    message: toStoredMessage(queue.name, row),
    group: row.group_name,
    attempts: row.attempts,
    lastError: row.last_error,
    deadLetteredAt: new Date(row.dead_lettered_at),
    sequence: row.sequence,
  }));
}

/**
 * Moves up to `limit` of the oldest dead letters back to their groups as ready messages with no
 * attempts yet. Each keeps a copy of its message, so retention cannot remove it before delivery.
 */
export function redriveDeadLetters(context: SqliteContext, queue: QueueRow, limit: number): number {
  checkLimit(limit);
  const now = context.now();
  const rows = context.all<DeadLetterRow>(
    'SELECT * FROM dead_letters WHERE queue_id = ? ORDER BY sequence LIMIT ?',
    queue.queue_id,
    limit,
  );
  for (const row of rows) {
    const copy: MessageRow = {
      seq: row.seq,
      partition: row.partition,
      offset: row.offset,
      message_id: row.message_id,
      key: row.key,
      headers: row.headers,
      data: row.data,
      producer: row.producer,
      published_at: row.published_at,
      deliver_at: row.deliver_at,
    };
    context.run(
      `INSERT INTO deliveries (group_id, partition, offset, seq, attempt, leased, lease_token, available_at,
         last_error, message) VALUES (?, ?, ?, ?, 0, 0, NULL, ?, NULL, ?)`,
      row.group_id,
      row.partition,
      row.offset,
      row.seq,
      now,
      JSON.stringify(copy),
    );
    context.run('DELETE FROM dead_letters WHERE sequence = ?', row.sequence);
  }
  return rows.length;
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw errors.invalidInput('limit', limit, 'a positive integer');
  }
}
