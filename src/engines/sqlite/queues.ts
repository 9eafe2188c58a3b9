import { errors } from '../../errors.ts';
import type { QueueConfig, QueueSettings } from '../engine.ts';
import { defaultQueueSettings, mergeQueueSettings } from '../queue-settings.ts';
import type { SqliteContext } from './context.ts';

/** A row of the `queues` table. */
export interface QueueRow {
  queue_id: number;
  name: string;
  partitions: number;
  retention_seconds: number;
  visibility_timeout_seconds: number;
  max_attempts: number;
  require_signature: number;
  created_at: number;
}

/** The next offset to assign and the earliest retained offset of one partition. */
export interface PartitionState {
  next: number;
  earliest: number;
}

/**
 * Committed queue rows by name, so the publish path does not query the `queues` table each time.
 * Rows are cached only outside a transaction, where reads see committed state, and every write to
 * a queue's row drops its entry first, so a rolled-back write cannot leave a stale row behind.
 */
const committedRows = new WeakMap<SqliteContext, Map<string, QueueRow>>();

function rowCache(context: SqliteContext): Map<string, QueueRow> {
  let cache = committedRows.get(context);
  if (cache === undefined) {
    cache = new Map();
    committedRows.set(context, cache);
  }
  return cache;
}

export function findQueue(context: SqliteContext, name: string): QueueRow | undefined {
  const cache = rowCache(context);
  const cached = cache.get(name);
  if (cached !== undefined) {
    return cached;
  }
  const row = context.get<QueueRow>('SELECT * FROM queues WHERE name = ?', name);
  if (row !== undefined && !context.db.isTransaction) {
    cache.set(name, row);
  }
  return row;
}

/** Returns the queue's row or throws QUEUE_NOT_FOUND. */
export function requireQueue(context: SqliteContext, name: string): QueueRow {
  const row = findQueue(context, name);
  if (row === undefined) {
    throw errors.queueNotFound(name);
  }
  return row;
}

export function toQueueConfig(row: QueueRow): QueueConfig {
  return {
    name: row.name,
    partitions: row.partitions,
    retentionSeconds: row.retention_seconds,
    visibilityTimeoutSeconds: row.visibility_timeout_seconds,
    maxAttempts: row.max_attempts,
    requireSignature: row.require_signature === 1,
    createdAt: new Date(row.created_at),
  };
}

/** Returns the offsets of every partition of a queue, indexed by partition number. */
export function loadPartitionStates(context: SqliteContext, queueId: number): PartitionState[] {
  return context.all<PartitionState>(
    'SELECT next_offset AS next, earliest_offset AS earliest FROM partitions WHERE queue_id = ? ORDER BY partition',
    queueId,
  );
}

/** Inserts a queue and its partitions. Throws QUEUE_EXISTS or BAD_USER_INPUT. */
export function insertQueue(context: SqliteContext, name: string, settings: QueueSettings): QueueRow {
  if (typeof name !== 'string' || name.length === 0) {
    throw errors.invalidInput('name', name, 'a non-empty string');
  }
  const merged = mergeQueueSettings(defaultQueueSettings, settings);
  rowCache(context).delete(name);
  if (findQueue(context, name) !== undefined) {
    throw errors.queueExists(name);
  }
  const queueId = context.insert(
    `INSERT INTO queues (name, partitions, retention_seconds, visibility_timeout_seconds, max_attempts,
       require_signature, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    name,
    merged.partitions,
    merged.retentionSeconds,
    merged.visibilityTimeoutSeconds,
    merged.maxAttempts,
    merged.requireSignature ? 1 : 0,
    context.now(),
  );
  for (let partition = 0; partition < merged.partitions; partition++) {
    context.run(
      'INSERT INTO partitions (queue_id, partition, next_offset, earliest_offset) VALUES (?, ?, 0, 0)',
      queueId,
      partition,
    );
  }
  return requireQueue(context, name);
}

/** Changes every setting but `partitions`, which may only repeat its value. */
export function updateQueueRow(context: SqliteContext, name: string, settings: QueueSettings): QueueRow {
  rowCache(context).delete(name);
  const row = requireQueue(context, name);
  const current = toQueueConfig(row);
  const merged = mergeQueueSettings(current, settings);
  if (merged.partitions !== row.partitions) {
    throw errors.invalidInput(
      'partitions',
      settings.partitions,
      `${row.partitions}, because the partition count is fixed when a queue is created`,
    );
  }
  context.run(
    `UPDATE queues SET retention_seconds = ?, visibility_timeout_seconds = ?, max_attempts = ?,
       require_signature = ? WHERE queue_id = ?`,
    merged.retentionSeconds,
    merged.visibilityTimeoutSeconds,
    merged.maxAttempts,
    merged.requireSignature ? 1 : 0,
    row.queue_id,
  );
  return requireQueue(context, name);
}

/** Deletes a queue with everything stored for it. Returns its row, or undefined when it did not exist. */
export function deleteQueueRows(context: SqliteContext, name: string): QueueRow | undefined {
  rowCache(context).delete(name);
  const row = findQueue(context, name);
  if (row === undefined) {
    return undefined;
  }
  const queueId = row.queue_id;
  const groupsOfQueue = 'SELECT group_id FROM groups WHERE queue_id = ?';
  context.run(`DELETE FROM deliveries WHERE group_id IN (${groupsOfQueue})`, queueId);
  context.run(`DELETE FROM group_partitions WHERE group_id IN (${groupsOfQueue})`, queueId);
  context.run('DELETE FROM groups WHERE queue_id = ?', queueId);
  context.run('DELETE FROM dead_letters WHERE queue_id = ?', queueId);
  context.run('DELETE FROM quarantine WHERE queue_id = ?', queueId);
  context.run('DELETE FROM dedup WHERE queue_id = ?', queueId);
  context.run('DELETE FROM messages WHERE queue_id = ?', queueId);
  context.run('DELETE FROM partitions WHERE queue_id = ?', queueId);
  context.run('DELETE FROM queues WHERE queue_id = ?', queueId);
  return row;
}

/**
 * Removes every message, lease, dead letter and quarantined record of a queue. Offsets keep
 * growing: each partition's earliest offset moves to its next offset, so a position at the old end
 * stays valid.
 */
export function purgeQueueRows(context: SqliteContext, name: string): void {
  const queueId = requireQueue(context, name).queue_id;
  const groupsOfQueue = 'SELECT group_id FROM groups WHERE queue_id = ?';
  context.run(`DELETE FROM deliveries WHERE group_id IN (${groupsOfQueue})`, queueId);
  context.run(
    `UPDATE group_partitions SET next_offset = (
       SELECT p.next_offset FROM partitions p, groups g
       WHERE g.group_id = group_partitions.group_id AND p.queue_id = g.queue_id
         AND p.partition = group_partitions.partition)
     WHERE group_id IN (${groupsOfQueue})`,
    queueId,
  );
  context.run('DELETE FROM dead_letters WHERE queue_id = ?', queueId);
  context.run('DELETE FROM quarantine WHERE queue_id = ?', queueId);
  context.run('DELETE FROM messages WHERE queue_id = ?', queueId);
  context.run('UPDATE partitions SET earliest_offset = next_offset WHERE queue_id = ?', queueId);
}

/** Returns the queues whose names start with `prefix`, sorted by name. */
export function listQueueRows(context: SqliteContext, prefix: string): QueueRow[] {
  const rows = context.all<QueueRow>('SELECT * FROM queues ORDER BY name');
  return prefix === '' ? rows : rows.filter((row) => row.name.startsWith(prefix));
}
