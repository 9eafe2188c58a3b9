import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { AccessControl } from '../auth/access-control.ts';
import type { Principal } from '../auth/principal.ts';
import { isEvqError } from '../errors.ts';
import type { Limits } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { maskError } from './errors.ts';
import type { EvqYoga } from './yoga.ts';

/** Close code sent to clients when the server shuts down (RFC 6455 "going away"). */
export const shutdownCloseCode = 1001;
/** Close code for a failure that a later attempt may not meet (RFC 6455 registry: "Try Again Later"). */
const tryAgainLaterCloseCode = 1013;

interface SocketState {
  principal?: Principal;
  /** The credential from connectionParams, kept to check it again on each subscribe and on revocation. */
  authorization?: unknown;
  /** Client address, for the audit log. */
  remote?: string | undefined;
  socket?: WebSocket;
  /** Closes the socket when the credential expires. */
  expiryTimer?: NodeJS.Timeout;
  /** Aborts long-polls of this socket's queries and mutations when it closes. */
  controller: AbortController;
  subscriptions: Set<string>;
}

type ExecutionRoots = {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
};

export interface WebSocketOptions {
  yoga: EvqYoga;
  access: AccessControl;
  limits: Limits;
  logger: Logger;
  metrics: Metrics;
}

/** Max delay that setTimeout accepts, in ms; a later expiry is checked again after it. */
const maxTimerDelayMs = 2 ** 31 - 1;

/**
 * Serves graphql-ws on the HTTP server's upgrade requests for `/graphql`. Credentials come in
 * `connectionParams.authorization` and are checked in onConnect: a missing or invalid one closes
 * the socket with 4401 (Unauthorized, which graphql-ws clients do not retry), an expired one with
 * 4403 (Forbidden, which they retry, asking for fresh connection params). The credential is
 * checked again on every subscribe. When it expires, or its key or account is revoked or deleted
 * at any instance, the socket closes with 4403.
 */
