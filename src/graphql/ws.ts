import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Authenticator } from '../auth/admin-token.ts';
import type { Principal } from '../auth/principal.ts';
import type { Limits } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { maskError } from './errors.ts';
import type { EvqYoga } from './yoga.ts';

/** Close code sent to clients when the server shuts down (RFC 6455 "going away"). */
export const shutdownCloseCode = 1001;

interface SocketState {
  principal?: Principal;
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
  authenticator: Authenticator;
  limits: Limits;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Serves graphql-ws on the HTTP server's upgrade requests for `/graphql`. Credentials come in
 * `connectionParams.authorization` and are checked in onConnect; a missing or wrong token closes
 * the socket with 4403.
 */
export function createWebSocketServer(options: WebSocketOptions): WebSocketServer {
  const { yoga, authenticator, limits, logger, metrics } = options;
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

  wsServer.on('connection', () => metrics.sockets.inc());

  useServer<Record<string, unknown>, { request: IncomingMessage }>(
    {
      execute: (args) => (args.rootValue as ExecutionRoots).execute(args) as never,
      subscribe: (args) => (args.rootValue as ExecutionRoots).subscribe(args) as never,
      onConnect: (ctx) => {
        try {
          stateOf(ctx.extra).principal = authenticator.authenticate(authorizationParam(ctx.connectionParams));
          return true;
        } catch (error) {
          const reason = (error as Error).message;
          logger.info({ remote: ctx.extra.request.socket.remoteAddress, reason }, 'websocket rejected');
          // graphql-ws would close with the bare reason "Forbidden"; closing first gives the client the reason.
          ctx.extra.socket.close(CloseCode.Forbidden, truncateReason(`Forbidden: ${reason}`));
          return false;
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const state = stateOf(ctx.extra);
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
