import type { StoredMessage } from '../engine.ts';
import type { DeliveryState } from './journal.ts';

/** The note a dead letter carries when its last lease ran out instead of being nacked. */
export const visibilityExpiredError = 'visibility timeout expired';

/** One record of a partition that a group has fetched and not yet acked or dead-lettered. */
export interface Delivery {
  partition: number;
  offset: number;
  message: StoredMessage;
  /** Deliveries so far; 0 for a record never leased yet. */
  attempt: number;
  leased: boolean;
  token: number | null;
  /** Unix ms: the end of the lease when leased, else when the record becomes ready. */
  until: number;
  error: string | null;
  /** True when the record must move to the dead-letter topic at the next chance. */
  deadPending: boolean;
}

/**
 * In-memory state of the owner of one partition of a group: every fetched record that is not
 * done yet, in offset order, and the journal states of records it has not fetched yet.
 */
export class PartitionState {
  readonly partition: number;
  /** The next queue offset to fetch. */
  fetchNext: number;
  /** The next journal offset to read. */
  journalNext: number;
  /** The offset last committed for the group. */
  committed: number;
  /** Fetched records that are not done, by offset; insertion order is offset order. */
  readonly deliveries = new Map<number, Delivery>();
  /** Journal states of records at or above `fetchNext`, applied when those records arrive. */
  readonly replayed = new Map<number, DeliveryState>();

  constructor(partition: number, committed: number, journalNext: number) {
    this.partition = partition;
    this.committed = committed;
    this.fetchNext = committed;
    this.journalNext = journalNext;
  }

  /**
   * Takes a fetched record. Records below `fetchNext` were taken before and are skipped, so
   * overlapping fetches are harmless. `message` null means the group skips the record: one that
   * evq did not write, or one redriven for another group.
   */
  add(offset: number, message: StoredMessage | null): void {
    if (offset < this.fetchNext) {
      return;
    }
    this.fetchNext = offset + 1;
    const state = this.replayed.get(offset);
    this.replayed.delete(offset);
    if (message === null || state?.done !== undefined) {
      return;
    }
    const delivery: Delivery = {
      partition: this.partition,
      offset,
      message,
      attempt: state?.attempt ?? 0,
      leased: state?.leased ?? false,
      token: state?.token ?? null,
      until: state?.until ?? message.deliverAt?.getTime() ?? 0,
      error: state?.error ?? null,
      deadPending: false,
    };
    this.deliveries.set(offset, delivery);
  }

  /** Records the owner's or a replayed state for `offset`. */
  applyState(offset: number, state: DeliveryState): void {
    if (offset < this.committed) {
      return;
    }
    const delivery = this.deliveries.get(offset);
    if (delivery === undefined) {
      if (offset >= this.fetchNext) {
        this.replayed.set(offset, state);
      }
      return;
    }
    if (state.done !== undefined) {
      this.deliveries.delete(offset);
      return;
    }
    Object.assign(delivery, { attempt: state.attempt, leased: state.leased, token: state.token, until: state.until, error: state.error });
  }

  /** Returns the lowest offset that is not done, which the group's committed offset may move to. */
  lowestPending(): number {
    for (const offset of this.deliveries.keys()) {
      return Math.min(offset, this.fetchNext);
    }
    return this.fetchNext;
  }

  /** Records fetched and not yet leased even once, which count toward the fetch buffer. */
  countFresh(): number {
    let count = 0;
    for (const delivery of this.deliveries.values()) {
      if (delivery.attempt === 0) {
        count++;
      }
    }
    return count;
  }
}

/** Returns the journal state that describes a delivery now. */
export function toState(delivery: Delivery, writer: string, done?: 'acked' | 'dead'): DeliveryState {
  const state: DeliveryState = {
    kind: 'state',
    attempt: delivery.attempt,
    leased: delivery.leased,
    token: delivery.token,
    until: delivery.until,
    error: delivery.error,
    writer,
  };
  if (done !== undefined) {
    state.done = done;
  }
  return state;
}
