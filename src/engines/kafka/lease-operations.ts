import type { Logger } from '../../observability/logger.ts';
import type { Lease } from '../engine.ts';
import { encodeDeadLetter } from './dead-letters.ts';
import { stateRecord, type DeliveryRequest } from './journal.ts';
import type { RecordToProduce } from './message-codec.ts';
import { toState, visibilityExpiredError, type Delivery, type PartitionState } from './partition-state.ts';
import type { ProduceBatcher } from './produce-batcher.ts';
import { encodeReceipt, newLeaseToken } from './receipts.ts';

/** The topics, limits and clients that the operations on a group's deliveries use. */
export interface LeaseContext {
  group: string;
  writer: string;
  journalTopic: string;
  deadLetterTopic: string;
  maxAttempts: number;
  batcher: ProduceBatcher;
  logger: Logger;
}

/** The outcome of an ack, nack or extend: applied, or the reason the lease no longer matches. */
export type Verdict = { ok: true; until?: number } | { ok: false; reason: string };

/** Returns why the receipt's lease does not match `delivery` at `at` (Unix ms), or null when it does. */
export function leaseMismatch(delivery: Delivery | undefined, token: number, at: number): string | null {
  if (delivery === undefined || !delivery.leased || delivery.token !== token) {
    return 'its lease has ended; receive the message again';
  }
  if (delivery.until <= at) {
    return 'its lease has expired; receive the message again';
  }
  return null;
}

/**
 * Applies an ack, nack or extend to a delivery of `state` and returns the journal records that make
 * the change durable, or the reason it does not apply. A nack of the last allowed attempt moves
 * the record to the dead-letter topic.
 */
export function applyRequest(
  context: LeaseContext,
  state: PartitionState,
  offset: number,
  request: Pick<DeliveryRequest, 'kind' | 'token' | 'at' | 'durationMs' | 'error'>,
): { verdict: Verdict; records: RecordToProduce[] } {
  const delivery = state.deliveries.get(offset);
  const reason = leaseMismatch(delivery, request.token, request.at);
  if (reason !== null || delivery === undefined) {
    return { verdict: { ok: false, reason: reason ?? 'its lease has ended' }, records: [] };
  }
  if (request.kind === 'ack') {
    state.deliveries.delete(offset);
    return { verdict: { ok: true }, records: [journalRecord(context, delivery, 'acked')] };
  }
  if (request.kind === 'extend') {
    delivery.until = request.at + (request.durationMs ?? 0);
    return { verdict: { ok: true, until: delivery.until }, records: [journalRecord(context, delivery)] };
  }
  delivery.leased = false;
  delivery.token = null;
  delivery.error = request.error ?? null;
  delivery.until = request.at + (request.durationMs ?? 0);
  if (delivery.attempt >= context.maxAttempts) {
    return { verdict: { ok: true }, records: deadLetterRecords(context, state, delivery) };
  }
  return { verdict: { ok: true }, records: [journalRecord(context, delivery)] };
}

/**
 * Ends the leases that ran out by `now`: the record becomes ready again, or moves to the
 * dead-letter topic after its last allowed attempt. Returns the records to write.
 */
export function expireLeases(context: LeaseContext, states: Iterable<PartitionState>, now: number): RecordToProduce[] {
  const records: RecordToProduce[] = [];
  for (const state of states) {
    for (const delivery of [...state.deliveries.values()]) {
      if (delivery.deadPending) {
        records.push(...deadLetterRecords(context, state, delivery));
      } else if (delivery.leased && delivery.until <= now) {
        delivery.leased = false;
        delivery.token = null;
        delivery.error = visibilityExpiredError;
        if (delivery.attempt >= context.maxAttempts) {
          records.push(...deadLetterRecords(context, state, delivery));
        }
      }
    }
  }
  return records;
}

/**
 * Leases up to `limit` ready records: retries first, oldest ready moment first, then records never
 * leased in publish order. A record whose `deliverAt` lies ahead is skipped, so it never holds up
 * the ones behind it. Returns the leases and the journal records that make them durable.
 */
export function leaseReady(
  context: LeaseContext,
  states: PartitionState[],
  limit: number,
  visibilityMs: number,
  now: number,
): { leases: Lease[]; records: RecordToProduce[] } {
  const ready: Delivery[] = [];
  for (const state of states) {
    for (const delivery of state.deliveries.values()) {
      if (!delivery.leased && !delivery.deadPending && delivery.until <= now) {
        ready.push(delivery);
      }
    }
  }
  ready.sort(
    (a, b) =>
      Number(b.attempt > 0) - Number(a.attempt > 0) ||
      (a.attempt > 0 ? a.until - b.until : 0) ||
      a.message.publishedAt.getTime() - b.message.publishedAt.getTime() ||
      a.partition - b.partition ||
      a.offset - b.offset,
  );

  const byPartition = new Map(states.map((state) => [state.partition, state]));
  const leases: Lease[] = [];
  const records: RecordToProduce[] = [];
  for (const delivery of ready) {
    if (leases.length === limit) {
      break;
    }
    // Reachable only when updateQueue lowered maxAttempts below the attempts already made.
    if (delivery.attempt >= context.maxAttempts) {
      records.push(...deadLetterRecords(context, byPartition.get(delivery.partition)!, delivery));
      continue;
    }
    delivery.attempt++;
    delivery.leased = true;
    delivery.token = newLeaseToken();
    delivery.until = now + visibilityMs;
    records.push(journalRecord(context, delivery));
    leases.push({
      receipt: encodeReceipt({ group: context.group, partition: delivery.partition, offset: delivery.offset, token: delivery.token }),
      group: context.group,
      attempt: delivery.attempt,
      visibleUntil: new Date(delivery.until),
      message: delivery.message,
    });
  }
  return { leases, records };
}

/** Returns the earliest future moment a delivery's lease ends or its delay runs out; null if none. */
export function nextDueAt(states: Iterable<PartitionState>, now: number): number | null {
  let due: number | null = null;
  for (const state of states) {
    for (const delivery of state.deliveries.values()) {
      if (delivery.until > now && (due === null || delivery.until < due)) {
        due = delivery.until;
      }
    }
  }
  return due;
}

/**
 * Removes a delivery from memory and returns its dead-letter record and the journal record that
 * marks it done.
 *
 * NOTE: the two records go to different topics, which Kafka does not write atomically. When the
 * dead letter is stored and the journal record is not, the next owner dead-letters it again.
 */
function deadLetterRecords(context: LeaseContext, state: PartitionState, delivery: Delivery): RecordToProduce[] {
  state.deliveries.delete(delivery.offset);
  delivery.deadPending = false;
  return [
    encodeDeadLetter(context.deadLetterTopic, delivery.message, context.group, delivery.attempt, delivery.error, Date.now()),
    journalRecord(context, delivery, 'dead'),
  ];
}

function journalRecord(context: LeaseContext, delivery: Delivery, done?: 'acked' | 'dead'): RecordToProduce {
  return stateRecord(context.journalTopic, delivery.partition, context.group, delivery.offset, toState(delivery, context.writer, done));
}
