import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEvq, type TestEvq } from '../helpers/evq.ts';

const publishBatchMutation = `mutation ($queue: String!, $messages: [PublishInput!]!) {
  publishBatch(queue: $queue, messages: $messages) { id }
}`;
const receiveMutation = `mutation ($queue: String!, $group: String! = "default", $limit: Int! = 1, $waitSeconds: Int! = 0, $visibilitySeconds: Int) {
  receive(queue: $queue, group: $group, limit: $limit, waitSeconds: $waitSeconds, visibilitySeconds: $visibilitySeconds) {
    receipt attempt visibleUntil message { id data }
  }
}`;
const ackMutation = `mutation ($queue: String!, $receipts: [String!]!) { ack(queue: $queue, receipts: $receipts) { receipt acked error } }`;
const nackMutation = `mutation ($queue: String!, $receipt: String!, $error: String) { nack(queue: $queue, receipt: $receipt, error: $error) }`;
const deliveriesSubscription = `subscription ($queue: String!, $maxInFlight: Int!, $visibilitySeconds: Int) {
  deliveries(queue: $queue, maxInFlight: $maxInFlight, visibilitySeconds: $visibilitySeconds) { receipt attempt message { id } }
}`;

let evq: TestEvq;

beforeAll(async () => {
  evq = await startEvq();
});

afterAll(async () => {
  await evq.close();
});

async function publish(queue: string, ids: string[]): Promise<void> {
  const result = await evq.gql(publishBatchMutation, { queue, messages: ids.map((id) => ({ id, data: { id } })) });
  expect(result.errors).toBeUndefined();
}

type Delivery = { receipt: string; attempt: number; visibleUntil: string; message: { id: string; data: unknown } };

async function receive(queue: string, variables: Record<string, unknown> = {}): Promise<Delivery[]> {
  const result = await evq.gql<{ receive: Delivery[] }>(receiveMutation, { queue, ...variables });
  expect(result.errors).toBeUndefined();
  return result.data!.receive;
}

