/** Codes whose requests may succeed when sent again, for errors without `extensions.retryable`. */
const retryableCodes = new Set(['RATE_LIMITED', 'ENGINE_UNAVAILABLE', 'INTERNAL']);

/** An error that evq returned, with its `extensions.code`. */
export class EvqClientError extends Error {
  readonly code: string;
  readonly extensions: Record<string, unknown>;
  /** Whether sending the same request again can succeed, from evq's `extensions.retryable`. */
  readonly retryable: boolean;

  constructor(message: string, extensions: Record<string, unknown>) {
    super(message);
    this.name = 'EvqClientError';
    this.code = typeof extensions.code === 'string' ? extensions.code : 'INTERNAL';
    this.extensions = extensions;
    this.retryable = typeof extensions.retryable === 'boolean' ? extensions.retryable : retryableCodes.has(this.code);
  }
}

/**
 * A request or socket that got no GraphQL response from evq: the connection failed or dropped, or
 * the response was not GraphQL JSON (such as a proxy's error page).
 */
export class EvqConnectionError extends Error {
  /** HTTP status of a response that was not GraphQL, or null when there was no response. */
  readonly status: number | null;
  /** The WebSocket close code for a socket that closed, otherwise null. */
  readonly closeCode: number | null;
  readonly retryable: boolean;

  constructor(message: string, details: { status?: number; closeCode?: number; retryable: boolean }, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EvqConnectionError';
    this.status = details.status ?? null;
    this.closeCode = details.closeCode ?? null;
    this.retryable = details.retryable;
  }
}

/** Returns whether an HTTP status that came without a GraphQL body may change on a retry. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** The reason a received message failed verification of evq's signature. */
export type VerificationFailure = 'MISSING_SIGNATURE' | 'UNKNOWN_KEY_ID' | 'INVALID_SIGNATURE';

/** A received message whose evq signature is missing or does not verify. Receiving it again does not help. */
export class MessageVerificationError extends Error {
  readonly code: VerificationFailure;
  readonly queue: string;
  readonly messageId: string;
  readonly keyId: string | null;
  /** The stream position right after the message when it came from the stream. Subscribe with it as `after` to skip the message. */
  readonly cursor: string | null;
  readonly retryable = false;

  constructor(code: VerificationFailure, message: string, ids: { queue: string; messageId: string; keyId: string | null; cursor: string | null }) {
    super(message);
    this.name = 'MessageVerificationError';
    this.code = code;
    this.queue = ids.queue;
    this.messageId = ids.messageId;
    this.keyId = ids.keyId;
    this.cursor = ids.cursor;
  }
}

/** Returns whether sending the same request again can succeed. */
export function isRetryable(error: unknown): boolean {
  return (error instanceof EvqClientError || error instanceof EvqConnectionError) && error.retryable;
}
