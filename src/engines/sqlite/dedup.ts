import type { SqliteContext } from './context.ts';

/** Partition and offset of the first message stored with an id. */
export interface FirstAppend {
  partition: number;
  offset: number;
}

interface DedupRow {
  queue_id: number;
  message_id: string;
  partition: number;
  offset: number;
  appended_at: number;
}

/** Max rows removed per sweep, which bounds how long one sweep blocks the event loop. */
const sweepChunk = 10_000;

/**
 * Finds message ids appended within the dedup window. The `dedup` table keeps one row per
 * appended id in time order; this index maps a 53-bit hash of each id to its row ids. A hash hit
 * is confirmed by reading the row, so hash collisions and rows of rolled-back transactions (whose
 * row ids SQLite hands out again) never count as duplicates.
 *
 * NOTE: the index contains every id of the widest window seen, at about 45 bytes per id (measured
 * with one million ids on Node 24), so a high publish rate with a long window costs memory.
 */
export class DedupIndex {
  /** Per queue id: id hash to dedup row id, or to several row ids when hashes collide. */
  readonly #queues = new Map<number, Map<number, number | number[]>>();
  #widestWindowMs = 0;

  /** Builds the index from the rows that survived the last run. */
  load(context: SqliteContext): void {
    this.#queues.clear();
    const rows = context.statement('SELECT dedup_id, queue_id, message_id FROM dedup ORDER BY dedup_id').iterate();
    for (const row of rows as Iterable<{ dedup_id: number; queue_id: number; message_id: string }>) {
      this.add(row.queue_id, row.message_id, row.dedup_id);
    }
  }

  /** Returns where `messageId` was first stored if it was appended at or after `since` (Unix ms). */
  find(context: SqliteContext, queueId: number, messageId: string, since: number): FirstAppend | undefined {
    const slot = this.#queues.get(queueId)?.get(hashId(messageId));
    if (slot === undefined) {
      return undefined;
    }
    for (const dedupId of typeof slot === 'number' ? [slot] : slot) {
      const row = context.get<DedupRow>(
        'SELECT queue_id, message_id, partition, offset, appended_at FROM dedup WHERE dedup_id = ?',
        dedupId,
      );
      if (row !== undefined && row.queue_id === queueId && row.message_id === messageId && row.appended_at >= since) {
        return { partition: row.partition, offset: row.offset };
      }
    }
    return undefined;
  }

  /** Stores a dedup row for a message appended at `now` (Unix ms) and indexes it. */
  record(
    context: SqliteContext,
    queueId: number,
    messageId: string,
    first: FirstAppend,
    now: number,
    windowMs: number,
  ): void {
    const dedupId = context.insert(
      'INSERT INTO dedup (queue_id, message_id, partition, offset, appended_at) VALUES (?, ?, ?, ?, ?)',
      queueId,
      messageId,
      first.partition,
      first.offset,
      now,
    );
    this.#widestWindowMs = Math.max(this.#widestWindowMs, windowMs);
    this.add(queueId, messageId, dedupId);
  }

  add(queueId: number, messageId: string, dedupId: number): void {
    let ids = this.#queues.get(queueId);
    if (ids === undefined) {
      ids = new Map();
      this.#queues.set(queueId, ids);
    }
    const hash = hashId(messageId);
    const slot = ids.get(hash);
    // Deleting first moves the entry to the end, which keeps each map in row-id order for sweep().
    ids.delete(hash);
    if (slot === undefined) {
      ids.set(hash, dedupId);
    } else {
      ids.set(hash, [...(typeof slot === 'number' ? [slot] : slot), dedupId]);
    }
  }

  /**
   * Deletes rows older than the widest window that `record` was given since start, one bounded
   * chunk per call, and returns whether expired rows may remain. Rows of a previous run stay until
   * the first append sets the widest window.
   */
  sweep(context: SqliteContext): boolean {
    if (this.#widestWindowMs === 0) {
      return false;
    }
    const cutoff = context.now() - this.#widestWindowMs;
    const oldest = context.get<{ dedup_id: number }>('SELECT dedup_id FROM dedup ORDER BY dedup_id LIMIT 1');
    if (oldest === undefined) {
      return false;
    }
    const live = context.get<{ dedup_id: number }>(
      'SELECT dedup_id FROM dedup WHERE dedup_id < ? AND appended_at >= ? ORDER BY dedup_id LIMIT 1',
      oldest.dedup_id + sweepChunk,
      cutoff,
    );
    const end = live?.dedup_id ?? oldest.dedup_id + sweepChunk;
    context.run('DELETE FROM dedup WHERE dedup_id < ?', end);
    this.#forgetBelow(end);
    return live === undefined;
  }

  /** Drops a deleted queue's entries. */
  forgetQueue(queueId: number): void {
    this.#queues.delete(queueId);
  }

  /** Drops entries of rows below `end`, walking each map from its oldest entry. */
  #forgetBelow(end: number): void {
    for (const ids of this.#queues.values()) {
      for (const [hash, slot] of ids) {
        if (typeof slot === 'number') {
          if (slot >= end) {
            break;
          }
          ids.delete(hash);
          continue;
        }
        const remaining = slot.filter((dedupId) => dedupId >= end);
        if (remaining.length === 0) {
          ids.delete(hash);
          continue;
        }
        ids.set(hash, remaining.length === 1 ? remaining[0]! : remaining);
        break;
      }
    }
  }
}

/** Returns a 53-bit hash of an id from two 32-bit FNV-1a variants over its UTF-16 code units. */
function hashId(id: string): number {
  let high = 0x811c9dc5;
  let low = 0x050c5d1f;
  for (let index = 0; index < id.length; index++) {
    const code = id.charCodeAt(index);
    high = Math.imul(high ^ code, 0x01000193);
    low = Math.imul(low ^ code, 0x5bd1e995);
  }
  return (high >>> 0) * 0x200000 + ((low >>> 0) >>> 11);
}
