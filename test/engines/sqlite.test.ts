import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Engine } from '../../src/engines/engine.ts';
import { SqliteEngine, type SqliteEngineOptions } from '../../src/engines/sqlite/sqlite-engine.ts';
import { createLogger, silentLogger } from '../../src/observability/logger.ts';
import { describeEngineConformance } from './conformance.ts';
import { createTestQueue, dedupWindowMs, idsOf, newMessage, newMessages, readAll } from './conformance/helpers.ts';

let directory: string | null = null;
const pathsOfEngines = new WeakMap<Engine, string>();

async function databasePath(): Promise<string> {
  directory ??= await mkdtemp(join(tmpdir(), 'evq-sqlite-'));
  return join(directory, `${randomUUID()}.db`);
}

async function openEngine(path: string, options: Partial<SqliteEngineOptions> = {}): Promise<SqliteEngine> {
  const engine = new SqliteEngine({ path, logger: silentLogger(), ...options });
  await engine.start();
  pathsOfEngines.set(engine, path);
  return engine;
}

/** Opens an engine on a new file and closes it when the test finishes. */
async function openTestEngine(options: Partial<SqliteEngineOptions> = {}): Promise<SqliteEngine> {
  const engine = await openEngine(await databasePath(), options);
  onTestFinished(async () => {
    await engine.close();
  });
  return engine;
}

describeEngineConformance('sqlite', {
  async create() {
    return openEngine(await databasePath());
  },
  async reopen(engine) {
    const path = pathsOfEngines.get(engine);
    if (path === undefined) {
      throw new Error('reopen() got an engine that create() did not return.');
    }
    await engine.close();
    return openEngine(path);
  },
  async cleanup() {
    if (directory !== null) {
      await rm(directory, { recursive: true, force: true });
      directory = null;
    }
  },
});

