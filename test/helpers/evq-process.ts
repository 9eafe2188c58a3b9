import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { GraphQLResponse } from './evq.ts';

/** The admin token that every evq child process of the tests accepts. */
export const processAdminToken = 'process-test-admin-token-0123456789';

/** How long `startEvqProcess` waits for the child to listen and report ready, in ms. */
const startTimeoutMs = 30_000;

/** An `evq serve` child process on a loopback port that the kernel picked. */
export interface EvqProcess {
  /** Base URL, such as http://127.0.0.1:39123. */
  url: string;
  child: ChildProcess;
  /** Sends a GraphQL operation over HTTP with the admin token. */
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  /** Sends a REST request with the admin token and returns the status and the parsed JSON body. */
  rest(path: string, body: unknown): Promise<{ status: number; body: any }>;
  /** Returns the status of GET /readyz, or null when the request failed. */
  readyStatus(): Promise<number | null>;
  /** Opens a graphql-ws client with the admin token; `stop` disposes it. */
  wsClient(): Client;
  /** The child's log lines and standard error so far, for failure messages. */
  output(): string;
  /** Sends `signal` and resolves once the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Disposes the WebSocket clients, sends SIGTERM, waits for the exit and deletes the data folder. */
  stop(): Promise<void>;
}

/** True once the child has exited; a process killed by a signal sets `signalCode`, not `exitCode`. */
function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Starts `node src/main.ts serve` with `env` on top of the test's environment, port 0, info logs
 * and a data folder of its own. Resolves once the child logged its URL and /readyz returned 200.
 */
export async function startEvqProcess(env: Record<string, string>): Promise<EvqProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'evq-process-'));
  const child = spawn(process.execPath, ['src/main.ts', 'serve'], {
    env: {
      ...process.env,
      EVQ_HOST: '127.0.0.1',
      EVQ_PORT: '0',
      EVQ_DATA_DIR: dataDir,
      EVQ_ADMIN_TOKEN: processAdminToken,
      // Instances on one cluster share evq's signing keys, which only the same master key opens.
      EVQ_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
      EVQ_LOG_LEVEL: 'info',
      EVQ_SHUTDOWN_TIMEOUT_MS: '2000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const { promise: listening, resolve: onListening } = Promise.withResolvers<string>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    const url = listeningUrl(line);
    if (url !== null) onListening(url);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
  const exited = once(child, 'exit');
  const output = () => lines.join('\n');

  const url = await Promise.race([
    listening,
    exited.then(() => {
      throw new Error(`evq exited (${child.exitCode ?? child.signalCode}) before listening:\n${output()}`);
    }),
    sleep(startTimeoutMs, undefined, { ref: false }).then(() => {
      throw new Error(`evq did not listen within ${startTimeoutMs} ms:\n${output()}`);
    }),
  ]).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });

  const clients: Client[] = [];
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${processAdminToken}` };
  const kill = async (signal: NodeJS.Signals) => {
    if (hasExited(child)) return;
    child.kill(signal);
    await exited;
  };

  const evq: EvqProcess = {
    url,
    child,
    async gql(query, variables) {
      const response = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      const body = (await response.json()) as GraphQLResponse<any>;
      return { ...body, status: response.status };
    },
    async rest(path, body) {
      const response = await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      return { status: response.status, body: await response.json() };
    },
    async readyStatus() {
      try {
        const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        return response.status;
      } catch {
        return null;
      }
    },
    wsClient() {
      const client = createClient({
        url: `${url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${processAdminToken}` },
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      return client;
    },
    output,
    kill,
    async stop() {
      await Promise.all(clients.map((client) => client.dispose()));
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await kill('SIGTERM');
      clearTimeout(killer);
      await rm(dataDir, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + startTimeoutMs;
  while ((await evq.readyStatus()) !== 200) {
    if (hasExited(child) || Date.now() > deadline) {
      await evq.stop();
      throw new Error(`evq did not report ready within ${startTimeoutMs} ms:\n${output()}`);
    }
    await sleep(100);
  }
  return evq;
}

/** Returns the URL of the 'evq listening' log line, or null for any other line. */
function listeningUrl(line: string): string | null {
  try {
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    return entry.msg === 'evq listening' && typeof entry.url === 'string' ? entry.url : null;
  } catch {
    return null;
  }
}

/**
 * Calls `check` every `intervalMs` until it returns a value other than undefined, and returns that
 * value with the elapsed ms. Throws after `timeoutMs` with `description` in the message.
 */
export async function pollUntil<T>(
  description: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  intervalMs = 100,
): Promise<{ value: T; elapsedMs: number }> {
  const started = performance.now();
  for (;;) {
    const value = await check();
    const elapsedMs = Math.round(performance.now() - started);
    if (value !== undefined) return { value, elapsedMs };
    if (elapsedMs > timeoutMs) throw new Error(`${description} did not happen within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}
