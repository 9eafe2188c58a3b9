import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { deleteKafkaResources, kafkaBrokers } from '../helpers/kafka.ts';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { KafkaEngine } from '../../src/engines/kafka/kafka-engine.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { dedupWindowMs, idsOf, newMessage, newMessages } from './conformance/helpers.ts';

const brokers = kafkaBrokers;
const topicPrefix = `evq-cluster-${randomUUID().slice(0, 8)}.`;

/** Starts an engine that the test closes when it finishes, unless the test closed it already. */
async function startInstance(instanceId: string): Promise<KafkaEngine> {
  const engine = new KafkaEngine({ brokers, logger: silentLogger(), topicPrefix, instanceId });
  await engine.start();
  onTestFinished(async () => {
    await engine.close();
  });
  return engine;
}

async function createQueue(engine: KafkaEngine, settings: { maxAttempts?: number } = {}): Promise<string> {
  const name = `test-${randomUUID()}`;
  await engine.createQueue(name, settings);
  return name;
}

/**
 * Resolves with the first change of `key` that `engine`'s shared records report, or rejects when
 * none comes within `timeoutMs` of this call.
 */
function nextRecordChange(engine: KafkaEngine, key: string, timeoutMs: number): Promise<string | null> {
  const { promise, resolve, reject } = Promise.withResolvers<string | null>();
  const timer = setTimeout(() => reject(new Error(`No change of ${key} arrived within ${timeoutMs} ms.`)), timeoutMs);
  const stop = engine.records.onChange((changedKey, value) => {
    if (changedKey === key) {
      resolve(value);
    }
  });
  return promise.finally(() => {
    clearTimeout(timer);
    stop();
  });
}

/** Polls `condition` every 20 ms until it holds; returns the elapsed ms, or fails after `timeoutMs`. */
async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) {
      throw new Error(`The condition did not hold within ${timeoutMs} ms.`);
    }
    await sleep(20);
  }
  return Date.now() - started;
}

