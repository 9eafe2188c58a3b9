import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { deleteKafkaResources, kafkaBrokers } from './helpers/kafka.ts';
import type { FormattedExecutionResult } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type EvqProcess, pollUntil, startEvqProcess } from './helpers/evq-process.ts';

const brokers = kafkaBrokers;

/** One prefix for this file, so its topics and consumer groups never meet those of another run. */
const topicPrefix = `evqtest-${randomUUID()}.`;
const kafkaEnv = { EVQ_ENGINE: 'kafka', EVQ_KAFKA_BROKERS: brokers.join(','), EVQ_KAFKA_TOPIC_PREFIX: topicPrefix };

const createQueueMutation = `mutation ($input: CreateQueueInput!) {
  createQueue(input: $input) { name partitions retentionSeconds visibilityTimeoutSeconds maxAttempts requireSignature createdAt }
}`;
const queueQuery = `query ($name: String!) {
  queue(name: $name) { name partitions retentionSeconds visibilityTimeoutSeconds maxAttempts requireSignature createdAt }
}`;
const deadLettersQuery = `query ($queue: String!) {
  deadLetters(queue: $queue, limit: 100) { attempts group lastError message { id } }
}`;
const pollQuery = `query ($queue: String!) {
  poll(queue: $queue, limit: 100) { messages { id partition offset } }
}`;
const messagesSubscription = `subscription ($queue: String!) {
  messages(queue: $queue, from: EARLIEST) { id data }
}`;

interface Delivery {
  receipt: string;
  attempt: number;
  message: { id: string };
}

type MessageEvent = { messages: { id: string; data: unknown } };

/** Creates a queue named `test-<uuid>` at `evq` and returns its name. */
async function createQueue(evq: EvqProcess, settings: Record<string, unknown> = {}): Promise<string> {
  const name = `test-${randomUUID()}`;
  const result = await evq.gql(createQueueMutation, { input: { name, ...settings } });
  expect(result.errors).toBeUndefined();
  return name;
}

/** Waits until `evq` serves a queue that another instance created. */
async function waitForQueue(evq: EvqProcess, queue: string): Promise<void> {
  await pollUntil(`queue ${queue} showing at ${evq.url}`, 5000, async () => {
    const result = await evq.gql(queueQuery, { name: queue });
    return result.data?.queue ?? undefined;
  });
}

async function publish(evq: EvqProcess, queue: string, id: string): Promise<void> {
  const result = await evq.rest('/queue/publish', { queue, id, data: { id } });
  expect(result.status, JSON.stringify(result.body)).toBe(200);
}

interface PublishResult {
  id: string;
  cursor: string;
  duplicate: boolean;
  partition: number;
  offset: number;
}

/** Publishes over REST with the given fields, which may include an `id` and a `key`. */
async function publishMessage(evq: EvqProcess, queue: string, fields: Record<string, unknown>): Promise<PublishResult> {
  const result = await evq.rest('/queue/publish', { queue, data: 'payload', ...fields });
  expect(result.status, JSON.stringify(result.body)).toBe(200);
  return result.body as PublishResult;
}

/**
 * Publishes a message with an id at `evq`, so that instance keeps an index of the queue's ids from
 * then on and catches it up for each later publish, instead of building it at the next one.
 */
async function startIndexing(evq: EvqProcess, queue: string): Promise<void> {
  const result = await publishMessage(evq, queue, { id: 'start-indexing' });
  expect(result.duplicate).toBe(false);
}

/** Returns every message of the queue that `poll` shows at `evq`, from the earliest. */
async function pollAll(evq: EvqProcess, queue: string): Promise<{ id: string; partition: number; offset: number }[]> {
  const result = await evq.gql(pollQuery, { queue });
  expect(result.errors).toBeUndefined();
  return result.data!.poll.messages;
}

async function receive(evq: EvqProcess, queue: string, options: Record<string, unknown>): Promise<Delivery[]> {
  const result = await evq.rest('/queue/receive', { queue, group: 'workers', ...options });
  expect(result.status, JSON.stringify(result.body)).toBe(200);
  return result.body.deliveries as Delivery[];
}

/** Returns the next message of a `messages` subscription; throws on an error, an end or a timeout. */
async function nextWithin(
  iterator: AsyncIterator<FormattedExecutionResult<MessageEvent, unknown>>,
  timeoutMs: number,
): Promise<MessageEvent['messages']> {
  const result = await Promise.race([iterator.next(), sleep(timeoutMs, null, { ref: false })]);
  if (result === null) throw new Error(`no subscription event within ${timeoutMs} ms`);
  if (result.done) throw new Error('the subscription ended');
  if (result.value.errors) throw new Error(`subscription error: ${JSON.stringify(result.value.errors)}`);
  return result.value.data!.messages;
}

