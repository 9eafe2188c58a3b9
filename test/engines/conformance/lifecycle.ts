import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  createTestQueue,
  dedupWindowMs,
  idsOf,
  newMessage,
  newMessages,
  readAll,
  withOwnEngine,
  type ConformanceSuite,
} from './helpers.ts';

/** Registers the lifecycle tests: close, readiness, and survival of a restart on the same storage. */
export function describeLifecycle(suite: ConformanceSuite): void {
  const { setup } = suite;

  describe('lifecycle', () => {
    it('isReady is true while open and false after close', async () => {
      await withOwnEngine(setup, async (engine) => {
        expect(await engine.isReady()).toBe(true);
        await engine.close();
        expect(await engine.isReady()).toBe(false);
      });
    });

    it('close is idempotent and later calls are ENGINE_UNAVAILABLE', async () => {
      await withOwnEngine(setup, async (engine) => {
        const queue = await createTestQueue(engine, {}, { cleanup: false });

        await Promise.all([engine.close(), engine.close()]);
        await engine.close();

        await expect(engine.append(queue, [newMessage()], dedupWindowMs)).rejects.toMatchObject({
          code: 'ENGINE_UNAVAILABLE',
        });
        await expect(engine.read(queue, 'earliest', { limit: 1 })).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
        await expect(engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 1 })).rejects.toMatchObject({
          code: 'ENGINE_UNAVAILABLE',
        });
      });
    });

    it('close waits for pending appends and wakes waiters', async () => {
      await withOwnEngine(setup, async (engine, replace) => {
        const queue = await createTestQueue(engine, {}, { cleanup: false });
        const controller = new AbortController();
        const tail = engine.tail(queue, 'latest', controller.signal)[Symbol.asyncIterator]();
        const waitingRead = engine.read(queue, 'latest', { limit: 1, waitMs: 10_000, key: 'never' });
        const waitingReceive = engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30, waitMs: 10_000 });
        await sleep(50);
        const waitingTail = tail.next();
        const messages = newMessages(3);
        const pendingAppend = engine.append(queue, messages, dedupWindowMs);
        const started = Date.now();

        await engine.close();

        const results = await pendingAppend;
        expect(results.map((result) => result.duplicate)).toEqual([false, false, false]);
        expect((await waitingRead).entries).toEqual([]);
        await waitingReceive;
        await waitingTail;
        expect(Date.now() - started).toBeLessThan(3000);
        controller.abort();
        if (setup.reopen !== undefined) {
          const reopened = await setup.reopen(engine);
          replace(reopened);
          expect(idsOf(await readAll(reopened, queue))).toEqual(messages.map((message) => message.id));
        }
      });
    });
  });

  describe.skipIf(setup.reopen === undefined)('restart', () => {
    it('messages, leases, dead letters and dedup survive a restart', async () => {
      await withOwnEngine(setup, async (engine, replace) => {
        const queue = await createTestQueue(engine, { partitions: 2, maxAttempts: 1 }, { cleanup: false });
        const messages = newMessages(3, { key: 'same' });
        const appended = await engine.append(queue, messages, dedupWindowMs);
        const [held, failed] = await engine.receive(queue, 'g', { limit: 2, visibilitySeconds: 30 });
        await engine.nack(queue, failed!.receipt, 0, 'broken');

        const reopened = await setup.reopen!(engine);
        replace(reopened);

        expect(await reopened.getQueue(queue)).toMatchObject({ name: queue, partitions: 2, maxAttempts: 1 });
        expect(idsOf(await readAll(reopened, queue))).toEqual(messages.map((message) => message.id));
        expect(await reopened.append(queue, [messages[0]!], dedupWindowMs)).toEqual([{ ...appended[0], duplicate: true }]);
        expect(await reopened.ack(queue, [held!.receipt])).toEqual([{ receipt: held!.receipt, acked: true }]);
        const deadLetters = await reopened.deadLetters(queue, null, 10);
        expect(deadLetters.map((deadLetter) => [deadLetter.message.id, deadLetter.lastError])).toEqual([
          [messages[1]!.id, 'broken'],
        ]);
        expect(idsOf(await reopened.receive(queue, 'g', { limit: 10, visibilitySeconds: 30 }))).toEqual([
          messages[2]!.id,
        ]);
      });
    });

    it('a lease held across a restart is redelivered with the next attempt', async () => {
      await withOwnEngine(setup, async (engine, replace) => {
        const queue = await createTestQueue(engine, {}, { cleanup: false });
        const message = newMessage();
        await engine.append(queue, [message], dedupWindowMs);
        const [lease] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 2 });

        const reopened = await setup.reopen!(engine);
        replace(reopened);

        if (Date.now() < lease!.visibleUntil.getTime() - 300) {
          expect(await reopened.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 })).toEqual([]);
        }
        await sleep(Math.max(lease!.visibleUntil.getTime() - Date.now(), 0) + 200);
        const [again] = await reopened.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 });
        expect(again!.message.id).toBe(message.id);
        expect(again!.attempt).toBe(2);
        const [stale] = await reopened.ack(queue, [lease!.receipt]);
        expect(stale!.acked).toBe(false);
      });
    });
  });
}
