import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EvqClient, EvqClientError } from '../src/client/index.ts';

/** Creates a client for EVQ_URL with EVQ_ADMIN_TOKEN, or with the token a dev server stored. */
export async function connect(): Promise<{ client: EvqClient; url: string; token: string }> {
  const url = process.env.EVQ_URL ?? 'http://127.0.0.1:8080';
  const token = process.env.EVQ_ADMIN_TOKEN ?? (await readStoredToken());
  return { client: new EvqClient({ url, token }), url, token };
}

async function readStoredToken(): Promise<string> {
  const path = join(process.env.EVQ_DATA_DIR ?? './data', 'admin-token');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    throw new Error(`No token: set EVQ_ADMIN_TOKEN, or start evq in dev mode so it stores one in ${path}.`);
  }
}

/** Creates the queue unless it exists already. */
export async function ensureQueue(url: string, token: string, queue: string): Promise<void> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: 'mutation ($name: String!) { createQueue(input: { name: $name }) { name } }', variables: { name: queue } }),
  });
  const body = (await response.json()) as { errors?: Array<{ message: string; extensions?: { code?: string } }> };
  const error = body.errors?.[0];
  if (error && error.extensions?.code !== 'QUEUE_EXISTS') throw new Error(`createQueue failed: ${error.message}`);
}

/**
 * Runs an example's main function and turns its failure into one readable line: the error code
 * evq returned, or a hint when the server cannot be reached.
 */
export async function runExample(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    const url = process.env.EVQ_URL ?? 'http://127.0.0.1:8080';
    if (error instanceof EvqClientError) {
      console.error(`evq returned ${error.code}: ${error.message}`);
    } else if (error instanceof TypeError && /fetch failed/.test(error.message)) {
      console.error(`Cannot reach evq at ${url}. Start it with \`npm start\`, or set EVQ_URL to where it listens.`);
    } else if (isSocketFailure(error)) {
      console.error(`The connection to evq at ${url} failed or closed. Check that the server is running.`);
    } else {
      console.error((error as Error).message ?? String(error));
    }
    process.exitCode = 1;
  }
}

/** graphql-ws rejects with a socket event or a CloseEvent-like object, not an Error. */
function isSocketFailure(error: unknown): boolean {
  return typeof error === 'object' && error !== null && !(error instanceof Error) && ('code' in error || 'target' in error);
}