if (brokers.length === 0) {
  describe('kafka engine across evq processes', () => {
    it.skip('needs EVQ_KAFKA_BROKERS (start a broker with `bash scripts/kafka.sh start`)', () => {});
  });
} else {
  describe('kafka engine across evq processes', () => {
    let first: EvqProcess;
    let second: EvqProcess;
    const started: EvqProcess[] = [];

    /** Starts one more evq process on the same brokers and prefix; afterAll stops it. */
    async function startInstance(): Promise<EvqProcess> {
      const evq = await startEvqProcess(kafkaEnv);
      started.push(evq);
      return evq;
    }

    beforeAll(async () => {
      [first, second] = await Promise.all([startInstance(), startInstance()]);
    });

    afterAll(async () => {
      await Promise.allSettled(started.map((evq) => evq.stop()));
      await deleteKafkaResources(brokers, topicPrefix);
    });

    it('queue created at one shows at the other', async () => {
      const created = await first.gql(createQueueMutation, {
        input: { name: `test-${randomUUID()}`, partitions: 3, visibilityTimeoutSeconds: 7, maxAttempts: 4 },
      });
      expect(created.errors).toBeUndefined();
      const queue = created.data!.createQueue;

      const { value: seen } = await pollUntil('the queue showing at the second instance', 5000, async () => {
        const result = await second.gql(queueQuery, { name: queue.name });
        return result.data?.queue ?? undefined;
      });

      expect(seen).toEqual(queue);
      expect(seen).toMatchObject({ partitions: 3, visibilityTimeoutSeconds: 7, maxAttempts: 4 });
    });

    it('ack at one completes a delivery of the other', async () => {
      const queue = await createQueue(first);
      await waitForQueue(second, queue);

      await publish(first, queue, 'handed-over');
      const [delivery] = await receive(second, queue, { waitSeconds: 10, visibilitySeconds: 2 });
      const acked = await first.rest('/queue/ack', { queue, receipts: [delivery!.receipt] });

      expect(delivery).toMatchObject({ attempt: 1, message: { id: 'handed-over' } });
      expect(acked.status).toBe(200);
      expect(acked.body.results).toEqual([{ receipt: delivery!.receipt, acked: true }]);
      expect(await receive(second, queue, { waitSeconds: 4 })).toEqual([]);
    });

    it('leases of a killed instance return at the other', { timeout: 90_000 }, async () => {
      const victim = await startInstance();
      const queue = await createQueue(first, { visibilityTimeoutSeconds: 3 });
      await waitForQueue(victim, queue);
      const ids = ['lease-1', 'lease-2', 'lease-3'];
      for (const id of ids) {
        await publish(first, queue, id);
      }

      const victimLeases = await receive(victim, queue, { limit: 10, waitSeconds: 10 });
      expect(victimLeases.map((delivery) => delivery.message.id)).toEqual(ids);
      expect(victimLeases.map((delivery) => delivery.attempt)).toEqual([1, 1, 1]);

      await victim.kill('SIGKILL');
      const killedAt = performance.now();
      const redelivered: Delivery[] = [];
      while (redelivered.length < ids.length && performance.now() - killedAt < 60_000) {
        redelivered.push(...(await receive(second, queue, { limit: 10, waitSeconds: 20, visibilitySeconds: 30 })));
      }
      const elapsedMs = Math.round(performance.now() - killedAt);
      console.info(`redelivered the leases of a killed instance ${elapsedMs} ms after SIGKILL`);

      expect(redelivered.map((delivery) => delivery.message.id).sort()).toEqual(ids);
      expect(redelivered.map((delivery) => delivery.attempt)).toEqual([2, 2, 2]);
      const acked = await second.rest('/queue/ack', { queue, receipts: redelivered.map((delivery) => delivery.receipt) });
      expect(acked.body.results.map((result: { acked: boolean }) => result.acked)).toEqual([true, true, true]);
    });

    it('last attempt across instances dead-letters once', { timeout: 60_000 }, async () => {
      const leaving = await startInstance();
      const queue = await createQueue(first, { maxAttempts: 2, visibilityTimeoutSeconds: 2 });
      await waitForQueue(leaving, queue);
      await waitForQueue(second, queue);
      await publish(first, queue, 'doomed');

      const [firstAttempt] = await receive(leaving, queue, { waitSeconds: 10 });
      const firstNack = await first.rest('/queue/nack', { queue, receipt: firstAttempt!.receipt, error: 'failed at the leaving instance' });
      await leaving.stop();
      const [secondAttempt] = await receive(second, queue, { waitSeconds: 20 });
      const secondNack = await first.rest('/queue/nack', { queue, receipt: secondAttempt!.receipt, error: 'failed at the second instance' });

      expect(firstAttempt).toMatchObject({ attempt: 1, message: { id: 'doomed' } });
      expect(firstNack).toEqual({ status: 200, body: { nacked: true } });
      expect(secondAttempt).toMatchObject({ attempt: 2, message: { id: 'doomed' } });
      expect(secondNack).toEqual({ status: 200, body: { nacked: true } });
      // This wait outlasts the visibility timeout, so a lease that survived the nack would end and
      // be dead-lettered a second time before the checks below.
      expect(await receive(second, queue, { waitSeconds: 3 })).toEqual([]);
      const expected = [{ attempts: 2, group: 'workers', lastError: 'failed at the second instance', message: { id: 'doomed' } }];
      for (const evq of [first, second]) {
        const result = await evq.gql(deadLettersQuery, { queue });
        expect(result.errors).toBeUndefined();
        expect(result.data!.deadLetters).toEqual(expected);
      }
    });

    it('repeated id at a new instance is a duplicate', async () => {
      const queue = await createQueue(first, { partitions: 3 });
      await waitForQueue(second, queue);

      const original = await publishMessage(first, queue, { id: 'order-1' });
      const retry = await publishMessage(second, queue, { id: 'order-1', data: 'changed payload' });

      expect(original.duplicate).toBe(false);
      expect(retry).toEqual({ ...original, duplicate: true });
      const stored = await pollAll(second, queue);
      expect(stored).toEqual([{ id: 'order-1', partition: original.partition, offset: original.offset }]);
    });

    it('retry at an instance with an index', async () => {
      const queue = await createQueue(first, { partitions: 3 });
      await waitForQueue(second, queue);
      await startIndexing(second, queue);

      const original = await publishMessage(first, queue, { id: 'order-2' });
      const retry = await publishMessage(second, queue, { id: 'order-2' });

      expect(retry).toEqual({ ...original, duplicate: true });
      const ids = (await pollAll(first, queue)).map((message) => message.id).sort();
      expect(ids).toEqual(['order-2', 'start-indexing']);
    });

    it('keyless id and its retry share a partition', async () => {
      const queue = await createQueue(first, { partitions: 4 });
      await waitForQueue(second, queue);
      await startIndexing(second, queue);
      const ids = Array.from({ length: 8 }, (_, index) => `keyless-${index}`);

      const originals: PublishResult[] = [];
      for (const id of ids) {
        originals.push(await publishMessage(first, queue, { id }));
      }
      const retries: PublishResult[] = [];
      for (const id of [...ids].reverse()) {
        retries.unshift(await publishMessage(second, queue, { id }));
      }

      expect(retries.map((result) => result.partition)).toEqual(originals.map((result) => result.partition));
      expect(retries.map((result) => result.offset)).toEqual(originals.map((result) => result.offset));
      expect(retries.map((result) => result.duplicate)).toEqual(ids.map(() => true));
      expect(new Set(originals.map((result) => result.partition)).size).toBeGreaterThan(1);
      expect(await pollAll(first, queue)).toHaveLength(ids.length + 1);
    });

    it('keyed id and its retry share a partition', async () => {
      const queue = await createQueue(first, { partitions: 4 });
      await waitForQueue(second, queue);
      await startIndexing(second, queue);

      const original = await publishMessage(first, queue, { id: 'keyed-1', key: 'customer-7' });
      const retry = await publishMessage(second, queue, { id: 'keyed-1', key: 'customer-7' });

      expect(retry).toEqual({ ...original, duplicate: true });
      expect(await pollAll(second, queue)).toHaveLength(2);
    });

    it('publish without id is never a duplicate', async () => {
      const queue = await createQueue(first, { partitions: 2 });
      await waitForQueue(second, queue);

      const results: PublishResult[] = [];
      for (let index = 0; index < 6; index++) {
        results.push(await publishMessage(index % 2 === 0 ? first : second, queue, { data: 'same payload' }));
      }

      expect(results.map((result) => result.duplicate)).toEqual([false, false, false, false, false, false]);
      expect(new Set(results.map((result) => result.id)).size).toBe(6);
      const stored = await pollAll(second, queue);
      expect(stored.map((message) => message.id).sort()).toEqual(results.map((result) => result.id).sort());
    });

    it('subscription at one gets publishes at the other', async () => {
      const queue = await createQueue(second);
      await waitForQueue(first, queue);
      await publish(second, queue, 'before-subscribe');
      const iterator = first.wsClient().iterate<MessageEvent>({ query: messagesSubscription, variables: { queue } });
      onTestFinished(async () => {
        await iterator.return?.();
      });

      // The first message shows that the subscription is live before the next publishes.
      const earlier = await nextWithin(iterator, 10_000);
      for (const id of ['live-1', 'live-2']) {
        await publish(second, queue, id);
      }
      const live = [await nextWithin(iterator, 10_000), await nextWithin(iterator, 10_000)];

      expect(earlier).toEqual({ id: 'before-subscribe', data: { id: 'before-subscribe' } });
      expect(live).toEqual([
        { id: 'live-1', data: { id: 'live-1' } },
        { id: 'live-2', data: { id: 'live-2' } },
      ]);
    });
  });
}