export function createWebSocketServer(options: WebSocketOptions): WebSocketServer {
  const { yoga, access, limits, logger, metrics } = options;
  const wsServer = new WebSocketServer({ noServer: true, maxPayload: limits.maxRequestBytes });
  const states = new WeakMap<object, SocketState>();
  const stateOf = (extra: object): SocketState => {
    let state = states.get(extra);
    if (!state) {
      state = { controller: new AbortController(), subscriptions: new Set() };
      states.set(extra, state);
    }
    return state;
  };

  /** Open sockets by the shared-record key of their stored credential. */
  const socketsByCredential = new Map<string, Set<SocketState>>();

  const forget = (state: SocketState) => {
    clearTimeout(state.expiryTimer);
    const credential = state.principal?.credential;
    if (credential) {
      const sockets = socketsByCredential.get(credential);
      sockets?.delete(state);
      if (sockets?.size === 0) socketsByCredential.delete(credential);
    }
  };

  const closeForbidden = (state: SocketState, reason: string) => {
    logger.info({ principal: state.principal?.id, reason }, 'websocket closed by authorization');
    state.socket?.close(CloseCode.Forbidden, truncateReason(`Forbidden: ${reason}`));
  };

  const admit = (state: SocketState, principal: Principal) => {
    forget(state);
    state.principal = principal;
    // A socket that closed while its credential was being checked must not be tracked again.
    if (state.controller.signal.aborted) return;
    if (principal.credential) {
      let sockets = socketsByCredential.get(principal.credential);
      if (!sockets) socketsByCredential.set(principal.credential, (sockets = new Set()));
      sockets.add(state);
    }
    if (principal.expiresAt !== null) {
      const delay = Math.max(0, principal.expiresAt - Date.now());
      state.expiryTimer = setTimeout(() => {
        if (delay <= maxTimerDelayMs) closeForbidden(state, 'the credential expired');
        else void recheck(state);
      }, Math.min(delay, maxTimerDelayMs));
      state.expiryTimer.unref();
    }
  };

  /** Authenticates the socket's credential again; closes the socket with 4403 and returns false when it fails. */
  const recheck = async (state: SocketState): Promise<boolean> => {
    try {
      admit(state, await access.authenticate(state.authorization, { transport: 'websocket', remote: state.remote }));
      return true;
    } catch (error) {
      if (!isEvqError(error)) logger.error({ err: error, principal: state.principal?.id }, 'checking a websocket credential again failed');
      closeForbidden(state, isEvqError(error) ? error.message : 'the credential could not be checked');
      return false;
    }
  };

  const stopFollowing = access.store.onCredentialChange((credential) => {
    for (const state of socketsByCredential.get(credential) ?? []) void recheck(state);
  });
  wsServer.on('close', stopFollowing);
  wsServer.on('connection', () => metrics.sockets.inc());

  useServer<Record<string, unknown>, { request: IncomingMessage }>(
    {
      execute: (args) => (args.rootValue as ExecutionRoots).execute(args) as never,
      subscribe: (args) => (args.rootValue as ExecutionRoots).subscribe(args) as never,
      onConnect: async (ctx) => {
        const state = stateOf(ctx.extra);
        state.socket = ctx.extra.socket;
        state.authorization = authorizationParam(ctx.connectionParams);
        const remote = ctx.extra.request.socket.remoteAddress;
        state.remote = remote;
        try {
          admit(state, await access.authenticate(state.authorization, { transport: 'websocket', remote }));
          return true;
        } catch (error) {
          if (!isEvqError(error)) throw error;
          const expired = error.details.expired === true;
          logger.info({ remote, reason: error.message }, 'websocket rejected');
          // graphql-ws would close with a bare "Forbidden"; closing first gives the client the reason.
          if (error.retryable) {
            // Such as a JWKS that could not be fetched: 1013 (try again later) lets clients retry.
            ctx.extra.socket.close(tryAgainLaterCloseCode, truncateReason(error.message));
          } else if (expired) {
            ctx.extra.socket.close(CloseCode.Forbidden, truncateReason(`Forbidden: ${error.message}`));
          } else {
            ctx.extra.socket.close(CloseCode.Unauthorized, truncateReason(`Unauthorized: ${error.message}`));
          }
          return false;
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const state = stateOf(ctx.extra);
        if (!(await recheck(state))) {
          // The socket is closing with 4403 already; the error ends the operation if it still gets through.
          return [new GraphQLError('Forbidden: the credential is no longer valid.', { extensions: { code: 'FORBIDDEN' } })];
        }
        if (state.subscriptions.size >= limits.maxSubscriptionsPerSocket) {
          return [
            new GraphQLError(`Too many operations on this socket; the limit is ${limits.maxSubscriptionsPerSocket}.`, {
              extensions: { code: 'RATE_LIMITED', limit: limits.maxSubscriptionsPerSocket },
            }),
          ];
        }
        const requestId = randomUUID();
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          principal: state.principal,
          requestId,
          signal: state.controller.signal,
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [maskError(error, logger, requestId)];
        }
        const validationErrors = validate(schema, document);
        if (validationErrors.length > 0) return validationErrors.map((error: GraphQLError) => maskError(error, logger, requestId));

        state.subscriptions.add(id);
        return {
          schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies ExecutionRoots,
        };
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => maskError(error, logger, undefined)),
      onComplete: (ctx, id) => {
        stateOf(ctx.extra).subscriptions.delete(id);
      },
      onClose: (ctx) => {
        const state = stateOf(ctx.extra);
        state.controller.abort();
        state.subscriptions.clear();
        forget(state);
        metrics.sockets.dec();
      },
    },
    wsServer,
  );
  return wsServer;
}

export { CloseCode };

/** Returns `connectionParams.authorization`, matching the name in any letter case as HTTP does. */
function authorizationParam(params: Record<string, unknown> | undefined): unknown {
  if (!params) return undefined;
  const name = Object.keys(params).find((candidate) => candidate.toLowerCase() === 'authorization');
  return name === undefined ? undefined : params[name];
}

/** Cuts a close reason to the 123 bytes that a WebSocket close frame allows. */
function truncateReason(reason: string): string {
  let text = reason;
  while (Buffer.byteLength(text) > 123) text = text.slice(0, -1);
  return text;
}
