import { errors } from '../errors.ts';
import type { ReadOptions, ReceiveOptions } from './engine.ts';

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
