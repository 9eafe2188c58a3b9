import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startEvq, type TestEvq } from '../helpers/evq.ts';

const publishMutation = `mutation ($queue: String!, $message: PublishInput!) {
  publish(queue: $queue, message: $message) { id queue cursor duplicate }
}`;
const publishBatchMutation = `mutation ($queue: String!, $messages: [PublishInput!]!) {
  publishBatch(queue: $queue, messages: $messages) { id cursor duplicate }
}`;
const pollQuery = `query ($queue: String!, $after: Cursor, $limit: Int! = 100, $waitSeconds: Int! = 0, $key: String) {
  poll(queue: $queue, after: $after, limit: $limit, waitSeconds: $waitSeconds, key: $key) {
    cursor
    messages { id key data headers cursor producer partition offset }
  }
}`;
const messagesSubscription = `subscription ($queue: String!, $after: Cursor, $from: StreamStart) {
  messages(queue: $queue, after: $after, from: $from) { id data cursor }
}`;

let evq: TestEvq;

beforeAll(async () => {
  evq = await startEvq();
});

afterAll(async () => {
  await evq.close();
});

async function publishMany(queue: string, count: number, prefix = 'm'): Promise<string[]> {
  const messages = Array.from({ length: count }, (_, index) => ({ id: `${prefix}-${index}`, data: { n: index } }));
  const result = await evq.gql(publishBatchMutation, { queue, messages });
  expect(result.errors).toBeUndefined();
  return messages.map((message) => message.id);
}

