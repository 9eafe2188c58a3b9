import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createTestQueue, dedupWindowMs, idsOf, newMessage, newMessages, type ConformanceSuite } from './helpers.ts';

/** Registers the dead-letter tests: the move after the last attempt, listing and redrive. */
export function describeDeadLetters(suite: ConformanceSuite): void {
  describe('dead letters', () => {
    it('the last failed attempt dead-letters the message once', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, { maxAttempts: 2 });
      const message = newMessage();
      await engine.append(queue, [message], dedupWindowMs);
      const [first] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 });
      await engine.nack(queue, first!.receipt, 0, 'first failure');
      const [second] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 });
      const before = Date.now();

      await engine.nack(queue, second!.receipt, 0, 'second failure');

      const [stored] = await engine.read(queue, 'earliest', { limit: 1 }).then((result) => result.entries);
      const deadLetters = await engine.deadLetters(queue, null, 10);
      expect(deadLetters).toEqual([
        {
          message: stored!.message,
          group: 'g',
          attempts: 2,
          lastError: 'second failure',
          deadLetteredAt: expect.any(Date),
          sequence: expect.any(Number),
        },
      ]);
      expect(deadLetters[0]!.deadLetteredAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 })).toEqual([]);
      expect(await engine.deadLetters(queue, null, 10)).toEqual(deadLetters);
      expect(await engine.stats(queue, 'g')).toMatchObject({ ready: 0, inFlight: 0, deadLettered: 1 });
    });

    it('an expired last lease dead-letters with the timeout note', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, { maxAttempts: 1 });
      const message = newMessage();
      await engine.append(queue, [message], dedupWindowMs);
      await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 1 });

      await sleep(1200);

      expect(await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 })).toEqual([]);
      const deadLetters = await engine.deadLetters(queue, null, 10);
      expect(deadLetters).toHaveLength(1);
      expect(deadLetters[0]).toMatchObject({ group: 'g', attempts: 1, lastError: 'visibility timeout expired' });
      expect(deadLetters[0]!.message.id).toBe(message.id);
      expect(await engine.stats(queue, 'g')).toMatchObject({ ready: 0, inFlight: 0, deadLettered: 1 });
    });

    it('dead letters of one group leave other groups alone', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, { maxAttempts: 1 });
      const message = newMessage();
      await engine.append(queue, [message], dedupWindowMs);
      const [lease] = await engine.receive(queue, 'failing', { limit: 1, visibilitySeconds: 30 });

      await engine.nack(queue, lease!.receipt, 0, 'broken');

      expect(idsOf(await engine.receive(queue, 'healthy', { limit: 1, visibilitySeconds: 30 }))).toEqual([message.id]);
      expect((await engine.deadLetters(queue, null, 10)).map((deadLetter) => deadLetter.group)).toEqual(['failing']);
    });

    it('deadLetters pages by sequence', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, { maxAttempts: 1 });
      const messages = newMessages(3);
      await engine.append(queue, messages, dedupWindowMs);
      const leases = await engine.receive(queue, 'g', { limit: 3, visibilitySeconds: 30 });
      for (const lease of leases) {
        await engine.nack(queue, lease.receipt, 0, `failed ${lease.message.id}`);
      }

      const firstPage = await engine.deadLetters(queue, null, 2);
      const secondPage = await engine.deadLetters(queue, firstPage[1]!.sequence, 2);

      expect(idsOf(firstPage)).toEqual(idsOf(leases).slice(0, 2));
      expect(idsOf(secondPage)).toEqual(idsOf(leases).slice(2));
      expect(firstPage[1]!.sequence).toBeGreaterThan(firstPage[0]!.sequence);
      expect(secondPage[0]!.sequence).toBeGreaterThan(firstPage[1]!.sequence);
      expect(secondPage[0]!.lastError).toBe(`failed ${secondPage[0]!.message.id}`);
      expect(await engine.deadLetters(queue, secondPage[0]!.sequence, 2)).toEqual([]);
    });

    it('redrive returns dead letters to their group with attempts reset', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, { maxAttempts: 1 });
      const messages = newMessages(2);
      await engine.append(queue, messages, dedupWindowMs);
      for (const lease of await engine.receive(queue, 'g', { limit: 2, visibilitySeconds: 30 })) {
        await engine.nack(queue, lease.receipt, 0, 'broken');
      }

      expect(await engine.redrive(queue, 1)).toBe(1);
      expect(await engine.redrive(queue, 10)).toBe(1);
      expect(await engine.redrive(queue, 10)).toBe(0);

      expect(await engine.deadLetters(queue, null, 10)).toEqual([]);
      expect(await engine.stats(queue, 'g')).toMatchObject({ ready: 2, deadLettered: 0 });
      const leases = await engine.receive(queue, 'g', { limit: 10, visibilitySeconds: 30 });
      expect(idsOf(leases).sort()).toEqual(messages.map((message) => message.id).sort());
      expect(leases.map((lease) => lease.attempt)).toEqual([1, 1]);
      expect(await engine.receive(queue, 'other', { limit: 10, visibilitySeconds: 30 })).toHaveLength(2);
      const outcomes = await engine.ack(queue, leases.map((lease) => lease.receipt));
      expect(outcomes.map((outcome) => outcome.acked)).toEqual([true, true]);
      expect(await engine.stats(queue, 'g')).toMatchObject({ ready: 0, inFlight: 0, deadLettered: 0 });
    });
  });
}