describe('work queue API', () => {
  it('receive then ack removes the message', async () => {
    const queue = await evq.createQueue();
    await publish(queue, ['w1', 'w2']);
    const deliveries = await receive(queue, { limit: 10 });
    expect(deliveries.map((delivery) => delivery.message.id)).toEqual(['w1', 'w2']);
    expect(deliveries.map((delivery) => delivery.attempt)).toEqual([1, 1]);

    const acked = await evq.gql(ackMutation, { queue, receipts: deliveries.map((delivery) => delivery.receipt) });
    expect(acked.data!.ack.map((result: { acked: boolean }) => result.acked)).toEqual([true, true]);
    expect(await receive(queue, { limit: 10 })).toEqual([]);

    const stats = await evq.gql('query ($name: String!) { queue(name: $name) { stats { ready inFlight published } } }', { name: queue });
    expect(stats.data!.queue.stats).toEqual({ ready: 0, inFlight: 0, published: 2 });
  });

  it('receive long-polls until a message is published', async () => {
    const queue = await evq.createQueue();
    const waiting = receive(queue, { waitSeconds: 5 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await publish(queue, ['late']);
    expect((await waiting).map((delivery) => delivery.message.id)).toEqual(['late']);
  });

  it('unacked delivery returns after visibility timeout with attempt 2', async () => {
    const queue = await evq.createQueue();
    await publish(queue, ['retry-me']);
    const [first] = await receive(queue, { visibilitySeconds: 1 });
    expect(first!.attempt).toBe(1);
    expect(await receive(queue)).toEqual([]);

    const [second] = await receive(queue, { waitSeconds: 5 });
    expect(second!.message.id).toBe('retry-me');
    expect(second!.attempt).toBe(2);

    const stale = await evq.gql(ackMutation, { queue, receipts: [first!.receipt] });
    expect(stale.data!.ack[0]).toMatchObject({ acked: false });
  });

  it('dead-letters after maxAttempts and redrive brings it back', async () => {
    const queue = await evq.createQueue({ maxAttempts: 2 });
    await publish(queue, ['poison']);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const [delivery] = await receive(queue, { waitSeconds: 5 });
      expect(delivery!.attempt).toBe(attempt);
      const nacked = await evq.gql(nackMutation, { queue, receipt: delivery!.receipt, error: `failure ${attempt}` });
      expect(nacked.data).toEqual({ nack: true });
    }
    expect(await receive(queue, { waitSeconds: 1 })).toEqual([]);

    const dead = await evq.gql('query ($queue: String!) { deadLetters(queue: $queue) { attempts lastError group message { id } } }', { queue });
    expect(dead.data!.deadLetters).toEqual([{ attempts: 2, lastError: 'failure 2', group: 'default', message: { id: 'poison' } }]);

    const redriven = await evq.gql('mutation ($queue: String!) { redrive(queue: $queue) }', { queue });
    expect(redriven.data).toEqual({ redrive: 1 });
    const [again] = await receive(queue, { waitSeconds: 5 });
    expect(again!.message.id).toBe('poison');
    expect(again!.attempt).toBe(1);
    const afterRedrive = await evq.gql('query ($queue: String!) { deadLetters(queue: $queue) { message { id } } }', { queue });
    expect(afterRedrive.data!.deadLetters).toEqual([]);
  });

  it('groups receive independently', async () => {
    const queue = await evq.createQueue();
    await publish(queue, ['g1']);
    const a = await receive(queue, { group: 'billing' });
    const b = await receive(queue, { group: 'audit' });
    expect(a.map((delivery) => delivery.message.id)).toEqual(['g1']);
    expect(b.map((delivery) => delivery.message.id)).toEqual(['g1']);
  });

  it('deliveries never exceed maxInFlight unacked', async () => {
    const queue = await evq.createQueue();
    const ids = Array.from({ length: 9 }, (_, index) => `d-${index}`);
    await publish(queue, ids);

    const client = evq.wsClient();
    const iterator = client.iterate<{ deliveries: { receipt: string; message: { id: string } } }>({
      query: deliveriesSubscription,
      variables: { queue, maxInFlight: 3, visibilitySeconds: 60 },
    });
    const seen: string[] = [];
    const unacked: string[] = [];
    let maxUnacked = 0;
    let pending: ReturnType<typeof iterator.next> | null = null;
    while (seen.length < ids.length) {
      pending ??= iterator.next();
      const result = await Promise.race([pending, new Promise<'idle'>((resolve) => setTimeout(() => resolve('idle'), 400))]);
      if (result === 'idle') {
        // Nothing more arrives while the subscriber has maxInFlight unacked, so ack one to free a slot.
        expect(unacked.length).toBe(3);
        const receipt = unacked.shift()!;
        const acked = await evq.gql(ackMutation, { queue, receipts: [receipt] });
        expect(acked.data!.ack[0].acked).toBe(true);
        continue;
      }
      pending = null;
      expect(result.done).toBe(false);
      const delivery = result.value!.data!.deliveries;
      seen.push(delivery.message.id);
      unacked.push(delivery.receipt);
      maxUnacked = Math.max(maxUnacked, unacked.length);
    }
    await iterator.return?.();
    expect(seen).toEqual(ids);
    expect(maxUnacked).toBe(3);
  });

  it('deliveries end with QUEUE_NOT_FOUND when the queue is deleted', async () => {
    const queue = await evq.createQueue();
    const client = evq.wsClient();
    const iterator = client.iterate({ query: deliveriesSubscription, variables: { queue, maxInFlight: 1 } });
    const next = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const deleted = await evq.gql('mutation ($name: String!) { deleteQueue(name: $name) }', { name: queue });
    expect(deleted.data).toEqual({ deleteQueue: true });

    const { value } = await next;
    expect(value!.errors![0]!.extensions!.code).toBe('QUEUE_NOT_FOUND');
    expect((await iterator.next()).done).toBe(true);
  });
});
