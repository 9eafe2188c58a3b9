import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { AccessControl } from './auth/access-control.ts';
import type { Principal } from './auth/principal.ts';
import { credentialSignals } from './graphql/credential-signals.ts';
import type { Config } from './config.ts';
import type { Engine } from './engines/engine.ts';
import { errors } from './errors.ts';
import { createGraphQLServer, type EvqYoga } from './graphql/yoga.ts';
import { createWebSocketServer, shutdownCloseCode } from './graphql/ws.ts';
import { openApiDocument } from './http/openapi.ts';
import { createRestRoutes, sendError, sendJson, serveRest, type RestOptions } from './http/rest.ts';
import type { Logger } from './observability/logger.ts';
import { Metrics } from './observability/metrics.ts';
import { MessageIntegrity } from './queues/message-integrity.ts';
import { QueueService } from './queues/queue-service.ts';
import { EvqKeyRing } from './signing/evq-keys.ts';
import { MessageSeal } from './signing/message-seal.ts';
import { ProducerKeys } from './signing/producer-keys.ts';
import { ProducerSignatures } from './signing/producer-signatures.ts';
import { StreamHub } from './queues/stream-hub.ts';
import { version } from './version.ts';

export interface EvqServerOptions {
  config: Config;
  engine: Engine;
  adminToken: string;
  /** 32 bytes that derive the key signing service tokens; the same at every instance of one cluster. */
  masterKey: Buffer;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * The evq HTTP server: GraphQL (HTTP, SSE and graphql-ws) at /graphql, REST at /queue/*, the
 * OpenAPI document, /metrics, /healthz and /readyz. `start()` starts the engine and listens;
 * `close()` shuts down gracefully and is idempotent.
 */
export class EvqServer {
  readonly config: Config;
  readonly engine: Engine;
  readonly service: QueueService;
  readonly metrics: Metrics;
  readonly access: AccessControl;
  /** Ed25519 keys that producers registered for `v1a` signatures. */
  readonly producerKeys: ProducerKeys;
  /** evq's own signing keys, published at /.well-known/jwks.json. */
  readonly evqKeys: EvqKeyRing;
  readonly #logger: Logger;
  readonly #hub: StreamHub;
  readonly #yoga: EvqYoga;
  readonly #ws: WebSocketServer;
  readonly #http: Server;
  readonly #rest: ReturnType<typeof createRestRoutes>;
  readonly #restOptions: RestOptions;
  readonly #shutdown = new AbortController();
  readonly #inFlight = new Set<ServerResponse>();
  #closing: Promise<void> | null = null;

