import { type Client as WsClient, CloseCode, createClient } from 'graphql-ws';
import { EvqClientError, EvqConnectionError } from './errors.ts';

export interface SocketOptions {
  /** WebSocket URL of evq's GraphQL endpoint. */
  url: string;
  token: string;
  webSocketImpl?: unknown;
  /** How often to ping the server, in ms. */
  keepAliveMs?: number;
  /** How long to wait for the pong before the socket counts as dead, in ms. */
  pongTimeoutMs?: number;
}

/** Close codes from 1000 to 1999 after which a reconnect can succeed, as graphql-ws 6.4 lists them. */
const retryableStandardCloseCodes = new Set([1000, 1001, 1005, 1006, 1012, 1013, 1014]);

/**
 * graphql-ws close codes after which a reconnect with the same credential fails again, as
 * graphql-ws 6.4 lists them, plus 4403, which evq sends when the credential expired or was revoked.
 */
const fatalGraphQLWsCloseCodes = new Set<number>([
  CloseCode.InternalServerError,
  CloseCode.InternalClientError,
  CloseCode.BadRequest,
  CloseCode.BadResponse,
  CloseCode.Unauthorized,
  CloseCode.Forbidden,
  CloseCode.SubprotocolNotAcceptable,
  CloseCode.SubscriberAlreadyExists,
  CloseCode.TooManyInitialisationRequests,
]);

/** Returns whether a socket closed with this code may succeed when it connects again. */
function isRetryableCloseCode(code: number): boolean {
  if (code >= 1000 && code <= 1999) return retryableStandardCloseCodes.has(code);
  return !fatalGraphQLWsCloseCodes.has(code);
}

/**
 * Creates a graphql-ws client that does not reconnect by itself: a dropped socket ends each of its
 * subscriptions with an error, so the caller resumes it from its own cursor. graphql-ws's own retry
 * would subscribe again with the first variables, and so from the first cursor. The client pings
 * the server and terminates a socket whose pong does not come back, because a browser may not
 * notice a dead connection for minutes.
 */
export function createResumableSocket(options: SocketOptions): WsClient {
  const pongTimeoutMs = options.pongTimeoutMs ?? 5_000;
  let pongTimer: ReturnType<typeof setTimeout> | undefined;
  const client: WsClient = createClient({
    url: options.url,
    connectionParams: { authorization: `Bearer ${options.token}` },
    retryAttempts: 0,
    keepAlive: options.keepAliveMs ?? 15_000,
    on: {
      ping: (received) => {
        if (!received) pongTimer = setTimeout(() => client.terminate(), pongTimeoutMs);
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
      closed: () => clearTimeout(pongTimer),
    },
    ...(options.webSocketImpl ? { webSocketImpl: options.webSocketImpl } : {}),
  });
  return client;
}

/**
 * Turns what a graphql-ws subscription fails with into an Error: a list of GraphQL errors, a close
 * event (graphql-ws's own TerminatedCloseEvent, code 4499, is an Error), or a socket error event.
 */
export function socketError(failure: unknown): Error {
  if (failure instanceof EvqClientError || failure instanceof EvqConnectionError) return failure;
  if (Array.isArray(failure)) {
    const [first] = failure as Array<{ message?: string; extensions?: Record<string, unknown> }>;
    return new EvqClientError(first?.message ?? 'The subscription failed.', first?.extensions ?? {});
  }
  if (typeof failure === 'object' && failure !== null && 'code' in failure && typeof failure.code === 'number') {
    const closeCode = failure.code;
    const reason = 'reason' in failure && typeof failure.reason === 'string' && failure.reason !== '' ? `: ${failure.reason}` : '';
    return new EvqConnectionError(`The WebSocket to evq closed with code ${closeCode}${reason}.`, {
      closeCode,
      retryable: isRetryableCloseCode(closeCode),
    });
  }
  if (failure instanceof Error) return failure;
  // A browser's error event has no message, but some WebSocket implementations set one.
  const detail = typeof failure === 'object' && failure !== null && 'message' in failure && failure.message ? `: ${String(failure.message)}` : '';
  return new EvqConnectionError(`The WebSocket to evq failed${detail}.`, { retryable: true });
}
