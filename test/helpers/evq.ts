import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.ts';
import { SqliteEngine } from '../../src/engines/sqlite/sqlite-engine.ts';
import { type Logger, silentLogger } from '../../src/observability/logger.ts';
import { EvqServer } from '../../src/server.ts';

export const adminToken = 'test-admin-token-0123456789abcdef';
/** Master key of every test server, so a service token issued by one is valid at another. */
export const masterKey = Buffer.alloc(32, 7);

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, any>; path?: string[] }>;
}

/** A running evq server on a free loopback port, backed by SQLite in a temp folder. */
export interface TestEvq {
  server: EvqServer;
  url: string;
  dataDir: string;
  /** Sends a GraphQL operation over HTTP with `token`, or the admin token when it is undefined. */
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GraphQLResponse<T>>;
  /** Sends a REST request with `token`, or the admin token when it is undefined. */
  rest(path: string, body: unknown, token?: string | null): Promise<{ status: number; body: any; headers: Headers }>;
  /** Opens a graphql-ws client; closed with the server. */
  wsClient(token?: string | null): Client;
  /** Creates a queue named `test-<uuid>` and returns its name. */
  createQueue(settings?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Logger of the server and its engine; a silent one when omitted. */
  logger?: Logger;
}

export async function startEvq(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestEvq> {
  const dataDir = await mkdtemp(join(tmpdir(), 'evq-test-'));
  const config = loadConfig({ EVQ_PORT: '0', EVQ_DATA_DIR: dataDir, EVQ_LOG_LEVEL: 'silent', EVQ_SHUTDOWN_TIMEOUT_MS: '2000', ...env });
  const logger = options.logger ?? silentLogger();
  const engine = new SqliteEngine({ path: join(dataDir, 'evq.db'), sync: 'normal', logger });
  const server = new EvqServer({ config, engine, adminToken, masterKey, logger });
  await server.start();
  const url = server.url;
  const clients: Client[] = [];

  const headers = (token: string | null | undefined) => ({
    'content-type': 'application/json',
    ...(token === null ? {} : { authorization: `Bearer ${token ?? adminToken}` }),
  });

  const evq: TestEvq = {
    server,
    url,
    dataDir,
    async gql(query, variables, token) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: headers(token),
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as GraphQLResponse<any>;
      return { ...body, status: response.status };
    },
    async rest(path, body, token) {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: headers(token),
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json(), headers: response.headers };
    },
    wsClient(token) {
      const client = createClient({
        url: `${url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: token === null ? {} : { authorization: `Bearer ${token ?? adminToken}` },
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      return client;
    },
    async createQueue(settings = {}) {
      const name = `test-${randomUUID()}`;
      const result = await evq.gql('mutation ($input: CreateQueueInput!) { createQueue(input: $input) { name } }', {
        input: { name, ...settings },
      });
      if (result.errors) throw new Error(`createQueue failed: ${JSON.stringify(result.errors)}`);
      return name;
    },
    async close() {
      await Promise.all(clients.map((client) => client.dispose()));
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return evq;
}

/** Collects `count` results of a subscription, failing after `timeoutMs`. */
export async function collect<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  count: number,
  timeoutMs = 10_000,
): Promise<T[]> {
  const results: T[] = [];
  const iterator = client.iterate<T>({ query, variables });
  const timeout = setTimeout(() => void iterator.return?.(), timeoutMs);
  try {
    for await (const result of iterator) {
      if (result.errors) throw new Error(`subscription error: ${JSON.stringify(result.errors)}`);
      results.push(result.data as T);
      if (results.length >= count) break;
    }
  } finally {
    clearTimeout(timeout);
  }
  return results;
}
