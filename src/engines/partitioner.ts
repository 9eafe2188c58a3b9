/**
 * Chooses a partition for each message: a stable hash of the key, so messages with the same key
 * stay in one partition and keep their order, or round-robin for messages without a key.
 */

const encoder = new TextEncoder();

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Returns the 32-bit FNV-1a hash of the UTF-8 bytes of `text`, as an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/** Returns the partition of a key: the FNV-1a hash of its UTF-8 bytes modulo `partitions`. */
export function partitionForKey(key: string, partitions: number): number {
  return fnv1a32(key) % partitions;
}

/**
 * Spreads keyless messages over the partitions one by one, with a separate turn per queue.
 * The turns live in memory, so a restart begins again at partition 0.
 */
export class Partitioner {
  readonly #turns = new Map<string, number>();

  /** Returns the partition for a message of `queue`; `key` null means round-robin. */
  choose(queue: string, key: string | null, partitions: number): number {
    if (key !== null) {
      return partitionForKey(key, partitions);
    }
    const partition = (this.#turns.get(queue) ?? 0) % partitions;
    this.#turns.set(queue, partition + 1);
    return partition;
  }

  /** Drops the turn of a deleted queue. */
  forget(queue: string): void {
    this.#turns.delete(queue);
  }
}
