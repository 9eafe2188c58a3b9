/** Where the first message with an id was stored, and when. */
interface FirstAppend {
  partition: number;
  offset: number;
  appendedAt: number;
}

/** Default cap on remembered ids across all queues. */
const defaultMaxEntries = 1_000_000;

/**
 * Remembers the message ids that this instance appended, per queue, for the dedup window.
 * Entries stay in insertion order, so expiry and eviction walk from the oldest.
 *
 * NOTE: the cache is per instance and in memory. A retry that reaches another evq instance, or
 * this one after a restart, is stored again; a cluster-wide dedup would need a shared index
 * (for example a compacted topic keyed by message id) that no instance maintains yet. When more
 * than `maxEntries` ids fall inside the window, the oldest are forgotten early.
 */
export class DedupCache {
  readonly #queues = new Map<string, Map<string, FirstAppend>>();
  readonly #maxEntries: number;
  #size = 0;

  constructor(maxEntries = defaultMaxEntries) {
    this.#maxEntries = maxEntries;
  }

  /** Returns where `id` was first appended to `queue`, if that was at or after `since` (Unix ms). */
  find(queue: string, id: string, since: number): { partition: number; offset: number } | undefined {
    const first = this.#queues.get(queue)?.get(id);
    return first !== undefined && first.appendedAt >= since ? first : undefined;
  }

  record(queue: string, id: string, partition: number, offset: number, appendedAt: number): void {
    let ids = this.#queues.get(queue);
    if (ids === undefined) {
      ids = new Map();
      this.#queues.set(queue, ids);
    }
    if (!ids.has(id)) {
      this.#size++;
    }
    ids.set(id, { partition, offset, appendedAt });
    if (this.#size > this.#maxEntries) {
      this.#evictOldest();
    }
  }

  /** Drops entries appended before `cutoff` (Unix ms). */
  expire(cutoff: number): void {
    for (const [queue, ids] of this.#queues) {
      for (const [id, first] of ids) {
        if (first.appendedAt >= cutoff) {
          break;
        }
        ids.delete(id);
        this.#size--;
      }
      if (ids.size === 0) {
        this.#queues.delete(queue);
      }
    }
  }

  forgetQueue(queue: string): void {
    this.#size -= this.#queues.get(queue)?.size ?? 0;
    this.#queues.delete(queue);
  }

  #evictOldest(): void {
    let oldest: { ids: Map<string, FirstAppend>; id: string; at: number } | null = null;
    for (const ids of this.#queues.values()) {
      const first = ids.entries().next();
      if (!first.done && (oldest === null || first.value[1].appendedAt < oldest.at)) {
        oldest = { ids, id: first.value[0], at: first.value[1].appendedAt };
      }
    }
    if (oldest !== null) {
      oldest.ids.delete(oldest.id);
      this.#size--;
    }
  }
}
