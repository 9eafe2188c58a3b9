import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { initContextCache } from '@pothos/core';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { type YogaServerInstance, createYoga } from 'graphql-yoga';
import type { AccessControl } from '../auth/access-control.ts';
import type { EvqKeyRing } from '../signing/evq-keys.ts';
import type { ProducerKeys } from '../signing/producer-keys.ts';
import type { Principal } from '../auth/principal.ts';
import type { Limits } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { QueueService } from '../queues/queue-service.ts';
import type { StreamHub } from '../queues/stream-hub.ts';
import type { Context } from './context.ts';
import { useAuthentication } from './authentication.ts';
import { credentialSignals } from './credential-signals.ts';
import { useErrorCodes, useMaskedErrors } from './errors.ts';
import { useAdminOnlyIntrospection } from './introspection.ts';
import { armorRejection } from './limits.ts';
import { buildSchema } from './schema.ts';

/** Initial context that the HTTP or WebSocket transport passes in when it starts an operation. */
export interface TransportContext {
  /** Set by the HTTP transport. */
  request?: Request;
  /** The node:http response, which Yoga's node adapter passes in the server context. */
  res?: ServerResponse;
  /** Set by the graphql-ws transport, which authenticates in onConnect, and for HTTP by useAuthentication. */
  principal?: Principal;
  requestId?: string;
  signal?: AbortSignal;
}

export interface YogaOptions {
  service: QueueService;
  hub: StreamHub;
  access: AccessControl;
  producerKeys: ProducerKeys;
  evqKeys: EvqKeyRing;
  limits: Limits;
  /** True when NODE_ENV=production: introspection and field suggestions are then for the admin only. */
  production: boolean;
  logger: Logger;
  metrics: Metrics;
  /** Aborts every long-poll when the server shuts down. */
  shutdownSignal: AbortSignal;
}

export type EvqYoga = YogaServerInstance<TransportContext, Context>;

/** Creates the GraphQL server for HTTP and SSE; graphql-ws reuses it through `getEnveloped`. */
export function createGraphQLServer(options: YogaOptions): EvqYoga {
  const { service, hub, access, producerKeys, evqKeys, limits, logger, metrics, shutdownSignal } = options;

  return createYoga<TransportContext, Context>({
    schema: buildSchema(),
    graphqlEndpoint: '/graphql',
    // GraphiQL (render-graphiql 5.24) sends its headers pane as HTTP headers but not as graphql-ws
    // connectionParams, so evq would close its socket with 4401. Over SSE a subscription carries
    // the pane's Authorization header. GraphiQL sends SSE requests as GET unless `method` is POST.
    // POST keeps the document out of the URL, and it makes a request without a token fail as
    // UNAUTHENTICATED instead of failing CSRF prevention.
    graphiql: { title: 'evq', subscriptionsProtocol: 'SSE', method: 'POST' },
    // The bundled GraphiQL page works offline; Yoga's default loads its assets from a CDN.
    renderGraphiQL,
    landingPage: false,
    maskedErrors: false,
    logging: false,
    plugins: [
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'authorization'] }),
      useAuthentication(access, logger),
      useAdminOnlyIntrospection(options.production),
      costLimitPlugin({ maxCost: limits.maxCost, ...armorRejection('cost', limits.maxCost) }),
      maxDepthPlugin({ n: limits.maxDepth, ...armorRejection('depth', limits.maxDepth) }),
      maxAliasesPlugin({ n: limits.maxAliases, ...armorRejection('aliases', limits.maxAliases) }),
      maxTokensPlugin({ n: limits.maxTokens, ...armorRejection('tokens', limits.maxTokens) }),
      useMaskedErrors(logger, metrics),
      useErrorCodes(logger, metrics),
      {
        // Poll results and queue state change with every publish, so no response is cacheable.
        onResponse({ response }) {
          response.headers.set('cache-control', 'no-store');
        },
      },
    ],
    context: (initial): Context => {
      const requestId = initial.requestId ?? initial.request?.headers.get('x-request-id') ?? randomUUID();
      const principal = initial.principal;
      if (!principal) throw new Error('The operation reached the context factory without a principal.');
      // The request logger and signal are built on first use: most operations (publish, ack) need
      // neither, and building them for every request cost about a tenth of the publish CPU time.
      // They are functions, not getters, because Envelop copies the context with its getters run.
      let requestLogger: Logger | undefined;
      let signal: AbortSignal | undefined;
      // Envelop merges the returned context into `initial`, so its fields are read now.
      const transportSignals = [initial.signal, initial.request?.signal].filter((candidate) => candidate !== undefined);
      return {
        // Envelop copies the context, so the scope-auth plugin's per-request cache is set up here.
        ...initContextCache(),
        service,
        hub,
        access,
        producerKeys,
        evqKeys,
        principal,
        requestId,
        logger: () => (requestLogger ??= logger.child({ requestId })),
        signal: () => {
          if (signal) return signal;
          const request = initial.request;
          // graphql-ws closes a socket whose credential ends; over HTTP the stream or long-poll ends.
          const ended = request
            ? credentialSignals(access, principal, request.headers.get('authorization'), requestEndSignal(initial), logger.child({ requestId }))
            : [];
          signal = combinedSignal(shutdownSignal, [...transportSignals, ...ended]);
          return signal;
        },
      };
    },
  });
}

/**
 * Returns a signal that aborts when the HTTP exchange is over, finished or not. The Request's own
 * signal aborts only when the client goes away early.
 */
function requestEndSignal(initial: TransportContext): AbortSignal {
  const controller = new AbortController();
  if (initial.res) initial.res.once('close', () => controller.abort());
  else if (initial.request) return nativeSignal(initial.request.signal);
  return controller.signal;
}

/** Creates a signal that aborts on shutdown, or when the request or the socket ends. */
function combinedSignal(shutdownSignal: AbortSignal, transportSignals: AbortSignal[]): AbortSignal {
  return AbortSignal.any([shutdownSignal, ...transportSignals.map(nativeSignal)]);
}

/**
 * Returns a native AbortSignal that follows `signal`. The Request objects of @whatwg-node/server
 * carry a signal that passes `instanceof AbortSignal` but that `AbortSignal.any` rejects.
 */
function nativeSignal(signal: AbortSignal): AbortSignal {
  const controller = new AbortController();
  if (signal.aborted) controller.abort();
  else signal.addEventListener('abort', () => controller.abort(), { once: true });
  return controller.signal;
}
