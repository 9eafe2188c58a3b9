/**
 * The closed list of error codes that evq returns, each with its HTTP status and whether a retry
 * of the same request can succeed. GraphQL errors carry the code in `extensions.code`; REST
 * responds with the status and `{ error: { code, message, details } }`.
 */
export const errorCodes = {
  BAD_USER_INPUT: { status: 400, retryable: false },
  UNAUTHENTICATED: { status: 401, retryable: false },
  FORBIDDEN: { status: 403, retryable: false },
  QUEUE_NOT_FOUND: { status: 404, retryable: false },
  QUEUE_EXISTS: { status: 409, retryable: false },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false },
  SIGNATURE_INVALID: { status: 400, retryable: false },
  SIGNATURE_EXPIRED: { status: 400, retryable: false },
  REPLAYED: { status: 409, retryable: false },
  RECEIPT_INVALID: { status: 400, retryable: false },
  CURSOR_EXPIRED: { status: 400, retryable: false },
  RATE_LIMITED: { status: 429, retryable: true },
  ENGINE_UNAVAILABLE: { status: 503, retryable: true },
  INTERNAL: { status: 500, retryable: true },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type ErrorCode = keyof typeof errorCodes;

/** Values that explain an error to the caller: the offending value, the limit, the ids involved. */
export type ErrorDetails = Record<string, unknown>;

/** An error that evq reports to its caller with a code, an HTTP status and details. */
export class EvqError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EvqError';
    this.code = code;
    this.status = errorCodes[code].status;
    this.retryable = errorCodes[code].retryable;
    this.details = details;
  }
}

export function isEvqError(error: unknown): error is EvqError {
  return error instanceof EvqError;
}

/** Shows a value in a message without flooding it: long strings and large objects are cut. */
export function describeValue(value: unknown, maxLength = 80): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
}

/** Factories for the errors that more than one module raises, so each message reads the same. */
export const errors = {
  invalidInput(field: string, value: unknown, expected: string): EvqError {
    return new EvqError('BAD_USER_INPUT', `Invalid ${field}: ${describeValue(value)}; expected ${expected}.`, {
      field,
      value,
    });
  },

  outOfRange(field: string, value: number, min: number, max: number): EvqError {
    return new EvqError('BAD_USER_INPUT', `Invalid ${field}: ${value}; expected a value from ${min} to ${max}.`, {
      field,
      value,
      min,
      max,
    });
  },

  queueNotFound(queue: string): EvqError {
    return new EvqError('QUEUE_NOT_FOUND', `Queue ${describeValue(queue)} was not found.`, { queue });
  },

  queueExists(queue: string): EvqError {
    return new EvqError('QUEUE_EXISTS', `Queue ${describeValue(queue)} already exists.`, { queue });
  },

  payloadTooLarge(bytes: number, limit: number, details: ErrorDetails = {}): EvqError {
    return new EvqError(
      'PAYLOAD_TOO_LARGE',
      `Payload is ${bytes} bytes, over the limit of ${limit} bytes.`,
      { bytes, limit, ...details },
    );
  },

  receiptInvalid(receipt: string, reason: string): EvqError {
    return new EvqError('RECEIPT_INVALID', `Receipt ${describeValue(receipt, 40)} is invalid: ${reason}.`, {
      receipt,
      reason,
    });
  },

  cursorInvalid(cursor: string, reason: string): EvqError {
    return new EvqError('BAD_USER_INPUT', `Invalid cursor ${describeValue(cursor, 40)}: ${reason}.`, {
      field: 'cursor',
      value: cursor,
      reason,
    });
  },

  cursorExpired(queue: string, partition: number, offset: number, earliest: number): EvqError {
    return new EvqError(
      'CURSOR_EXPIRED',
      `Cursor for queue ${describeValue(queue)} points to offset ${offset} of partition ${partition}, ` +
        `but the earliest retained offset is ${earliest}; resume with from: EARLIEST or LATEST.`,
      { queue, partition, offset, earliest },
    );
  },

  unauthenticated(reason: string): EvqError {
    return new EvqError('UNAUTHENTICATED', `Authentication failed: ${reason}.`);
  },

  engineUnavailable(operation: string, cause?: unknown): EvqError {
    return new EvqError(
      'ENGINE_UNAVAILABLE',
      `The storage engine is unavailable, so ${operation} failed; retry later.`,
      { operation },
      { cause },
    );
  },
};
