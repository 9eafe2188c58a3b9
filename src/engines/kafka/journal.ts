import type { FetchedRecord, RecordToProduce } from './message-codec.ts';

/**
 * The journal is a compacted topic per queue, partitioned like the queue. Partition p contains the
 * work-queue state of every group for the records of queue partition p. Two kinds of keys:
 * - [group, offset]: the owner's latest state of that delivery (a lease, a nack delay, done).
 * - [group, offset, requestId]: an ack, nack or extend that any instance wrote for the owner to
 *   apply; the owner then writes its verdict under the same key.
 * Compaction keeps the latest value per key, and the topic's retention (that of the queue) removes
 * states of records that retention has removed from the queue.
 */

/** The owner's state of one delivery. */
export interface DeliveryState {
  kind: 'state';
  /** Deliveries so far; 0 for a record that was never leased. */
  attempt: number;
  leased: boolean;
  token: number | null;
  /** Unix ms: the end of the lease when leased, else when the record becomes ready. */
  until: number;
  error: string | null;
  /** Set once the delivery is over; such records are skipped for good. */
  done?: 'acked' | 'dead';
  /** Random id of the process that wrote the state, so its own fetch loop can skip it. */
  writer: string;
}

/** A change that an instance other than the owner asks for. */
export interface DeliveryRequest {
  kind: 'ack' | 'nack' | 'extend';
  id: string;
  token: number;
  /** Unix ms when the requesting instance accepted the call; a lease that ended before it wins. */
  at: number;
  /** nack: delay before the record is ready again, in ms. extend: new lease length, in ms. */
  durationMs?: number;
  error?: string | null;
  writer: string;
}

/** The owner's verdict on a request. */
export interface RequestVerdict {
  kind: 'verdict';
  ok: boolean;
  reason?: string;
  /** extend: the new end of the lease, in Unix ms. */
  until?: number;
  writer: string;
}

export type JournalValue = DeliveryState | DeliveryRequest | RequestVerdict;

/** A decoded journal record. */
export interface JournalEntry {
  group: string;
  offset: number;
  /** The request id for request and verdict records; undefined for states. */
  requestId?: string;
  value: JournalValue | null;
  /** Offset of this record in the journal partition. */
  journalOffset: number;
}

export function stateRecord(topic: string, partition: number, group: string, offset: number, state: DeliveryState): RecordToProduce {
  return {
    topic,
    partition,
    key: JSON.stringify([group, offset]),
    value: JSON.stringify(state),
    headers: {},
    timestamp: BigInt(Date.now()),
  };
}

export function requestRecord(
  topic: string,
  partition: number,
  group: string,
  offset: number,
  value: DeliveryRequest | RequestVerdict,
  requestId: string,
): RecordToProduce {
  return {
    topic,
    partition,
    key: JSON.stringify([group, offset, requestId]),
    value: JSON.stringify(value),
    headers: {},
    timestamp: BigInt(Date.now()),
  };
}

/** Decodes a journal record; returns null for a record that evq did not write. */
export function decodeJournal(record: FetchedRecord): JournalEntry | null {
  if (record.key === null) {
    return null;
  }
  try {
    const key = JSON.parse(record.key) as unknown;
    if (!Array.isArray(key) || typeof key[0] !== 'string' || !Number.isSafeInteger(key[1])) {
      return null;
    }
    const value = record.value === null ? null : (JSON.parse(record.value) as JournalValue);
    const entry: JournalEntry = { group: key[0], offset: key[1] as number, value, journalOffset: record.offset };
    if (typeof key[2] === 'string') {
      entry.requestId = key[2];
    }
    return entry;
  } catch {
    return null;
  }
}