describe.skipIf(brokers.length === 0)('kafka engine with two instances', () => {
  afterAll(async () => {
    await deleteKafkaResources(brokers, topicPrefix);
  });

  it('a queue created at one instance shows at the other within a second', async () => {
    const first = await startInstance('first');
    const second = await startInstance('second');

    const queue = await createQueue(first);

    const elapsed = await waitFor(async () => (await second.getQueue(queue)) !== null, 1000);
    expect(elapsed).toBeLessThanOrEqual(1000);
    expect(await second.getQueue(queue)).toEqual(await first.getQueue(queue));
  });

  it('a shared record change reaches the other instance within a second', async () => {
    const first = await startInstance('first');
    const second = await startInstance('second');
    const key = `test-${randomUUID()}`;

    const [putSeen] = await Promise.all([nextRecordChange(second, key, 1000), first.records.put(key, 'granted')]);
    expect(putSeen).toBe('granted');
    expect(second.records.get(key)).toBe('granted');
    expect(second.records.list(key)).toEqual([{ key, value: 'granted' }]);

    const [deleteSeen] = await Promise.all([nextRecordChange(first, key, 1000), second.records.delete(key)]);
    expect(deleteSeen).toBeNull();
    expect(first.records.get(key)).toBeNull();
  });

  it('an instance started later loads the shared records', async () => {
    const first = await startInstance('first');
    const key = `test-${randomUUID()}`;
    await first.records.put(key, 'granted');
    const later = new KafkaEngine({ brokers, logger: silentLogger(), topicPrefix, instanceId: 'later' });
    onTestFinished(async () => {
      await later.close();
    });
    const loaded: [string | null, string | null][] = [];
    later.records.onChange((changedKey, value) => {
      if (changedKey === key) {
        loaded.push([value, later.records.get(changedKey)]);
      }
    });

    await later.start();

    expect(loaded).toEqual([['granted', 'granted']]);
    expect(later.records.get(key)).toBe('granted');
  });

  it('nonce claims made at once agree at both instances', async () => {
    const first = await startInstance('first');
    const second = await startInstance('second');
    const keys = Array.from({ length: 20 }, () => `test-key\n${randomUUID()}`);

    // Random delays of up to 10 ms spread the claims over several produce requests per instance,
    // so that each instance wins some keys.
    const claimSoon = async (engine: KafkaEngine, key: string, owner: string) => {
      await sleep(Math.random() * 10);
      return engine.nonces.claim(key, owner, 600_000);
    };

    const outcomes = await Promise.all(
      keys.map((key) => Promise.all([claimSoon(first, key, `first-${key}`), claimSoon(second, key, `second-${key}`)])),
    );

    for (const [index, [atFirst, atSecond]] of outcomes.entries()) {
      const key = keys[index]!;
      expect(atFirst, `owner of key ${index} at the first instance`).toBe(atSecond);
      expect([`first-${key}`, `second-${key}`]).toContain(atFirst);
    }
    const laterClaims = await Promise.all(keys.map((key) => second.nonces.claim(key, `third-${key}`, 600_000)));
    expect(laterClaims).toEqual(outcomes.map(([owner]) => owner));
  });

  it('a nonce claimed at one instance is held at an instance started later', async () => {
    const first = await startInstance('first');
    const key = `test-key\n${randomUUID()}`;
    await first.nonces.claim(key, 'message-a', 600_000);

    const later = await startInstance('later');

    expect(await later.nonces.claim(key, 'message-b', 600_000)).toBe('message-a');
  });

  it('a record quarantined at both instances is listed once', async () => {
    const first = await startInstance('first');
    const second = await startInstance('second');
    const queue = await createQueue(first);
    await waitFor(async () => (await second.getQueue(queue)) !== null, 1000);
    await first.append(queue, [newMessage()], dedupWindowMs);
    const [entry] = (await first.read(queue, 'earliest', { limit: 1 })).entries;
    const record = { queue, partition: 0, offset: entry!.message.offset, message: entry!.message };

    await first.quarantine.add({ ...record, reason: 'found at first' });
    await second.quarantine.add({ ...record, reason: 'found at second' });

    for (const engine of [first, second]) {
      const listed = await engine.quarantine.list(queue, 10);
      expect(listed.map((item) => [item.offset, item.reason])).toEqual([[entry!.message.offset, 'found at first']]);
    }
  });

  it('an ack at the other instance completes the message', async () => {
    const first = await startInstance('first');
    const second = await startInstance('second');
    const queue = await createQueue(first);
    await waitFor(async () => (await second.getQueue(queue)) !== null, 1000);
    const message = newMessage();

    await first.append(queue, [message], dedupWindowMs);
    const [lease] = await second.receive(queue, 'g', { limit: 1, visibilitySeconds: 1, waitMs: 5000 });
    const outcomes = await first.ack(queue, [lease!.receipt]);

    expect(lease!.message.id).toBe(message.id);
    expect(outcomes).toEqual([{ receipt: lease!.receipt, acked: true }]);
    await sleep(1500);
    expect(await second.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 })).toEqual([]);
    expect(await second.stats(queue, 'g')).toMatchObject({ ready: 0, inFlight: 0, delayed: 0 });
    const [again] = await first.ack(queue, [lease!.receipt]);
    expect(again!.acked).toBe(false);
  });

  it('leases of a killed instance are redelivered after the visibility timeout', { timeout: 60_000 }, async () => {
    const survivor = await startInstance('survivor');
    const queue = await createQueue(survivor);
    const messages = newMessages(2);
    await survivor.append(queue, messages, dedupWindowMs);

    const child = spawn(
      process.execPath,
      ['test/helpers/kafka-lease-holder.ts', brokers.join(','), topicPrefix, queue, 'g', '2', '5'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const heldLeases = JSON.parse(line) as { id: string; attempt: number }[];
    expect(heldLeases.map((lease) => lease.id)).toEqual(messages.map((message) => message.id));
    child.kill('SIGKILL');
    await once(child, 'exit');

    const leases = await survivor.receive(queue, 'g', { limit: 2, visibilitySeconds: 30, waitMs: 30_000 });
    const rest = leases.length < 2 ? await survivor.receive(queue, 'g', { limit: 2, visibilitySeconds: 30, waitMs: 10_000 }) : [];

    const redelivered = [...leases, ...rest];
    expect(idsOf(redelivered).sort()).toEqual(messages.map((message) => message.id).sort());
    expect(redelivered.map((lease) => lease.attempt)).toEqual([2, 2]);
  });

  it('the last attempt across two instances dead-letters once', { timeout: 30_000 }, async () => {
    const first = await startInstance('first');
    const second = await startInstance('second');
    const queue = await createQueue(first, { maxAttempts: 2 });
    await waitFor(async () => (await second.getQueue(queue)) !== null, 1000);
    const message = newMessage();
    await first.append(queue, [message], dedupWindowMs);

    const [firstLease] = await first.receive(queue, 'g', { limit: 1, visibilitySeconds: 30 });
    await first.nack(queue, firstLease!.receipt, 0, 'first failure');
    await first.close();
    const [secondLease] = await second.receive(queue, 'g', { limit: 1, visibilitySeconds: 30, waitMs: 15_000 });
    await second.nack(queue, secondLease!.receipt, 0, 'second failure');

    expect(firstLease!.attempt).toBe(1);
    expect(secondLease!.message.id).toBe(message.id);
    expect(secondLease!.attempt).toBe(2);
    const third = await startInstance('third');
    await waitFor(async () => (await third.getQueue(queue)) !== null, 1000);
    const deadLetters = await third.deadLetters(queue, null, 10);
    expect(deadLetters.map((deadLetter) => [deadLetter.message.id, deadLetter.attempts, deadLetter.lastError])).toEqual([
      [message.id, 2, 'second failure'],
    ]);
    expect(await second.receive(queue, 'g', { limit: 1, visibilitySeconds: 30, waitMs: 500 })).toEqual([]);
    expect(await second.stats(queue, 'g')).toMatchObject({ ready: 0, inFlight: 0, deadLettered: 1 });
  });
});
