import { describe, expect, it } from 'vitest';
import type { Engine, QuarantinedRecord, StoredMessage } from '../../../src/engines/engine.ts';
import { createTestQueue, dedupWindowMs, newMessages, readAll, withOwnEngine, type ConformanceSuite } from './helpers.ts';

/** Appends `count` messages to `queue` and returns them as stored. */
async function storeMessages(engine: Engine, queue: string, count: number): Promise<StoredMessage[]> {
  await engine.append(queue, newMessages(count), dedupWindowMs);
  return (await readAll(engine, queue)).map((entry) => entry.message);
}

/** Returns the record that `quarantine.add` takes for a stored message. */
function quarantineEntry(message: StoredMessage, reason = 'signature mismatch'): Omit<QuarantinedRecord, 'quarantinedAt'> {
  return { queue: message.queue, partition: message.partition, offset: message.offset, message, reason };
}

/** Registers the tests of `engine.quarantine`: add, list, dedup, limits, and removal with the queue. */
export function describeQuarantine(suite: ConformanceSuite): void {
  const { setup } = suite;

  describe('quarantine', () => {
    it('list returns added records oldest first', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const [first, second, third] = await storeMessages(engine, queue, 3);
      const before = Date.now();

      await engine.quarantine.add(quarantineEntry(third!, 'third'));
      await engine.quarantine.add(quarantineEntry(first!, 'first'));
      await engine.quarantine.add(quarantineEntry(second!, 'second'));

      const listed = await engine.quarantine.list(queue, 10);
      expect(listed.map((record) => record.reason)).toEqual(['third', 'first', 'second']);
      expect(listed[0]).toEqual({
        queue,
        partition: 0,
        offset: third!.offset,
        message: third,
        reason: 'third',
        quarantinedAt: expect.any(Date),
      });
      expect(listed[0]!.quarantinedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(listed[0]!.quarantinedAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it('add of a quarantined position keeps the first', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const [message] = await storeMessages(engine, queue, 1);

      await engine.quarantine.add(quarantineEntry(message!, 'first reason'));
      await engine.quarantine.add(quarantineEntry(message!, 'second reason'));
      await Promise.all([
        engine.quarantine.add(quarantineEntry(message!, 'third reason')),
        engine.quarantine.add(quarantineEntry(message!, 'fourth reason')),
      ]);

      const listed = await engine.quarantine.list(queue, 10);
      expect(listed.map((record) => [record.offset, record.reason])).toEqual([[message!.offset, 'first reason']]);
    });

    it('limit caps the list at the oldest', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const messages = await storeMessages(engine, queue, 5);
      for (const message of messages) {
        await engine.quarantine.add(quarantineEntry(message));
      }

      const listed = await engine.quarantine.list(queue, 2);

      expect(listed.map((record) => record.offset)).toEqual([messages[0]!.offset, messages[1]!.offset]);
      expect(await engine.quarantine.list(queue, 1)).toHaveLength(1);
      expect(await engine.quarantine.list(queue, 100)).toHaveLength(5);
    });

    it('list returns only the queue records', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, { partitions: 2 });
      const other = await createTestQueue(engine);
      const [message] = await storeMessages(engine, queue, 1);
      const [otherMessage] = await storeMessages(engine, other, 1);
      const otherPartition = 1 - message!.partition;
      const samePositionElsewhere = { ...quarantineEntry(message!), partition: otherPartition };

      await engine.quarantine.add(quarantineEntry(message!));
      await engine.quarantine.add(samePositionElsewhere);
      await engine.quarantine.add(quarantineEntry(otherMessage!));

      const listed = await engine.quarantine.list(queue, 10);
      expect(listed.map((record) => [record.queue, record.partition, record.offset])).toEqual([
        [queue, message!.partition, message!.offset],
        [queue, otherPartition, message!.offset],
      ]);
      expect((await engine.quarantine.list(other, 10)).map((record) => record.queue)).toEqual([other]);
    });

    it('message fields round-trip unchanged', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const message: StoredMessage = {
        id: 'tampered',
        queue,
        key: 'key with\nnewline',
        headers: { 'x-trace': 'abc', empty: '' },
        data: '{"not": "what was signed"',
        producer: 'producer-1',
        publishedAt: new Date('2026-01-02T03:04:05.678Z'),
        deliverAt: new Date('2026-01-02T04:00:00.000Z'),
        partition: 0,
        offset: 41,
      };

      await engine.quarantine.add({ queue, partition: 0, offset: 41, message, reason: 'data digest differs' });

      const [listed] = await engine.quarantine.list(queue, 10);
      expect(listed!.message).toEqual(message);
      expect(listed!.reason).toBe('data digest differs');
    });

    it('deleting the queue removes its records', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const [message] = await storeMessages(engine, queue, 1);
      await engine.quarantine.add(quarantineEntry(message!));

      await engine.deleteQueue(queue);

      await expect(engine.quarantine.list(queue, 10)).rejects.toMatchObject({ code: 'QUEUE_NOT_FOUND' });
      await engine.createQueue(queue, {});
      expect(await engine.quarantine.list(queue, 10)).toEqual([]);
      await engine.quarantine.add(quarantineEntry(message!, 'after re-creation'));
      expect((await engine.quarantine.list(queue, 10)).map((record) => record.reason)).toEqual(['after re-creation']);
    });

    it('purge removes the records', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const [message] = await storeMessages(engine, queue, 1);
      await engine.quarantine.add(quarantineEntry(message!, 'before purge'));

      await engine.purgeQueue(queue);

      expect(await engine.quarantine.list(queue, 10)).toEqual([]);
      await engine.quarantine.add(quarantineEntry(message!, 'after purge'));
      expect((await engine.quarantine.list(queue, 10)).map((record) => record.reason)).toEqual(['after purge']);
    });

    it('missing queue is QUEUE_NOT_FOUND', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const [message] = await storeMessages(engine, queue, 1);
      const missing = `${queue}-missing`;

      await expect(engine.quarantine.add({ ...quarantineEntry(message!), queue: missing })).rejects.toMatchObject({
        code: 'QUEUE_NOT_FOUND',
        details: { queue: missing },
      });
      await expect(engine.quarantine.list(missing, 10)).rejects.toMatchObject({
        code: 'QUEUE_NOT_FOUND',
        details: { queue: missing },
      });
    });

    it('invalid records and limits are BAD_USER_INPUT', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const [message] = await storeMessages(engine, queue, 1);
      const valid = quarantineEntry(message!);
      const invalid: [string, object][] = [
        ['queue', { ...valid, queue: '' }],
        ['partition', { ...valid, partition: -1 }],
        ['partition', { ...valid, partition: 1.5 }],
        ['offset', { ...valid, offset: Number.NaN }],
        ['offset', { ...valid, offset: '3' }],
        ['reason', { ...valid, reason: null }],
        ['message', { ...valid, message: null }],
        ['message', { ...valid, message: { ...message!, data: 10n } }],
      ];

      for (const [field, record] of invalid) {
        await expect(
          engine.quarantine.add(record as Omit<QuarantinedRecord, 'quarantinedAt'>),
          `record with invalid ${field}`,
        ).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field } });
      }
      for (const limit of [0, -1, 1.5, Number.NaN]) {
        await expect(engine.quarantine.list(queue, limit), `limit ${limit}`).rejects.toMatchObject({
          code: 'BAD_USER_INPUT',
          details: { field: 'limit' },
        });
      }
      await expect(engine.quarantine.list('', 10)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'queue' } });
      expect(await engine.quarantine.list(queue, 10)).toEqual([]);
    });

    it('quarantine is ENGINE_UNAVAILABLE after close', async () => {
      await withOwnEngine(setup, async (engine) => {
        const queue = await createTestQueue(engine, {}, { cleanup: false });
        const [message] = await storeMessages(engine, queue, 1);

        await engine.close();

        await expect(engine.quarantine.add(quarantineEntry(message!))).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
        await expect(engine.quarantine.list(queue, 10)).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
      });
    });

    it.skipIf(setup.reopen === undefined)('quarantined records survive a restart', async () => {
      await withOwnEngine(setup, async (engine, replace) => {
        const queue = await createTestQueue(engine, {}, { cleanup: false });
        const [message] = await storeMessages(engine, queue, 1);
        await engine.quarantine.add(quarantineEntry(message!, 'before restart'));

        const reopened = await setup.reopen!(engine);
        replace(reopened);
        await reopened.quarantine.add(quarantineEntry(message!, 'after restart'));

        const listed = await reopened.quarantine.list(queue, 10);
        expect(listed.map((record) => [record.offset, record.reason])).toEqual([[message!.offset, 'before restart']]);
        expect(listed[0]!.message).toEqual(message);
      });
    });
  });
}
