import { errors } from '../errors.ts';
import type { Position, QuarantinedRecord, ReadOptions, ReadStart, ReceiveOptions } from './engine.ts';

/** Largest `limit` of one receive, as the port documents it. */
export const maxReceiveLimit = 100;

/** Throws BAD_USER_INPUT for read options outside the port's ranges. */
export function checkReadOptions(options: ReadOptions): void {
  if (!Number.isSafeInteger(options.limit) || options.limit < 1) {
    throw errors.invalidInput('limit', options.limit, 'a positive integer');
  }
  checkWait(options.waitMs);
  if (options.key !== undefined && options.key !== null && typeof options.key !== 'string') {
    throw errors.invalidInput('key', options.key, 'a string or null');
  }
}

/** Throws BAD_USER_INPUT for receive options outside the port's ranges. */
export function checkReceiveOptions(options: ReceiveOptions): void {
  if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > maxReceiveLimit) {
    throw errors.outOfRange('limit', options.limit, 1, maxReceiveLimit);
  }
  if (!Number.isFinite(options.visibilitySeconds) || options.visibilitySeconds <= 0) {
    throw errors.invalidInput('visibilitySeconds', options.visibilitySeconds, 'a positive number of seconds');
  }
  checkWait(options.waitMs);
}

function checkWait(waitMs: number | undefined): void {
  if (waitMs !== undefined && (!Number.isFinite(waitMs) || waitMs < 0)) {
    throw errors.invalidInput('waitMs', waitMs, 'a non-negative number of milliseconds');
  }
}

/**
 * Resolves a read start against each partition's earliest retained offset and next offset (the
 * end of its log). Throws BAD_USER_INPUT for a position of the wrong length or past the end, and
 * CURSOR_EXPIRED for one before the earliest retained offset.
 */
export function resolvePosition(queue: string, start: ReadStart, earliest: number[], end: number[]): Position {
  if (start === 'earliest') {
    return [...earliest];
  }
  if (start === 'latest') {
    return [...end];
  }
  if (!Array.isArray(start) || start.length !== end.length) {
    throw errors.invalidInput(
      'position',
      start,
      `an array of ${end.length} offsets, one per partition of queue ${JSON.stringify(queue)}`,
    );
  }
  for (let partition = 0; partition < end.length; partition++) {
    const offset = start[partition];
    const first = earliest[partition] ?? 0;
    const last = end[partition] ?? 0;
    if (!Number.isSafeInteger(offset) || offset! < 0) {
      throw errors.invalidInput(`position[${partition}]`, offset, 'a non-negative integer offset');
    }
    if (offset! > last) {
      throw errors.outOfRange(`position[${partition}]`, offset!, first, last);
    }
    if (offset! < first) {
      throw errors.cursorExpired(queue, partition, offset!, first);
    }
  }
  return [...start];
}

/** Throws BAD_USER_INPUT unless `key` is a non-empty string, as shared record keys must be. */
export function checkRecordKey(key: unknown): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw errors.invalidInput('key', key, 'a non-empty string');
  }
}

/** Throws BAD_USER_INPUT unless `value` is a string, as shared record values must be. */
export function checkRecordValue(value: unknown): void {
  if (typeof value !== 'string') {
    throw errors.invalidInput('value', value, 'a string');
  }
}

/** Throws BAD_USER_INPUT unless `prefix` is a string; an empty prefix lists every shared record. */
export function checkRecordPrefix(prefix: unknown): void {
  if (typeof prefix !== 'string') {
    throw errors.invalidInput('prefix', prefix, 'a string');
  }
}

/**
 * Throws BAD_USER_INPUT unless `key` and `owner` are non-empty strings and `windowMs` is above 0
 * and at most `maxWindowMs`.
 */
export function checkNonceClaim(key: unknown, owner: unknown, windowMs: unknown, maxWindowMs: number): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw errors.invalidInput('key', key, 'a non-empty string');
  }
  if (typeof owner !== 'string' || owner.length === 0) {
    throw errors.invalidInput('owner', owner, 'a non-empty string');
  }
  if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs <= 0 || windowMs > maxWindowMs) {
    throw errors.invalidInput('windowMs', windowMs, `a number of milliseconds above 0 and at most ${maxWindowMs}`);
  }
}

/** Throws BAD_USER_INPUT for a record that `Quarantine.add` cannot store. */
export function checkQuarantinedRecord(record: Omit<QuarantinedRecord, 'quarantinedAt'>): void {
  if (typeof record !== 'object' || record === null) {
    throw errors.invalidInput('record', record, 'an object with queue, partition, offset, message and reason');
  }
  checkQueueName(record.queue);
  for (const field of ['partition', 'offset'] as const) {
    if (!Number.isSafeInteger(record[field]) || record[field] < 0) {
      throw errors.invalidInput(field, record[field], 'a non-negative integer');
    }
  }
  if (typeof record.reason !== 'string') {
    throw errors.invalidInput('reason', record.reason, 'a string');
  }
  if (typeof record.message !== 'object' || record.message === null) {
    throw errors.invalidInput('message', record.message, 'a stored message object');
  }
}

/** Throws BAD_USER_INPUT unless `queue` is a non-empty string. */
export function checkQueueName(queue: unknown): void {
  if (typeof queue !== 'string' || queue.length === 0) {
    throw errors.invalidInput('queue', queue, 'a non-empty queue name');
  }
}

/** Throws BAD_USER_INPUT unless `limit` is a positive integer. */
export function checkListLimit(limit: unknown): void {
  if (!Number.isSafeInteger(limit) || (limit as number) < 1) {
    throw errors.invalidInput('limit', limit, 'a positive integer');
  }
}
