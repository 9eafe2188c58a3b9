/**
 * A bounded set of message ids that evicts the least recently used id when it is full. The
 * subscriber and the worker use it to skip a message id they already handed to the caller.
 */
export class DedupCache {
  readonly maxSize: number;
  // A Map iterates in insertion order, so re-inserting an id on use keeps the oldest first.
  readonly #ids = new Map<string, true>();

  /** `maxSize` is the number of ids kept, 10 000 by default. */
  constructor(maxSize = 10_000) {
    if (!Number.isSafeInteger(maxSize) || maxSize < 1) throw new RangeError(`Invalid maxSize ${maxSize}; expected a positive integer.`);
    this.maxSize = maxSize;
  }

  get size(): number {
    return this.#ids.size;
  }

  /** Returns whether the id is in the cache, and marks it as used. */
  has(id: string): boolean {
    if (!this.#ids.has(id)) return false;
    this.#ids.delete(id);
    this.#ids.set(id, true);
    return true;
  }

  /** Adds the id as the most recently used, evicting the least recently used id when full. */
  add(id: string): void {
    this.#ids.delete(id);
    this.#ids.set(id, true);
    if (this.#ids.size > this.maxSize) {
      const oldest = this.#ids.keys().next().value as string;
      this.#ids.delete(oldest);
    }
  }

  delete(id: string): boolean {
    return this.#ids.delete(id);
  }
}
