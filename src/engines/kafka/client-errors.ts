import { findErrorBy } from '@platformatic/kafka';
import { errors, isEvqError, type EvqError } from '../../errors.ts';

/** Kafka protocol error names (`apiId` in @platformatic/kafka errors) that evq handles. */
export type KafkaErrorName =
  | 'TOPIC_ALREADY_EXISTS'
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'UNKNOWN_TOPIC_ID'
  | 'OFFSET_OUT_OF_RANGE'
  | 'GROUP_ID_NOT_FOUND'
  | 'NON_EMPTY_GROUP';

/** True when `error`, or one of the errors it aggregates, is the Kafka protocol error `name`. */
export function hasKafkaError(error: unknown, name: KafkaErrorName): boolean {
  return error instanceof Error && findErrorBy(error, 'apiId', name) !== null;
}

/** True when the topic that a request named does not exist (any more). */
export function isUnknownTopic(error: unknown): boolean {
  return hasKafkaError(error, 'UNKNOWN_TOPIC_OR_PARTITION') || hasKafkaError(error, 'UNKNOWN_TOPIC_ID');
}

/** Passes an EvqError through and turns anything else into ENGINE_UNAVAILABLE for `operation`. */
export function toEngineError(operation: string, error: unknown): EvqError {
  return isEvqError(error) ? error : errors.engineUnavailable(operation, error);
}

/** Thrown by `withTimeout` when the operation did not settle in time. */
export class OperationTimeoutError extends Error {
  constructor(operation: string, timeoutMs: number) {
    super(`${operation} did not complete within ${timeoutMs} ms`);
    this.name = 'OperationTimeoutError';
  }
}

/**
 * Resolves like `promise`, or rejects with OperationTimeoutError after `timeoutMs`. The operation
 * itself goes on; callers must treat its outcome as unknown.
 */
export async function withTimeout<T>(operation: string, timeoutMs: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OperationTimeoutError(operation, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
