import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessControl } from '../auth/access-control.ts';
import type { AccessRequest } from '../auth/grants.ts';
import type { Principal } from '../auth/principal.ts';
import { EvqError, errors, isEvqError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { QueueService } from '../queues/queue-service.ts';
import type { PublishInput } from '../queues/validation.ts';

export interface RestOptions {
  service: QueueService;
  access: AccessControl;
  logger: Logger;
  metrics: Metrics;
  /** Max request body, in bytes; the payload limit itself is checked per message. */
  maxBodyBytes: number;
}

/** A REST route: the permission it needs, read from the body, and the handler that runs once it is granted. */
interface Route {
  /** Returns the request that AccessControl.authorize checks. */
  access(body: Record<string, unknown>): AccessRequest;
  /** Serves the request; `signal()` creates, on first call, a signal that aborts when the client leaves. */
  handle(body: Record<string, unknown>, principal: Principal, signal: () => AbortSignal): Promise<unknown>;
}

/** Work-queue routes can hand out or settle a message of any key, so they need CONSUME without a key template. */
const consume = (body: Record<string, unknown>): AccessRequest => ({ action: 'CONSUME', queue: requireString(body.queue, 'queue'), keys: null });

/** Creates the REST routes for curl and services that do not speak GraphQL, with the same auth, limits and codes. */
export function createRestRoutes(options: RestOptions): Map<string, Route> {
  const { service, access } = options;
  return new Map<string, Route>([
    [
      '/queue/publish',
      {
        access: (body) => ({
          action: 'PUBLISH',
          queue: requireString(body.queue, 'queue'),
          keys: [typeof body.key === 'string' ? body.key : null],
        }),
        handle: async (body, principal) => {
          access.takePublishQuota(principal, 1);
          const { queue, ...message } = body;
          return service.publish(queue as string, message as unknown as PublishInput, principal.id);
        },
      },
    ],
    [
      '/queue/receive',
      {
        access: consume,
        handle: async (body, _principal, signal) => {
          const deliveries = await service.receive(body.queue as string, {
            group: optional(body.group, 'default') as string,
            limit: optional(body.limit, 1) as number,
            waitSeconds: optional(body.waitSeconds, 0) as number,
            visibilitySeconds: (body.visibilitySeconds ?? null) as number | null,
            signal: signal(),
          });
          return {
            deliveries: deliveries.map((delivery) => ({
              ...delivery,
              message: { ...delivery.message, data: JSON.parse(delivery.message.data) as unknown },
            })),
          };
        },
      },
    ],
    [
      '/queue/ack',
      {
        access: consume,
        handle: async (body) => {
          const receipts = body.receipts ?? (body.receipt === undefined ? undefined : [body.receipt]);
          const outcomes = await service.ack(body.queue as string, receipts as string[]);
          return { results: outcomes.map((outcome) => (outcome.acked ? outcome : { ...outcome, code: 'RECEIPT_INVALID' })) };
        },
      },
    ],
    [
      '/queue/nack',
      {
        access: consume,
        handle: async (body) => {
          await service.nack(
            body.queue as string,
            requireString(body.receipt, 'receipt'),
            optional(body.delaySeconds, 0) as number,
            (body.error ?? null) as string | null,
          );
          return { nacked: true };
        },
      },
    ],
  ]);
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw errors.invalidInput(field, value, 'a string');
  return value;
}

function optional(value: unknown, fallback: unknown): unknown {
  return value === undefined || value === null ? fallback : value;
}

/** Serves one REST request: authenticates, reads the JSON body within the limit and sends a JSON response. */
export async function serveRest(
  route: Route,
  request: IncomingMessage,
  response: ServerResponse,
  options: RestOptions & { requestId: string; signal: (principal: Principal) => AbortSignal },
): Promise<void> {
  if (request.method !== 'POST') {
    response.setHeader('allow', 'POST');
    sendError(response, 405, new EvqError('BAD_USER_INPUT', `Method ${request.method} is not allowed; use POST.`, { method: request.method }), options.requestId);
    return;
  }
  try {
    const principal = await options.access.authenticate(request.headers.authorization, {
      transport: 'http',
      requestId: options.requestId,
      remote: request.socket.remoteAddress,
    });
    const body = await readJsonBody(request, options.maxBodyBytes);
    options.access.authorize(principal, route.access(body));
    const result = await route.handle(body, principal, () => options.signal(principal));
    sendJson(response, 200, result);
  } catch (error) {
    const evqError = isEvqError(error) ? error : null;
    if (!evqError) {
      options.logger.error({ err: error, requestId: options.requestId, path: request.url }, 'unexpected error in a REST route');
    }
    const reported = evqError ?? new EvqError('INTERNAL', `Internal server error (request id ${options.requestId}).`);
    options.metrics.errors.inc({ code: reported.code });
    sendError(response, reported.status, reported, options.requestId);
  }
}

/** Sends `{ error: { code, message, details, requestId } }` with the given status, and Retry-After for RATE_LIMITED. */
export function sendError(response: ServerResponse, status: number, error: EvqError, requestId: string): void {
  const retryAfter = error.details.retryAfterSeconds;
  if (typeof retryAfter === 'number') response.setHeader('retry-after', String(retryAfter));
  sendJson(response, status, {
    error: { code: error.code, message: error.message, details: error.details, requestId },
  });
}

/** Reads a JSON object body. Throws PAYLOAD_TOO_LARGE past `maxBytes` and BAD_USER_INPUT for invalid JSON. */
export async function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    request.resume();
    throw errors.payloadTooLarge(declared, maxBytes);
  }
  const text = await readText(request, maxBytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new EvqError('BAD_USER_INPUT', `Invalid JSON in the request body: ${(error as Error).message}.`, {
      field: 'body',
      value: text.slice(0, 80),
    });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw errors.invalidInput('body', body, 'a JSON object');
  }
  return body as Record<string, unknown>;
}

/**
 * Reads the body as UTF-8 with stream events, which costs less per request than an async
 * iterator. Rejects with PAYLOAD_TOO_LARGE once more than `maxBytes` arrived.
 */
function readText(request: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.removeAllListeners('data');
        request.resume();
        reject(errors.payloadTooLarge(size, maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    request.once('error', reject);
  });
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}
