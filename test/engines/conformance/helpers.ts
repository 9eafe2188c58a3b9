import { randomUUID } from 'node:crypto';
import { onTestFinished } from 'vitest';
import type { Engine, NewMessage, QueueSettings, ReadEntry, StoredMessage } from '../../../src/engines/engine.ts';

/** How a conformance run gets engines. */
export interface ConformanceSetup {
  /** Returns a started engine on fresh storage. */
  create(): Promise<Engine>;
  /** Removes what `create` left behind; runs once after the suite has closed its engines. */
  cleanup?(): Promise<void>;
  /**
   * Closes `engine` and returns a started engine on the same storage, as after a restart of evq.
   * Without it, the restart tests are skipped.
   */
  reopen?(engine: Engine): Promise<Engine>;
}

/** What each section of the suite gets: the setup and the engine shared by its tests. */
export interface ConformanceSuite {
  setup: ConformanceSetup;
  /** The shared engine; valid inside tests, after the suite's beforeAll has run. */
  engine(): Engine;
}

/** Runs `test` on an engine of its own from `setup` and closes whatever engine it ends with. */
export async function withOwnEngine(
  setup: ConformanceSetup,
  test: (engine: Engine, replace: (next: Engine) => void) => Promise<void>,
): Promise<void> {
  let engine = await setup.create();
  try {
    await test(engine, (next) => {
      engine = next;
    });
  } finally {
    await engine.close();
  }
}

/** Dedup window passed to `append` where a test does not care: ten minutes. */
export const dedupWindowMs = 600_000;

/**
 * Creates a queue named `test-<uuid>` and deletes it when the test finishes. Pass `cleanup: false`
 * for an engine that the test closes itself.
 */
export async function createTestQueue(
  engine: Engine,
  settings: QueueSettings = {},
  options: { cleanup?: boolean } = {},
): Promise<string> {
  const name = `test-${randomUUID()}`;
  await engine.createQueue(name, settings);
  if (options.cleanup !== false) {
    onTestFinished(async () => {
      await engine.deleteQueue(name);
    });
  }
  return name;
}

/** Returns a message with a fresh id and no key, headers, producer or delay, changed by `fields`. */
export function newMessage(fields: Partial<NewMessage> = {}): NewMessage {
  const id = fields.id ?? randomUUID();
  return {
    id,
    key: null,
    headers: {},
    data: JSON.stringify({ id }),
    producer: null,
    deliverAt: null,
    ...fields,
  };
}

/** Returns `count` messages from `newMessage`, each with the same extra fields. */
export function newMessages(count: number, fields: Partial<NewMessage> = {}): NewMessage[] {
  return Array.from({ length: count }, () => newMessage(fields));
}

/** Reads every message from `start` (up to 1000) without waiting. */
export async function readAll(engine: Engine, queue: string, start: 'earliest' | number[] = 'earliest'): Promise<ReadEntry[]> {
  const result = await engine.read(queue, start, { limit: 1000 });
  return result.entries;
}

export function idsOf(items: readonly { message: StoredMessage }[]): string[] {
  return items.map((item) => item.message.id);
}

/**
 * Pulls batches from a tail until it has yielded `count` messages, or rejects after `timeoutMs`.
 * Leaves the iterator open; the caller aborts the tail's signal.
 */
export async function takeFromTail(
  iterator: AsyncIterator<ReadEntry[]>,
  count: number,
  timeoutMs = 5000,
): Promise<ReadEntry[]> {
  const entries: ReadEntry[] = [];
  const deadline = Date.now() + timeoutMs;
  while (entries.length < count) {
    const remaining = deadline - Date.now();
    const next = await Promise.race([
      iterator.next(),
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), Math.max(remaining, 0))),
    ]);
    if (next === 'timeout') {
      throw new Error(`The tail yielded ${entries.length} of ${count} messages within ${timeoutMs} ms.`);
    }
    if (next.done === true) {
      throw new Error(`The tail ended after ${entries.length} of ${count} messages.`);
    }
    entries.push(...next.value);
  }
  return entries;
}
