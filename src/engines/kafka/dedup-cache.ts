/** Partition, offset and time of the first message stored with an id. */
interface FirstAppend {
  partition: number;
  offset: number;
  appendedAt: number;
}

/** Default cap on remembered ids across all queues. */
const defaultMaxEntries = 1_000_000;

/**
 * Stores, per queue, where the first message with each id was appended within the dedup window.
 * The dedup indexes fill it from the queue topics, so it contains the ids that every evq
 * instance appended. Entries stay in insertion order, so expiry and eviction walk from the oldest.
 *
 * NOTE: when more than `maxEntries` ids fall inside the window, the oldest are forgotten early, and
 * a repeat of a forgotten id is stored again.
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

  /**
   * Stores where `id` was appended, unless an entry appended at or after `since` (Unix ms) already
   * exists: the first append within the window wins.
   */
  record(queue: string, id: string, partition: number, offset: number, appendedAt: number, since: number): void {
    let ids = this.#queues.get(queue);
    if (ids === undefined) {
      ids = new Map();
      this.#queues.set(queue, ids);
    }
    const existing = ids.get(id);
    if (existing !== undefined) {
      if (existing.appendedAt >= since) {
        return;
      }
      // Deleting first moves the new entry to the end, which keeps the map in insertion order.
      ids.delete(id);
      this.#size--;
    }
    ids.set(id, { partition, offset, appendedAt });
    this.#size++;
    if (this.#size > this.#maxEntries) {
      this.#evictOldest();
    }
  }

  /**
   * Drops the entries of `queue` appended before `cutoff` (Unix ms). Entries appended out of time
   * order may stay until the older ones in front of them expire, but `find` never returns them.
   */
  expireQueue(queue: string, cutoff: number): void {
    const ids = this.#queues.get(queue);
    if (ids === undefined) {
      return;
    }
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
