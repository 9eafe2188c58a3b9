import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestQueue, dedupWindowMs, newMessage, type ConformanceSuite } from './helpers.ts';

/** Registers the queue-management tests: create, get, list, update, delete and their errors. */
export function describeQueues(suite: ConformanceSuite): void {
  describe('queues', () => {
    it('createQueue applies the documented defaults', async () => {
      const engine = suite.engine();
      const before = Date.now();
      const name = await createTestQueue(engine);

      const config = await engine.getQueue(name);

      expect(config).toEqual({
        name,
        partitions: 1,
        retentionSeconds: 604_800,
        visibilityTimeoutSeconds: 30,
        maxAttempts: 5,
        requireSignature: false,
        createdAt: expect.any(Date),
      });
      expect(config!.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(config!.createdAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it('createQueue stores the given settings', async () => {
      const engine = suite.engine();
      const settings = {
        partitions: 3,
        retentionSeconds: 3600,
        visibilityTimeoutSeconds: 12,
        maxAttempts: 2,
        requireSignature: true,
      };
      const name = await createTestQueue(engine, settings);

      expect(await engine.getQueue(name)).toMatchObject({ name, ...settings });
    });

    it('createQueue rejects a taken name with QUEUE_EXISTS', async () => {
      const engine = suite.engine();
      const name = await createTestQueue(engine);

      await expect(engine.createQueue(name, {})).rejects.toMatchObject({ code: 'QUEUE_EXISTS' });
    });

    it('createQueue rejects partitions outside 1 to 64', async () => {
      const engine = suite.engine();

      for (const partitions of [0, 65, 1.5]) {
        await expect(engine.createQueue(`test-${randomUUID()}`, { partitions })).rejects.toMatchObject({
          code: 'BAD_USER_INPUT',
        });
      }
    });

    it('getQueue returns null for an unknown queue', async () => {
      expect(await suite.engine().getQueue(`test-${randomUUID()}`)).toBeNull();
    });

    it('listQueues filters by prefix and sorts by name', async () => {
      const engine = suite.engine();
      const prefix = `test-${randomUUID()}`;
      for (const suffix of ['-b', '-a', '-c']) {
        await engine.createQueue(prefix + suffix, {});
      }
      try {
        const names = (await engine.listQueues(prefix)).map((config) => config.name);
        expect(names).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
        const all = (await engine.listQueues()).map((config) => config.name);
        expect(all).toEqual(expect.arrayContaining(names));
        expect(all).toEqual([...all].sort());
      } finally {
        for (const suffix of ['-a', '-b', '-c']) {
          await engine.deleteQueue(prefix + suffix);
        }
      }
    });

    it('updateQueue changes settings but not partitions', async () => {
      const engine = suite.engine();
      const name = await createTestQueue(engine, { partitions: 2 });

      const updated = await engine.updateQueue(name, { maxAttempts: 9, visibilityTimeoutSeconds: 60 });

      expect(updated).toMatchObject({ name, partitions: 2, maxAttempts: 9, visibilityTimeoutSeconds: 60 });
      expect(await engine.getQueue(name)).toEqual(updated);
      await expect(engine.updateQueue(name, { partitions: 3 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
      await expect(engine.updateQueue(name, { maxAttempts: 0 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    });

    it('updateQueue of an unknown queue is QUEUE_NOT_FOUND', async () => {
      await expect(suite.engine().updateQueue(`test-${randomUUID()}`, { maxAttempts: 3 })).rejects.toMatchObject({
        code: 'QUEUE_NOT_FOUND',
      });
    });

    it('deleteQueue removes the queue once', async () => {
      const engine = suite.engine();
      const name = `test-${randomUUID()}`;
      await engine.createQueue(name, {});
      await engine.append(name, [newMessage()], dedupWindowMs);

      expect(await engine.deleteQueue(name)).toBe(true);
      expect(await engine.deleteQueue(name)).toBe(false);
      expect(await engine.getQueue(name)).toBeNull();
    });

    it('operations on a missing queue are QUEUE_NOT_FOUND', async () => {
      const engine = suite.engine();
      const name = `test-${randomUUID()}`;
      const notFound = { code: 'QUEUE_NOT_FOUND' };

      await expect(engine.append(name, [newMessage()], dedupWindowMs)).rejects.toMatchObject(notFound);
      await expect(engine.resolve(name, 'latest')).rejects.toMatchObject(notFound);
      await expect(engine.read(name, 'earliest', { limit: 1 })).rejects.toMatchObject(notFound);
      await expect(engine.receive(name, 'g', { limit: 1, visibilitySeconds: 1 })).rejects.toMatchObject(notFound);
      await expect(engine.stats(name, 'g')).rejects.toMatchObject(notFound);
      await expect(engine.purgeQueue(name)).rejects.toMatchObject(notFound);
      const tail = engine.tail(name, 'earliest', new AbortController().signal)[Symbol.asyncIterator]();
      await expect(tail.next()).rejects.toMatchObject(notFound);
    });

    it('a queue created again under a deleted name starts empty', async () => {
      const engine = suite.engine();
      const name = await createTestQueue(engine);
      await engine.append(name, [newMessage(), newMessage()], dedupWindowMs);
      const [lease] = await engine.receive(name, 'g', { limit: 1, visibilitySeconds: 30 });
      await engine.deleteQueue(name);

      await engine.createQueue(name, {});

      expect(await engine.resolve(name, 'latest')).toEqual([0]);
      expect((await engine.read(name, 'earliest', { limit: 10 })).entries).toEqual([]);
      const [outcome] = await engine.ack(name, [lease!.receipt]);
      expect(outcome).toMatchObject({ receipt: lease!.receipt, acked: false });
      const [result] = await engine.append(name, [newMessage()], dedupWindowMs);
      expect(result).toMatchObject({ partition: 0, offset: 0, duplicate: false });
    });
  });
}