describe('sqlite engine', () => {
  afterAll(async () => {
    if (directory !== null) {
      await rm(directory, { recursive: true, force: true });
      directory = null;
    }
  });

  it('group commit stores 200 concurrent appends', async () => {
    const engine = await openTestEngine();
    const queue = await createTestQueue(engine, {}, { cleanup: false });
    const messages = newMessages(200);

    const results = await Promise.all(messages.map((message) => engine.append(queue, [message], dedupWindowMs)));

    const offsets = results.map(([result]) => result!.offset);
    expect(new Set(offsets).size).toBe(200);
    expect([...offsets].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, index) => index));
    const stored = await readAll(engine, queue);
    expect(stored.map((entry) => entry.message.offset)).toEqual(stored.map((_, index) => index));
    const idAtOffset = new Map(results.map(([result]) => [result!.offset, result!.id]));
    expect(idsOf(stored)).toEqual(stored.map((_, index) => idAtOffset.get(index)));
  });

  it("sync 'full' stores and reopens", async () => {
    const path = await databasePath();
    const engine = await openEngine(path, { sync: 'full' });
    const queue = await createTestQueue(engine, {}, { cleanup: false });
    const messages = newMessages(3);
    await engine.append(queue, messages, dedupWindowMs);
    await engine.close();

    const reopened = await openEngine(path, { sync: 'full' });
    onTestFinished(async () => {
      await reopened.close();
    });

    expect(idsOf(await readAll(reopened, queue))).toEqual(messages.map((message) => message.id));
  });

  it("':memory:' serves until closed", async () => {
    const engine = await openEngine(':memory:');
    onTestFinished(async () => {
      await engine.close();
    });
    const queue = await createTestQueue(engine, {}, { cleanup: false });
    const message = newMessage();

    await engine.append(queue, [message], dedupWindowMs);

    expect(idsOf(await readAll(engine, queue))).toEqual([message.id]);
  });

  it('retention sweep removes old messages and expires positions', async () => {
    let now = Date.now();
    const engine = await openTestEngine({ now: () => now, sweepIntervalMs: 20 });
    const queue = await createTestQueue(engine, { retentionSeconds: 60 }, { cleanup: false });
    await engine.append(queue, newMessages(3), dedupWindowMs);
    now += 30_000;
    const retained = newMessage();
    await engine.append(queue, [retained], dedupWindowMs);

    now += 31_000;
    await waitFor(async () => (await engine.resolve(queue, 'earliest'))[0] === 3);

    expect(idsOf(await readAll(engine, queue))).toEqual([retained.id]);
    await expect(engine.read(queue, [2], { limit: 10 })).rejects.toMatchObject({
      code: 'CURSOR_EXPIRED',
      details: { queue, partition: 0, offset: 2, earliest: 3 },
    });
    expect(await engine.stats(queue, 'g')).toMatchObject({ published: 1, ready: 1 });
    const [next] = await engine.append(queue, [newMessage()], dedupWindowMs);
    expect(next!.offset).toBe(4);
  });

  it('retention keeps a redriven message until it is delivered', async () => {
    let now = Date.now();
    const engine = await openTestEngine({ now: () => now, sweepIntervalMs: 20 });
    const queue = await createTestQueue(engine, { retentionSeconds: 60, maxAttempts: 1 }, { cleanup: false });
    const message = newMessage();
    await engine.append(queue, [message], dedupWindowMs);
    const [lease] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 });
    await engine.nack(queue, lease!.receipt, 0, 'broken');
    await engine.redrive(queue, 10);

    now += 61_000;
    await waitFor(async () => (await engine.stats(queue, 'g')).published === 0);

    const [again] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 });
    expect(again!.message.id).toBe(message.id);
    expect(again!.attempt).toBe(1);
  });

  it('sweep deletes expired dedup entries', async () => {
    let now = Date.now();
    const path = await databasePath();
    const engine = await openEngine(path, { now: () => now, sweepIntervalMs: 20 });
    onTestFinished(async () => {
      await engine.close();
    });
    const queue = await createTestQueue(engine, {}, { cleanup: false });
    const message = newMessage();
    await engine.append(queue, [message], 1000);
    const inspector = new DatabaseSync(path, { readOnly: true });
    onTestFinished(() => inspector.close());
    const countDedupRows = () => (inspector.prepare('SELECT count(*) AS count FROM dedup').get() as { count: number }).count;
    expect(countDedupRows()).toBe(1);

    now += 2000;
    await waitFor(async () => countDedupRows() === 0);

    const [again] = await engine.append(queue, [message], 1000);
    expect(again).toMatchObject({ offset: 1, duplicate: false });
  });

  it('sweep deletes expired nonce claims', async () => {
    let now = Date.now();
    const path = await databasePath();
    const engine = await openEngine(path, { now: () => now, sweepIntervalMs: 20 });
    onTestFinished(async () => {
      await engine.close();
    });
    await engine.nonces.claim('key-a', 'message-a', 1000);
    now += 500;
    await engine.nonces.claim('key-b', 'message-b', 1000);
    const inspector = new DatabaseSync(path, { readOnly: true });
    onTestFinished(() => inspector.close());
    const claimedKeys = () =>
      (inspector.prepare('SELECT key FROM nonce_claims ORDER BY key').all() as { key: string }[]).map((row) => row.key);
    expect(claimedKeys()).toEqual(['key-a', 'key-b']);

    now += 600;
    await waitFor(async () => claimedKeys().length === 1);

    expect(claimedKeys()).toEqual(['key-b']);
    expect(await engine.nonces.claim('key-a', 'message-c', 1000)).toBe('message-c');
    expect(await engine.nonces.claim('key-b', 'message-c', 1000)).toBe('message-b');
  });

  it('nonces and quarantine before start are ENGINE_UNAVAILABLE', async () => {
    const engine = new SqliteEngine({ path: await databasePath(), logger: silentLogger() });

    await expect(engine.nonces.claim('key', 'message-a', 1000)).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
    await expect(engine.quarantine.list('queue', 10)).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
  });

  it('a failed write rejects with ENGINE_UNAVAILABLE and stores nothing', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8'));
        callback();
      },
    });
    const path = await databasePath();
    const engine = await openEngine(path, { logger: createLogger({ level: 'error', destination }) });
    onTestFinished(async () => {
      await engine.close();
    });
    const queue = await createTestQueue(engine, {}, { cleanup: false });
    const saboteur = new DatabaseSync(path);
    saboteur.exec(`CREATE TRIGGER reject_poison BEFORE INSERT ON messages WHEN NEW.data = '"poison"'
      BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
    saboteur.close();
    const healthy = newMessage();

    const [poisoned, stored] = await Promise.allSettled([
      engine.append(queue, [newMessage(), newMessage({ data: '"poison"' })], dedupWindowMs),
      engine.append(queue, [healthy], dedupWindowMs),
    ]);

    expect(poisoned).toMatchObject({ status: 'rejected', reason: { code: 'ENGINE_UNAVAILABLE' } });
    expect(stored).toMatchObject({ status: 'fulfilled' });
    expect(idsOf(await readAll(engine, queue))).toEqual([healthy.id]);
    expect(lines.some((line) => line.includes(queue) && line.includes('injected failure'))).toBe(true);
  });

  it('shared records load into listeners added before start', async () => {
    const path = await databasePath();
    const first = await openEngine(path);
    await first.records.put('account/a', 'granted');
    await first.records.put('account/b', 'denied');
    await first.close();
    const engine = new SqliteEngine({ path, logger: silentLogger() });
    onTestFinished(async () => {
      await engine.close();
    });
    const loaded: [string, string | null, string | null][] = [];
    engine.records.onChange((key, value) => loaded.push([key, value, engine.records.get(key)]));

    await engine.start();

    expect(loaded.sort()).toEqual([
      ['account/a', 'granted', 'granted'],
      ['account/b', 'denied', 'denied'],
    ]);
  });

  it('a key filter reads past a long run of other keys', async () => {
    const engine = await openTestEngine();
    const queue = await createTestQueue(engine, {}, { cleanup: false });
    for (let batch = 0; batch < 12; batch++) {
      await engine.append(queue, newMessages(1000, { key: 'common' }), dedupWindowMs);
    }
    const rare = newMessage({ key: 'rare' });
    await engine.append(queue, [rare], dedupWindowMs);

    const result = await engine.read(queue, 'earliest', { limit: 10, key: 'rare', waitMs: 2000 });

    expect(idsOf(result.entries)).toEqual([rare.id]);
    expect(result.next).toEqual([12_001]);
  });
});

/** Polls `condition` every 10 ms until it holds, failing after `timeoutMs`. */
async function waitFor(condition: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`The condition did not hold within ${timeoutMs} ms.`);
    }
    await sleep(10);
  }
}
