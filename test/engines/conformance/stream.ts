import { describe, expect, it } from 'vitest';
import {
  createTestQueue,
  dedupWindowMs,
  idsOf,
  newMessage,
  newMessages,
  readAll,
  takeFromTail,
  type ConformanceSuite,
} from './helpers.ts';

/** Registers the stream tests: append, read, positions, long polls, tail and dedup. */
export function describeStream(suite: ConformanceSuite): void {
  describe('append and read', () => {
    it('append assigns growing offsets from 0 in order', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const messages = newMessages(3);

      const results = await engine.append(queue, messages, dedupWindowMs);

      expect(results.map((result) => result.id)).toEqual(messages.map((message) => message.id));
      expect(results.map((result) => result.partition)).toEqual([0, 0, 0]);
      expect(results.map((result) => result.duplicate)).toEqual([false, false, false]);
      expect(results[0]!.offset).toBe(0);
      expect(results[1]!.offset).toBeGreaterThan(results[0]!.offset);
      expect(results[2]!.offset).toBeGreaterThan(results[1]!.offset);
    });

    it('read returns every stored field', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const deliverAt = new Date(Date.now() + 3_600_000);
      const message = newMessage({
        key: 'customer-7',
        headers: { 'content-type': 'application/json', trace: 'abc' },
        data: '{"b":1,  "a":[true,null]}',
        producer: 'service:billing',
        deliverAt,
      });
      const before = Date.now();
      await engine.append(queue, [message], dedupWindowMs);

      const [entry] = await readAll(engine, queue);

      expect(entry!.message).toEqual({
        id: message.id,
        queue,
        key: 'customer-7',
        headers: { 'content-type': 'application/json', trace: 'abc' },
        data: '{"b":1,  "a":[true,null]}',
        producer: 'service:billing',
        publishedAt: expect.any(Date),
        deliverAt,
        partition: 0,
        offset: 0,
      });
      expect(entry!.message.publishedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(entry!.message.publishedAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      expect(entry!.after).toEqual([1]);
    });

    it('read returns messages in order with positions', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const messages = newMessages(3);
      const appended = await engine.append(queue, messages, dedupWindowMs);

      const result = await engine.read(queue, 'earliest', { limit: 10 });

      expect(idsOf(result.entries)).toEqual(messages.map((message) => message.id));
      expect(result.entries.map((entry) => entry.message.offset)).toEqual(appended.map((item) => item.offset));
      expect(result.entries.map((entry) => entry.after)).toEqual(appended.map((item) => [item.offset + 1]));
      expect(result.next).toEqual([appended[2]!.offset + 1]);
      expect(result.next).toEqual(await engine.resolve(queue, 'latest'));
    });

    it('read pages with limit and next', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const messages = newMessages(5);
      await engine.append(queue, messages, dedupWindowMs);

      const first = await engine.read(queue, 'earliest', { limit: 2 });
      const second = await engine.read(queue, first.next, { limit: 2 });
      const third = await engine.read(queue, second.next, { limit: 2 });
      const fourth = await engine.read(queue, third.next, { limit: 2 });

      const ids = messages.map((message) => message.id);
      expect(idsOf(first.entries)).toEqual(ids.slice(0, 2));
      expect(idsOf(second.entries)).toEqual(ids.slice(2, 4));
      expect(idsOf(third.entries)).toEqual(ids.slice(4));
      expect(fourth.entries).toEqual([]);
      expect(fourth.next).toEqual(third.next);
      expect(fourth.next).toEqual(await engine.resolve(queue, 'latest'));
    });

    it('same key keeps order and partition across 3 partitions', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, { partitions: 3 });
      const keys = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
      const messages = Array.from({ length: 40 }, (_, index) => newMessage({ key: keys[index % keys.length]! }));
      for (let index = 0; index < messages.length; index += 8) {
        await engine.append(queue, messages.slice(index, index + 8), dedupWindowMs);
      }

      const entries = await readAll(engine, queue);

      expect(idsOf(entries).sort()).toEqual(messages.map((message) => message.id).sort());
      for (const key of keys) {
        const sent = messages.filter((message) => message.key === key).map((message) => message.id);
        const received = entries.filter((entry) => entry.message.key === key);
        expect(idsOf(received)).toEqual(sent);
        expect(new Set(received.map((entry) => entry.message.partition)).size).toBe(1);
      }
      for (let partition = 0; partition < 3; partition++) {
        const offsets = entries.filter((entry) => entry.message.partition === partition).map((entry) => entry.message.offset);
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
        expect(new Set(offsets).size).toBe(offsets.length);
      }
    });

    it('messages without a key spread over partitions', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, { partitions: 3 });
      const partitions = new Set<number>();

      for (let call = 0; call < 12; call++) {
        const [result] = await engine.append(queue, [newMessage()], dedupWindowMs);
        partitions.add(result!.partition);
      }

      expect(partitions.size).toBeGreaterThan(1);
    });

    it('after positions resume exactly after each entry', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, { partitions: 3 });
      const messages = Array.from({ length: 12 }, (_, index) => newMessage({ key: `key-${index % 4}` }));
      await engine.append(queue, messages, dedupWindowMs);
      const entries = await readAll(engine, queue);
      expect(entries).toHaveLength(12);

      for (let index = 0; index < entries.length; index++) {
        const { message, after } = entries[index]!;
        expect(after).toHaveLength(3);
        expect(after[message.partition]).toBe(message.offset + 1);
        const rest = await readAll(engine, queue, after);
        expect(idsOf(rest).sort()).toEqual(idsOf(entries.slice(index + 1)).sort());
      }
    });

    it('key filter returns only that key and moves past the rest', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, { partitions: 3 });
      const messages = Array.from({ length: 9 }, (_, index) => newMessage({ key: `key-${index % 3}` }));
      await engine.append(queue, messages, dedupWindowMs);

      const result = await engine.read(queue, 'earliest', { limit: 100, key: 'key-1' });

      const expected = messages.filter((message) => message.key === 'key-1').map((message) => message.id);
      expect(idsOf(result.entries)).toEqual(expected);
      expect(result.next).toEqual(await engine.resolve(queue, 'latest'));
      expect((await engine.read(queue, result.next, { limit: 100 })).entries).toEqual([]);
    });

    it('resolve returns earliest and latest positions', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, { partitions: 3 });
      expect(await engine.resolve(queue, 'earliest')).toEqual([0, 0, 0]);
      expect(await engine.resolve(queue, 'latest')).toEqual([0, 0, 0]);

      const results = await engine.append(queue, newMessages(7), dedupWindowMs);

      const counts = [0, 1, 2].map((partition) => results.filter((result) => result.partition === partition).length);
      expect(await engine.resolve(queue, 'earliest')).toEqual([0, 0, 0]);
      expect(await engine.resolve(queue, 'latest')).toEqual(counts);
      expect(await engine.resolve(queue, [0, 0, 0])).toEqual([0, 0, 0]);
    });

    it('read from latest returns nothing and the end position', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      await engine.append(queue, newMessages(2), dedupWindowMs);

      const result = await engine.read(queue, 'latest', { limit: 10 });

      expect(result).toEqual({ entries: [], next: await engine.resolve(queue, 'latest') });
      expect(result.next[0]).toBeGreaterThanOrEqual(2);
    });

    it('bad positions are BAD_USER_INPUT', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, { partitions: 2 });
      await engine.append(queue, [newMessage({ key: 'a' })], dedupWindowMs);
      const badInput = { code: 'BAD_USER_INPUT' };

      for (const position of [[0], [0, 0, 0], [-1, 0], [5, 0], [0, 5], [0.5, 0]]) {
        await expect(engine.read(queue, position, { limit: 1 })).rejects.toMatchObject(badInput);
        await expect(engine.resolve(queue, position)).rejects.toMatchObject(badInput);
      }
    });

    it('purge expires older positions and keeps offsets growing', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const stored = await engine.append(queue, newMessages(3), dedupWindowMs);
      const end = await engine.resolve(queue, 'latest');

      await engine.purgeQueue(queue);

      await expect(engine.read(queue, [stored[1]!.offset], { limit: 10 })).rejects.toMatchObject({
        code: 'CURSOR_EXPIRED',
        details: { queue, partition: 0, offset: stored[1]!.offset },
      });
      await expect(engine.read(queue, [0], { limit: 10 })).rejects.toMatchObject({ code: 'CURSOR_EXPIRED' });
      await expect(engine.read(queue, 'earliest', { limit: 10 })).resolves.toEqual({ entries: [], next: end });
      await expect(engine.read(queue, end, { limit: 10 })).resolves.toEqual({ entries: [], next: end });
      const [appended] = await engine.append(queue, [newMessage()], dedupWindowMs);
      expect(appended!.offset).toBeGreaterThan(stored[2]!.offset);
      const after = await engine.read(queue, end, { limit: 10 });
      expect(after.entries.map((entry) => entry.message.offset)).toEqual([appended!.offset]);
      expect((await engine.stats(queue, 'g')).published).toBe(1);
    });
  });

  describe('long poll and tail', () => {
    it('read waits for an append', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const message = newMessage();
      const started = Date.now();

      const pending = engine.read(queue, 'latest', { limit: 10, waitMs: 5000 });
      setTimeout(() => void engine.append(queue, [message], dedupWindowMs), 100);
      const result = await pending;

      expect(idsOf(result.entries)).toEqual([message.id]);
      expect(result.next).toEqual([result.entries[0]!.message.offset + 1]);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('read returns empty after waitMs', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const started = Date.now();

      const result = await engine.read(queue, 'latest', { limit: 10, waitMs: 300 });

      expect(result).toEqual({ entries: [], next: [0] });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('read with a key keeps waiting past other keys', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const matching = newMessage({ key: 'wanted' });

      const pending = engine.read(queue, 'latest', { limit: 10, waitMs: 5000, key: 'wanted' });
      setTimeout(() => void engine.append(queue, [newMessage({ key: 'other' })], dedupWindowMs), 50);
      setTimeout(() => void engine.append(queue, [matching], dedupWindowMs), 250);
      const result = await pending;

      expect(idsOf(result.entries)).toEqual([matching.id]);
      expect(result.next).toEqual(await engine.resolve(queue, 'latest'));
    });

    it('read stops waiting when the signal aborts', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const controller = new AbortController();
      const started = Date.now();

      setTimeout(() => controller.abort(), 100);
      const result = await engine.read(queue, 'latest', { limit: 10, waitMs: 10_000, signal: controller.signal });

      expect(result).toEqual({ entries: [], next: [0] });
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('tail yields stored then newly appended messages', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, { partitions: 2 });
      const stored = newMessages(2, { key: 'same' });
      await engine.append(queue, stored, dedupWindowMs);
      const controller = new AbortController();
      const iterator = engine.tail(queue, 'earliest', controller.signal)[Symbol.asyncIterator]();

      const first = await takeFromTail(iterator, 2);
      const later = newMessages(3, { key: 'same' });
      setTimeout(() => void engine.append(queue, later, dedupWindowMs), 50);
      const second = await takeFromTail(iterator, 3);
      controller.abort();

      expect(idsOf(first)).toEqual(stored.map((message) => message.id));
      expect(idsOf(second)).toEqual(later.map((message) => message.id));
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
    });

    it('tail from latest skips stored messages', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      await engine.append(queue, newMessages(2), dedupWindowMs);
      const controller = new AbortController();
      const iterator = engine.tail(queue, 'latest', controller.signal)[Symbol.asyncIterator]();

      const pending = takeFromTail(iterator, 1);
      const message = newMessage();
      setTimeout(() => void engine.append(queue, [message], dedupWindowMs), 50);
      const entries = await pending;
      controller.abort();

      expect(idsOf(entries)).toEqual([message.id]);
      expect(entries[0]!.after).toEqual([entries[0]!.message.offset + 1]);
    });

    it('tail ends when the queue is deleted', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, {}, { cleanup: false });
      const iterator = engine.tail(queue, 'latest', new AbortController().signal)[Symbol.asyncIterator]();

      const pending = iterator.next();
      setTimeout(() => void engine.deleteQueue(queue), 50);

      expect(await pending).toEqual({ done: true, value: undefined });
    });
  });

  describe('dedup', () => {
    it('a repeated id in one batch is a duplicate', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const message = newMessage();
      const other = newMessage();

      const results = await engine.append(queue, [message, other, { ...message, data: '"changed"' }], dedupWindowMs);

      expect(results).toEqual([
        { id: message.id, partition: 0, offset: results[0]!.offset, duplicate: false },
        { id: other.id, partition: 0, offset: results[1]!.offset, duplicate: false },
        { id: message.id, partition: 0, offset: results[0]!.offset, duplicate: true },
      ]);
      expect(results[1]!.offset).toBeGreaterThan(results[0]!.offset);
      const entries = await readAll(engine, queue);
      expect(idsOf(entries)).toEqual([message.id, other.id]);
      expect(entries[0]!.message.data).toBe(message.data);
    });

    it('a repeated id in a later call returns the first result', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine, { partitions: 3 });
      const message = newMessage({ key: 'k' });
      const [first] = await engine.append(queue, [message], dedupWindowMs);
      await engine.append(queue, newMessages(4, { key: 'k' }), dedupWindowMs);

      const [again] = await engine.append(queue, [message], dedupWindowMs);

      expect(again).toEqual({ ...first, duplicate: true });
      expect((await engine.stats(queue, 'g')).published).toBe(5);
    });

    it('an id outside the window is stored again', async () => {
      const engine = suite.engine();
      const queue = await createTestQueue(engine);
      const message = newMessage();
      const [first] = await engine.append(queue, [message], 200);
      await new Promise((resolve) => setTimeout(resolve, 400));

      const [again] = await engine.append(queue, [message], 200);

      expect(again).toMatchObject({ id: message.id, partition: 0, duplicate: false });
      expect(again!.offset).toBeGreaterThan(first!.offset);
      expect(idsOf(await readAll(engine, queue))).toEqual([message.id, message.id]);
    });
  });
}
