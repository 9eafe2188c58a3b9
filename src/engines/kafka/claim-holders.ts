/** One claim as the nonce topic stores it. */
export interface ClaimRecord {
  key: string;
  owner: string;
  /** When the claiming instance made the claim (the record timestamp), in Unix ms. */
  timestamp: number;
  windowMs: number;
}

/**
 * How far a claim's timestamp may lag behind the newest one read before pruning could change a
 * decision, in ms. Record timestamps come from the clocks of different instances, so they are not
 * in offset order.
 */
const clockSlackMs = 60_000;

/**
 * The claim that holds each key, decided from the claims in the order of the nonce topic. A claim
 * takes its key when no claim holds it or the holding claim is `windowMs` (the new claim's window)
 * or more older; otherwise it loses and leaves the holder as it was. Every instance that applies
 * the same records in the same order gets the same holders.
 */
export class ClaimHolders {
  /** Holders by key, in the order they took their keys. */
  readonly #holders = new Map<string, { owner: string; timestamp: number }>();
  #widestWindowMs = 0;
  #newestTimestamp = Number.NEGATIVE_INFINITY;

  get size(): number {
    return this.#holders.size;
  }

  /** Applies the next claim in topic order and returns the owner that holds its key afterwards. */
  apply(claim: ClaimRecord): string {
    this.#widestWindowMs = Math.max(this.#widestWindowMs, claim.windowMs);
    this.#newestTimestamp = Math.max(this.#newestTimestamp, claim.timestamp);
    const holder = this.#holders.get(claim.key);
    if (holder !== undefined && claim.timestamp - holder.timestamp < claim.windowMs) {
      return holder.owner;
    }
    // Deleting first moves the key to the end, which keeps the map in the order prune() expects.
    this.#holders.delete(claim.key);
    this.#holders.set(claim.key, { owner: claim.owner, timestamp: claim.timestamp });
    return claim.owner;
  }

  /**
   * Drops the holders that no later claim can lose to: those older than the widest window read so
   * far, counted back from the newest timestamp read, less a slack for clock differences.
   *
   * NOTE: a later claim with a wider window than any read so far, or a timestamp more than 60 s
   * behind the newest, may take a key whose holder was dropped although the holder's window has
   * not ended.
   */
  prune(): void {
    const cutoff = this.#newestTimestamp - this.#widestWindowMs - clockSlackMs;
    for (const [key, holder] of this.#holders) {
      // Holders are in the order they took their keys, so their timestamps mostly grow. Stopping
      // at the first holder to keep bounds the work. An expired holder behind it goes later.
      if (holder.timestamp > cutoff) {
        break;
      }
      this.#holders.delete(key);
    }
  }
}