describe('stream API', () => {
  it('poll returns published ids in order', async () => {
    const queue = await evq.createQueue();
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      const result = await evq.gql(publishMutation, { queue, message: { data: { index }, headers: { source: 'test' } } });
      expect(result.errors).toBeUndefined();
      expect(result.data!.publish.duplicate).toBe(false);
      ids.push(result.data!.publish.id);
    }
    ids.push(...(await publishMany(queue, 3)));

    const polled = await evq.gql(pollQuery, { queue });
    expect(polled.status).toBe(200);
    expect(polled.data!.poll.messages.map((message: { id: string }) => message.id)).toEqual(ids);
    expect(polled.data!.poll.messages[0]).toMatchObject({ data: { index: 0 }, headers: { source: 'test' }, producer: 'admin', offset: 0 });
  });

  it('poll pages with the returned cursor', async () => {
    const queue = await evq.createQueue();
    const ids = await publishMany(queue, 7);
    const first = await evq.gql(pollQuery, { queue, limit: 4 });
    const second = await evq.gql(pollQuery, { queue, limit: 4, after: first.data!.poll.cursor });
    const third = await evq.gql(pollQuery, { queue, limit: 4, after: second.data!.poll.cursor });

    expect(first.data!.poll.messages.map((message: { id: string }) => message.id)).toEqual(ids.slice(0, 4));
    expect(second.data!.poll.messages.map((message: { id: string }) => message.id)).toEqual(ids.slice(4));
    expect(third.data!.poll.messages).toEqual([]);
    expect(third.data!.poll.cursor).toBe(second.data!.poll.cursor);
  });

  it('poll long-polls until a message arrives', async () => {
    const queue = await evq.createQueue();
    const waiting = evq.gql(pollQuery, { queue, waitSeconds: 5 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await evq.gql(publishMutation, { queue, message: { id: 'late', data: 'late' } });
    const polled = await waiting;
    expect(polled.data!.poll.messages.map((message: { id: string }) => message.id)).toEqual(['late']);
  });

  it('poll filters by key', async () => {
    const queue = await evq.createQueue({ partitions: 3 });
    for (const [id, key] of [['a1', 'a'], ['b1', 'b'], ['a2', 'a'], ['b2', 'b'], ['a3', 'a']]) {
      await evq.gql(publishMutation, { queue, message: { id, key, data: id } });
    }
    const polled = await evq.gql(pollQuery, { queue, key: 'a' });
    expect(polled.data!.poll.messages.map((message: { id: string }) => message.id)).toEqual(['a1', 'a2', 'a3']);
  });

  it('publish cursor resumes after it on several partitions', async () => {
    const queue = await evq.createQueue({ partitions: 3 });
    const cursors: string[] = [];
    for (const [id, key] of [['p1', 'alpha'], ['p2', 'beta'], ['p3', 'gamma'], ['p4', 'delta']]) {
      const result = await evq.gql(publishMutation, { queue, message: { id, key, data: id } });
      cursors.push(result.data!.publish.cursor);
    }
    const afterSecond = await evq.gql(pollQuery, { queue, after: cursors[1] });
    expect(afterSecond.data!.poll.messages.map((message: { id: string }) => message.id)).toEqual(['p3', 'p4']);
    const afterLast = await evq.gql(pollQuery, { queue, after: cursors[3] });
    expect(afterLast.data!.poll.messages).toEqual([]);
  });

  it('publish with a repeated id is a duplicate', async () => {
    const queue = await evq.createQueue();
    const first = await evq.gql(publishMutation, { queue, message: { id: 'same', data: 1 } });
    const second = await evq.gql(publishMutation, { queue, message: { id: 'same', data: 2 } });
    expect(second.data!.publish).toEqual({ ...first.data!.publish, duplicate: true });
    const polled = await evq.gql(pollQuery, { queue });
    expect(polled.data!.poll.messages.map((message: { data: unknown }) => message.data)).toEqual([1]);
  });

  it('two subscribers both get every message', async () => {
    const queue = await evq.createQueue();
    const clientA = evq.wsClient();
    const clientB = evq.wsClient();
    const received = Promise.all([
      collect<{ messages: { id: string } }>(clientA, messagesSubscription, { queue, from: 'EARLIEST' }, 10),
      collect<{ messages: { id: string } }>(clientB, messagesSubscription, { queue, from: 'EARLIEST' }, 10),
    ]);
    const ids = [...(await publishMany(queue, 4, 'early'))];
    await new Promise((resolve) => setTimeout(resolve, 100));
    ids.push(...(await publishMany(queue, 6, 'live')));

    const [a, b] = await received;
    expect(a.map((event) => event.messages.id)).toEqual(ids);
    expect(b.map((event) => event.messages.id)).toEqual(ids);
  });

  it('subscriber resuming with a cursor gets exactly the later messages', async () => {
    const queue = await evq.createQueue();
    const ids = await publishMany(queue, 6);
    const polled = await evq.gql(pollQuery, { queue, limit: 3 });
    const cursor = polled.data!.poll.messages[2].cursor as string;

    const client = evq.wsClient();
    const received = collect<{ messages: { id: string } }>(client, messagesSubscription, { queue, after: cursor }, 5);
    const more = await publishMany(queue, 2, 'after');
    const events = await received;
    expect(events.map((event) => event.messages.id)).toEqual([...ids.slice(3), ...more]);
  });

  it('subscriber from LATEST gets only new messages', async () => {
    const queue = await evq.createQueue();
    await publishMany(queue, 3, 'old');
    const client = evq.wsClient();
    const received = collect<{ messages: { id: string } }>(client, messagesSubscription, { queue }, 2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const fresh = await publishMany(queue, 2, 'new');
    expect((await received).map((event) => event.messages.id)).toEqual(fresh);
  });

  it('open subscriptions count as consumers', async () => {
    const queue = await evq.createQueue();
    const consumers = async () =>
      (await evq.gql('query ($name: String!) { queue(name: $name) { stats { consumers } } }', { name: queue })).data!.queue.stats.consumers;
    const client = evq.wsClient();
    const iterator = client.iterate({ query: messagesSubscription, variables: { queue } });
    const next = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await consumers()).toBe(1);

    await iterator.return?.();
    await next.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await consumers()).toBe(0);
  });

  it('subscription with a purged cursor fails with CURSOR_EXPIRED', async () => {
    const queue = await evq.createQueue();
    await publishMany(queue, 3);
    const first = await evq.gql(pollQuery, { queue, limit: 1 });
    const purge = await evq.gql('mutation ($name: String!) { purgeQueue(name: $name) }', { name: queue });
    expect(purge.data).toEqual({ purgeQueue: true });

    const client = evq.wsClient();
    const iterator = client.iterate({ query: messagesSubscription, variables: { queue, after: first.data!.poll.cursor } });
    const { value } = await iterator.next();
    expect(value.errors[0].extensions.code).toBe('CURSOR_EXPIRED');
    const polled = await evq.gql(pollQuery, { queue, after: first.data!.poll.cursor });
    expect(polled.errors![0]!.extensions!.code).toBe('CURSOR_EXPIRED');
  });

  it('messages arrive over SSE', async () => {
    const queue = await evq.createQueue();
    const controller = new AbortController();
    const response = await fetch(`${evq.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${(await import('../helpers/evq.ts')).adminToken}` },
      body: JSON.stringify({ query: messagesSubscription, variables: { queue, from: 'EARLIEST' } }),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    await publishMany(queue, 2, 'sse');

    const reader = response.body!.getReader();
    let text = '';
    while ((text.match(/event: next/g) ?? []).length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    const payloads = [...text.matchAll(/^data: (.+)$/gm)].map((match) => JSON.parse(match[1]!));
    expect(payloads.slice(0, 2).map((payload) => payload.data.messages.id)).toEqual(['sse-0', 'sse-1']);
  });

  it('subscription ends with QUEUE_NOT_FOUND when the queue is deleted', async () => {
    const queue = await evq.createQueue();
    const client = evq.wsClient();
    const iterator = client.iterate({ query: messagesSubscription, variables: { queue } });
    const next = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await evq.gql('mutation ($name: String!) { deleteQueue(name: $name) }', { name: queue });

    const { value } = await next;
    expect(value!.errors![0]!.extensions!.code).toBe('QUEUE_NOT_FOUND');
    expect((await iterator.next()).done).toBe(true);
  });
});
