import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  createTestQueue,
  dedupWindowMs,
  idsOf,
  newMessage,
  newMessages,
  readAll,
  type ConformanceSuite,
} from './helpers.ts';

/** Shortest visibility the service allows; tests that wait for a lease to end use it. */
const shortVisibility = 1;
/** A little more than `shortVisibility`, in ms. */
const pastShortVisibilityMs = 1200;

/** Registers the work-queue tests: receive, ack, nack, extendVisibility, waiting, groups and stats. */
export function describeWorkQueue(suite: ConformanceSuite): void {
  describe('work queue', () => {
    it('receive leases messages and ack completes them', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const messages = newMessages(3);
      await engine.append(queue, messages, dedupWindowMs);
      const stored = await readAll(engine, queue);
      const before = Date.now();

      const leases = await engine.receive(queue, 'workers', { limit: 10, visibilitySeconds: 30 });

      expect(leases.map((lease) => lease.message)).toEqual(stored.map((entry) => entry.message));
      for (const lease of leases) {
        expect(lease.group).toBe('workers');
        expect(lease.attempt).toBe(1);
        expect(typeof lease.receipt).toBe('string');
        expect(lease.visibleUntil.getTime()).toBeGreaterThanOrEqual(before + 29_000);
        expect(lease.visibleUntil.getTime()).toBeLessThanOrEqual(Date.now() + 31_000);
      }
      expect(new Set(leases.map((lease) => lease.receipt)).size).toBe(3);

      const outcomes = await engine.ack(queue, leases.map((lease) => lease.receipt));

      expect(outcomes).toEqual(leases.map((lease) => ({ receipt: lease.receipt, acked: true })));
      expect(await engine.receive(queue, 'workers', { limit: 10, visibilitySeconds: 30 })).toEqual([]);
      expect(await engine.stats(queue, 'workers')).toMatchObject({ ready: 0, inFlight: 0, published: 3 });
    });

    it('receive honours limit and keeps order in a partition', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const messages = newMessages(5);
      await engine.append(queue, messages, dedupWindowMs);

      const first = await engine.receive(queue, 'g', { limit: 2, visibilitySeconds: 30 });
      const second = await engine.receive(queue, 'g', { limit: 10, visibilitySeconds: 30 });

      const ids = messages.map((message) => message.id);
      expect(idsOf(first)).toEqual(ids.slice(0, 2));
      expect(idsOf(second)).toEqual(ids.slice(2));
    });

    it('receive rejects a limit outside 1 to 100', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);

      for (const limit of [0, 101]) {
        await expect(engine.receive(queue, 'g', { limit, visibilitySeconds: 30 })).rejects.toMatchObject({
          code: 'BAD_USER_INPUT',
        });
      }
    });

    it('a lease hides the message from its group only', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const message = newMessage();
      await engine.append(queue, [message], dedupWindowMs);

      const [lease] = await engine.receive(queue, 'one', { limit: 1, visibilitySeconds: 30 });

      expect(await engine.receive(queue, 'one', { limit: 1, visibilitySeconds: 30 })).toEqual([]);
      expect(idsOf(await engine.receive(queue, 'two', { limit: 1, visibilitySeconds: 30 }))).toEqual([message.id]);
      expect(lease!.message.id).toBe(message.id);
    });

    it('an expired lease redelivers with attempt 2', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const message = newMessage();
      await engine.append(queue, [message], dedupWindowMs);
      const [first] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: shortVisibility });

      await sleep(pastShortVisibilityMs);
      const [second] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 });

      expect(first!.attempt).toBe(1);
      expect(second!.message.id).toBe(message.id);
      expect(second!.attempt).toBe(2);
      expect(second!.receipt).not.toBe(first!.receipt);
      const [stale] = await engine.ack(queue, [first!.receipt]);
      expect(stale).toMatchObject({ receipt: first!.receipt, acked: false, error: expect.any(String) });
      await expect(engine.nack(queue, first!.receipt, 0)).rejects.toMatchObject({ code: 'RECEIPT_INVALID' });
      await expect(engine.extendVisibility(queue, first!.receipt, 30)).rejects.toMatchObject({
        code: 'RECEIPT_INVALID',
      });
      expect(await engine.ack(queue, [second!.receipt])).toEqual([{ receipt: second!.receipt, acked: true }]);
    });

    it('an expired lease is RECEIPT_INVALID before redelivery', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      await engine.append(queue, [newMessage()], dedupWindowMs);
      const [lease] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: shortVisibility });

      await sleep(pastShortVisibilityMs);

      await expect(engine.nack(queue, lease!.receipt, 0)).rejects.toMatchObject({ code: 'RECEIPT_INVALID' });
      const [outcome] = await engine.ack(queue, [lease!.receipt]);
      expect(outcome!.acked).toBe(false);
    });

    it('nack without delay makes the message ready at once', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const message = newMessage();
      await engine.append(queue, [message], dedupWindowMs);
      const [first] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 });

      await engine.nack(queue, first!.receipt, 0, 'try again');
      const [second] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 });

      expect(second!.message.id).toBe(message.id);
      expect(second!.attempt).toBe(2);
      await expect(engine.nack(queue, first!.receipt, 0)).rejects.toMatchObject({ code: 'RECEIPT_INVALID' });
    });

    it('nack with a delay holds the message back', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const message = newMessage();
      await engine.append(queue, [message], dedupWindowMs);
      const [first] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 });

      await engine.nack(queue, first!.receipt, 1, 'busy');

      expect(await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 })).toEqual([]);
      expect(await engine.stats(queue, 'g')).toMatchObject({ ready: 0, inFlight: 0, delayed: 1 });
      await sleep(pastShortVisibilityMs);
      const [second] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 });
      expect(second!.message.id).toBe(message.id);
      expect(second!.attempt).toBe(2);
    });

    it('extendVisibility keeps the lease past its first end', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      await engine.append(queue, [newMessage()], dedupWindowMs);
      const [lease] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: shortVisibility });
      const before = Date.now();

      const visibleUntil = await engine.extendVisibility(queue, lease!.receipt, 5);

      expect(visibleUntil.getTime()).toBeGreaterThanOrEqual(before + 4000);
      expect(visibleUntil.getTime()).toBeLessThanOrEqual(Date.now() + 6000);
      await sleep(pastShortVisibilityMs);
      expect(await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 })).toEqual([]);
      expect(await engine.stats(queue, 'g')).toMatchObject({ ready: 0, inFlight: 1 });
      expect(await engine.ack(queue, [lease!.receipt])).toEqual([{ receipt: lease!.receipt, acked: true }]);
    });

    it('malformed receipts are RECEIPT_INVALID', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      await engine.append(queue, [newMessage()], dedupWindowMs);
      const [lease] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 });
      const malformed = [
        '',
        'not-a-receipt',
        '%%%',
        `${lease!.receipt}x`,
        `${lease!.receipt}=`,
        `${lease!.receipt} `,
        lease!.receipt.slice(0, -2),
      ];

      for (const receipt of malformed) {
        await expect(engine.nack(queue, receipt, 0)).rejects.toMatchObject({ code: 'RECEIPT_INVALID' });
        await expect(engine.extendVisibility(queue, receipt, 30)).rejects.toMatchObject({ code: 'RECEIPT_INVALID' });
      }
      const outcomes = await engine.ack(queue, [...malformed, lease!.receipt]);

      expect(outcomes.map((outcome) => outcome.acked)).toEqual([...malformed.map(() => false), true]);
      for (const outcome of outcomes.slice(0, -1)) {
        expect(outcome.error).toEqual(expect.any(String));
      }
    });

    it('a receipt of another queue is RECEIPT_INVALID', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const other = await createTestQueue(engine);
      await engine.append(queue, [newMessage()], dedupWindowMs);
      const [lease] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 });

      await expect(engine.nack(other, lease!.receipt, 0)).rejects.toMatchObject({ code: 'RECEIPT_INVALID' });
      const [outcome] = await engine.ack(other, [lease!.receipt]);

      expect(outcome).toMatchObject({ receipt: lease!.receipt, acked: false });
      expect(await engine.ack(queue, [lease!.receipt])).toEqual([{ receipt: lease!.receipt, acked: true }]);
    });

    it('a receipt works once', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      await engine.append(queue, [newMessage()], dedupWindowMs);
      const [lease] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 });

      const outcomes = await engine.ack(queue, [lease!.receipt, lease!.receipt]);

      expect(outcomes[0]).toEqual({ receipt: lease!.receipt, acked: true });
      expect(outcomes[1]).toMatchObject({ receipt: lease!.receipt, acked: false, error: expect.any(String) });
      await expect(engine.nack(queue, lease!.receipt, 0)).rejects.toMatchObject({ code: 'RECEIPT_INVALID' });
    });

    it('groups each see every message once', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, { partitions: 3 });
      const messages = newMessages(6);
      await engine.append(queue, messages, dedupWindowMs);
      const ids = messages.map((message) => message.id).sort();

      const first = await engine.receive(queue, 'first', { limit: 10, visibilitySeconds: 30 });
      await engine.ack(queue, first.map((lease) => lease.receipt));
      const second = await engine.receive(queue, 'second', { limit: 10, visibilitySeconds: 30 });

      expect(idsOf(first).sort()).toEqual(ids);
      expect(idsOf(second).sort()).toEqual(ids);
      expect(await engine.receive(queue, 'first', { limit: 10, visibilitySeconds: 30 })).toEqual([]);
      expect(await engine.receive(queue, 'second', { limit: 10, visibilitySeconds: 30 })).toEqual([]);
    });

    it('a new group starts at the earliest retained message', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      await engine.append(queue, newMessages(2), dedupWindowMs);
      await engine.purgeQueue(queue);
      const retained = newMessage();
      await engine.append(queue, [retained], dedupWindowMs);

      const leases = await engine.receive(queue, 'late', { limit: 10, visibilitySeconds: 30 });

      expect(idsOf(leases)).toEqual([retained.id]);
    });

    it('a delayed message does not hold up the next one', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const delayed = newMessage({ deliverAt: new Date(Date.now() + 1000) });
      const immediate = newMessage();
      await engine.append(queue, [delayed, immediate], dedupWindowMs);

      const now = await engine.receive(queue, 'g', { limit: 10, visibilitySeconds: 30 });

      expect(idsOf(now)).toEqual([immediate.id]);
      expect(await engine.stats(queue, 'g')).toMatchObject({ ready: 0, inFlight: 1, delayed: 1 });
      await sleep(pastShortVisibilityMs);
      const later = await engine.receive(queue, 'g', { limit: 10, visibilitySeconds: 30 });
      expect(idsOf(later)).toEqual([delayed.id]);
      expect(later[0]!.attempt).toBe(1);
      expect(later[0]!.message.deliverAt).toEqual(delayed.deliverAt);
    });

    it('a delayed message shows in the stream at once', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const delayed = newMessage({ deliverAt: new Date(Date.now() + 60_000) });
      await engine.append(queue, [delayed], dedupWindowMs);

      expect(idsOf(await readAll(engine, queue))).toEqual([delayed.id]);
    });
  });

  describe('receive waits', () => {
    it('receive waits for an append', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const message = newMessage();
      const started = Date.now();

      const pending = engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30, waitMs: 5000 });
      setTimeout(() => void engine.append(queue, [message], dedupWindowMs), 100);
      const leases = await pending;

      expect(idsOf(leases)).toEqual([message.id]);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('receive waits for a delayed message to come due', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const delayed = newMessage({ deliverAt: new Date(Date.now() + 700) });
      await engine.append(queue, [delayed], dedupWindowMs);
      const started = Date.now();

      const leases = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30, waitMs: 5000 });

      expect(idsOf(leases)).toEqual([delayed.id]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(500);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('receive waits for a lease to expire', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const message = newMessage();
      await engine.append(queue, [message], dedupWindowMs);
      await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: shortVisibility });

      const leases = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30, waitMs: 5000 });

      expect(idsOf(leases)).toEqual([message.id]);
      expect(leases[0]!.attempt).toBe(2);
    });

    it('receive is woken by a nack', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const message = newMessage();
      await engine.append(queue, [message], dedupWindowMs);
      const [held] = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 });
      const started = Date.now();

      const pending = engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30, waitMs: 5000 });
      setTimeout(() => void engine.nack(queue, held!.receipt, 0), 100);
      const leases = await pending;

      expect(idsOf(leases)).toEqual([message.id]);
      expect(leases[0]!.attempt).toBe(2);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('receive returns empty after waitMs', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const started = Date.now();

      const leases = await engine.receive(queue, 'g', { limit: 1, visibilitySeconds: 30, waitMs: 300 });

      expect(leases).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('receive stops waiting when the signal aborts', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const controller = new AbortController();
      const started = Date.now();

      setTimeout(() => controller.abort(), 100);
      const leases = await engine.receive(queue, 'g', {
        limit: 1,
        visibilitySeconds: 30,
        waitMs: 10_000,
        signal: controller.signal,
      });

      expect(leases).toEqual([]);
      expect(Date.now() - started).toBeLessThan(3000);
    });
  });

  describe('stats and purge', () => {
    it('stats counts each state of a group', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      await engine.append(queue, newMessages(4), dedupWindowMs);
      await engine.append(queue, [newMessage({ deliverAt: new Date(Date.now() + 60_000) })], dedupWindowMs);
      const states = { deadLettered: 0, published: 5 };

      expect(await engine.stats(queue, 'g')).toEqual({ ready: 4, inFlight: 0, delayed: 1, ...states });
      const [first, second] = await engine.receive(queue, 'g', { limit: 2, visibilitySeconds: 30 });
      expect(await engine.stats(queue, 'g')).toEqual({ ready: 2, inFlight: 2, delayed: 1, ...states });
      await engine.nack(queue, first!.receipt, 60);
      expect(await engine.stats(queue, 'g')).toEqual({ ready: 2, inFlight: 1, delayed: 2, ...states });
      await engine.ack(queue, [second!.receipt]);
      expect(await engine.stats(queue, 'g')).toEqual({ ready: 2, inFlight: 0, delayed: 2, ...states });
      expect(await engine.stats(queue, 'other')).toEqual({ ready: 4, inFlight: 0, delayed: 1, ...states });
    });

    it('purge removes messages, leases and dead letters', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, { maxAttempts: 1 });
      await engine.append(queue, newMessages(3), dedupWindowMs);
      const [failed, held] = await engine.receive(queue, 'g', { limit: 2, visibilitySeconds: 30 });
      await engine.nack(queue, failed!.receipt, 0, 'broken');
      expect(await engine.deadLetters(queue, null, 10)).toHaveLength(1);

      await engine.purgeQueue(queue);

      expect(await engine.stats(queue, 'g')).toEqual({ ready: 0, inFlight: 0, delayed: 0, deadLettered: 0, published: 0 });
      expect(await engine.deadLetters(queue, null, 10)).toEqual([]);
      expect(await engine.receive(queue, 'g', { limit: 10, visibilitySeconds: 30 })).toEqual([]);
      const [outcome] = await engine.ack(queue, [held!.receipt]);
      expect(outcome!.acked).toBe(false);
      expect((await engine.read(queue, 'earliest', { limit: 10 })).entries).toEqual([]);
    });
  });
}
