import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const token = 'crash-test-admin-token-0123456789';
const children: ChildProcess[] = [];
let dataDir = '';

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Returns whether the child exited. One killed by a signal keeps `exitCode` null and sets `signalCode`. */
function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts `evq serve` as a child process and waits until /readyz returns 200. */
async function startChild(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['src/main.ts', 'serve'], {
    env: { ...process.env, EVQ_PORT: String(port), EVQ_DATA_DIR: dataDir, EVQ_ADMIN_TOKEN: token, EVQ_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  children.push(child);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (hasExited(child)) throw new Error(`evq exited (${child.exitCode ?? child.signalCode}): ${stderr}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (response.status === 200) return child;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`evq did not become ready: ${stderr}`);
}

async function call(port: number, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function graphql(port: number, query: string, variables: Record<string, unknown>): Promise<any> {
  return (await call(port, '/graphql', { query, variables })).body;
}

describe('crash safety', () => {
  it('keeps every acknowledged publish and lease across SIGKILL', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'evq-crash-'));
    const port = await freePort();
    const first = await startChild(port);
    const queue = 'crash-test';
    const leaseQueue = 'crash-lease';
    const createQueue = 'mutation ($name: String!) { createQueue(input: { name: $name }) { name } }';
    await graphql(port, createQueue, { name: queue });
    await graphql(port, createQueue, { name: leaseQueue });

    await call(port, '/queue/publish', { queue: leaseQueue, id: 'leased', data: 'leased' });
    const leased = await call(port, '/queue/receive', { queue: leaseQueue, visibilitySeconds: 2 });
    expect(leased.body.deliveries[0]).toMatchObject({ attempt: 1, message: { id: 'leased' } });

    const acknowledged: string[] = [];
    let sequence = 0;
    let killed = false;
    const writer = async () => {
      while (!killed) {
        const id = `m-${sequence++}`;
        try {
          const result = await call(port, '/queue/publish', { queue, id, data: { id } });
          if (result.status === 200) acknowledged.push(id);
        } catch {
          // The connection died with the process; this publish was never acknowledged.
        }
      }
    };
    const writers = Array.from({ length: 8 }, writer);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    first.kill('SIGKILL');
    killed = true;
    await Promise.all(writers);
    await new Promise<void>((resolve) => (hasExited(first) ? resolve() : first.once('exit', () => resolve())));
    expect(acknowledged.length).toBeGreaterThan(50);

    await startChild(port);
    const stored = new Set<string>();
    let after: string | null = null;
    for (;;) {
      const page: any = await graphql(port, 'query ($queue: String!, $after: Cursor) { poll(queue: $queue, after: $after, limit: 1000) { cursor messages { id } } }', { queue, after });
      if (page.data.poll.messages.length === 0) break;
      for (const message of page.data.poll.messages) stored.add(message.id);
      after = page.data.poll.cursor;
    }
    const missing = acknowledged.filter((id) => !stored.has(id));
    expect(missing).toEqual([]);

    const redelivered = await call(port, '/queue/receive', { queue: leaseQueue, waitSeconds: 10 });
    expect(redelivered.body.deliveries).toHaveLength(1);
    expect(redelivered.body.deliveries[0]).toMatchObject({ attempt: 2, message: { id: 'leased' } });
  }, 60_000);
});