  constructor(options: EvqServerOptions) {
    const { config, engine, logger } = options;
    this.config = config;
    this.engine = engine;
    this.#logger = logger.child({ component: 'server' });
    this.metrics = options.metrics ?? new Metrics();
    this.access = new AccessControl({
      records: engine.records,
      adminToken: options.adminToken,
      masterKey: options.masterKey,
      config: config.auth,
      logger,
      metrics: this.metrics,
    });
    this.producerKeys = new ProducerKeys(engine.records, this.access.audit);
    this.evqKeys = new EvqKeyRing(engine.records, this.access.secretBox, logger);
    const integrity = new MessageIntegrity({
      engine,
      seal: new MessageSeal(this.evqKeys),
      producerSignatures: new ProducerSignatures({
        queueKeys: this.access.store,
        producerKeys: this.producerKeys,
        nonces: engine.nonces,
        maxSkewSeconds: config.signatureMaxSkewSeconds,
        metrics: this.metrics,
        logger,
      }),
      metrics: this.metrics,
      logger,
    });
    this.service = new QueueService({ engine, integrity, limits: config.limits, logger, metrics: this.metrics });
    this.#hub = new StreamHub(engine, logger, (entries) => integrity.admitEntries(entries));

    this.#yoga = createGraphQLServer({
      service: this.service,
      hub: this.#hub,
      access: this.access,
      producerKeys: this.producerKeys,
      evqKeys: this.evqKeys,
      limits: config.limits,
      production: !config.devMode,
      logger,
      metrics: this.metrics,
      shutdownSignal: this.#shutdown.signal,
    });
    this.#ws = createWebSocketServer({ yoga: this.#yoga, access: this.access, limits: config.limits, logger, metrics: this.metrics });
    this.#restOptions = {
      service: this.service,
      access: this.access,
      logger,
      metrics: this.metrics,
      maxBodyBytes: config.limits.maxPayloadBytes + 64 * 1024,
    };
    this.#rest = createRestRoutes(this.#restOptions);
    this.#http = createServer((request, response) => void this.#handle(request, response));
    this.#http.on('upgrade', (request, socket, head) => this.#upgrade(request, socket, head));
    this.#http.keepAliveTimeout = 65_000;
  }

  /** Starts the engine and listens on the configured host and port (port 0 picks a free one). */
  async start(): Promise<void> {
    await this.engine.start();
    await this.evqKeys.start();
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(this.config.port, this.config.host, () => {
        this.#http.off('error', reject);
        resolve();
      });
    });
    this.#logger.info({ url: this.url, engine: this.engine.kind }, 'evq listening');
  }

  /** The base URL the server listens on, such as http://127.0.0.1:8080. */
  get url(): string {
    const address = this.#http.address() as AddressInfo | null;
    if (!address) return '';
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /**
   * Stops accepting connections, ends long-polls and subscriptions (WebSockets close with 1001),
   * waits up to the shutdown timeout for in-flight requests, then closes the engine.
   */
  close(): Promise<void> {
    this.#closing ??= this.#closeOnce();
    return this.#closing;
  }

  async #closeOnce(): Promise<void> {
    this.#logger.info({ inFlight: this.#inFlight.size }, 'evq shutting down');
    const closed = new Promise<void>((resolve) => this.#http.close(() => resolve()));
    this.#http.closeIdleConnections();
    this.#shutdown.abort();
    this.#hub.close();
    for (const socket of this.#ws.clients) socket.close(shutdownCloseCode, 'Server shutting down');

    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    while (this.#inFlight.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (this.#inFlight.size > 0) {
      this.#logger.warn({ inFlight: this.#inFlight.size }, 'shutdown timeout reached; closing remaining connections');
    }
    this.#http.closeAllConnections();
    for (const socket of this.#ws.clients) socket.terminate();
    await closed;
    await new Promise<void>((resolve) => this.#ws.close(() => resolve()));
    await this.#yoga.dispose();
    this.access.close();
    this.evqKeys.close();
    await this.engine.close();
    this.#logger.info('evq stopped');
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = headerValue(request.headers['x-request-id']) ?? randomUUID();
    request.headers['x-request-id'] = requestId;
    response.setHeader('x-request-id', requestId);
    this.#inFlight.add(response);
    const path = (request.url ?? '/').split('?')[0]!;
    const route = this.#routeName(path);
    response.once('close', () => {
      this.#inFlight.delete(response);
      const seconds = (performance.now() - started) / 1000;
      this.metrics.httpRequests.observe({ route, status: String(response.statusCode) }, seconds);
      if (this.#logger.isLevelEnabled('debug')) {
        this.#logger.debug({ requestId, method: request.method, path, status: response.statusCode, ms: seconds * 1000 }, 'request completed');
      }
    });

    try {
      await this.#dispatch(path, request, response, requestId);
    } catch (error) {
      this.#logger.error({ err: error, requestId, path }, 'request failed');
      if (!response.headersSent) sendJson(response, 500, { error: { code: 'INTERNAL', message: 'Internal server error.', requestId } });
      else response.destroy();
    }
  }

  async #dispatch(path: string, request: IncomingMessage, response: ServerResponse, requestId: string): Promise<void> {
    if (path === '/graphql') {
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > this.config.limits.maxRequestBytes) {
        request.resume();
        sendError(response, 413, errors.payloadTooLarge(declared, this.config.limits.maxRequestBytes), requestId);
        return;
      }
      await this.#yoga.handle(request, response);
      return;
    }
    const restHandler = this.#rest.get(path);
    if (restHandler) {
      let signal: AbortSignal | undefined;
      // A long-poll ends with the client, at shutdown, or when the caller's credential ends.
      const requestSignal = (principal: Principal) => {
        if (signal) return signal;
        const finished = new AbortController();
        response.once('close', () => finished.abort());
        const ended = credentialSignals(this.access, principal, request.headers.authorization ?? null, finished.signal, this.#logger.child({ requestId }));
        signal = AbortSignal.any([this.#shutdown.signal, closeSignal(response), ...ended]);
        return signal;
      };
      await serveRest(restHandler, request, response, { ...this.#restOptions, requestId, signal: requestSignal });
      return;
    }
    switch (path) {
      case '/healthz':
        sendJson(response, 200, { status: 'ok' });
        return;
      case '/readyz': {
        const ready =
          !this.#shutdown.signal.aborted &&
          (await this.engine.isReady().catch((error: unknown) => {
            this.#logger.warn({ err: error, requestId }, 'readiness check failed');
            return false;
          }));
        sendJson(response, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', engine: this.engine.kind });
        return;
      }
      case '/metrics': {
        const body = await this.metrics.registry.metrics();
        response.writeHead(200, { 'content-type': this.metrics.registry.contentType });
        response.end(body);
        return;
      }
      case '/.well-known/jwks.json': {
        const body = JSON.stringify(this.evqKeys.jwks());
        // Clients may cache it for a while: the next key is listed well before it signs anything.
        response.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=300' });
        response.end(body);
        return;
      }
      case '/openapi.json':
        sendJson(response, 200, openApiDocument(version));
        return;
      default:
        sendJson(response, 404, { error: { code: 'BAD_USER_INPUT', message: `No route for ${path}.`, details: { path }, requestId } });
    }
  }

  #routeName(path: string): string {
    if (path === '/graphql' || this.#rest.has(path)) return path;
    if (['/healthz', '/readyz', '/metrics', '/openapi.json', '/.well-known/jwks.json'].includes(path)) return path;
    return 'other';
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/graphql' || this.#shutdown.signal.aborted) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    this.#ws.handleUpgrade(request, socket, head, (client) => this.#ws.emit('connection', client, request));
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first && /^[\w.:-]{1,128}$/.test(first) ? first : undefined;
}

/** Creates a signal that aborts when the client goes away before the response is finished. */
function closeSignal(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  return controller.signal;
}
