import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { adminToken, startEvq, type TestEvq } from '../helpers/evq.ts';

let evq: TestEvq;
let queue: string;

beforeAll(async () => {
  evq = await startEvq();
  queue = await evq.createQueue();
  await evq.gql('mutation ($queue: String!) { publish(queue: $queue, message: { data: 1 }) { id } }', { queue });
});

afterAll(async () => {
  await evq.close();
});

const publish = 'mutation ($queue: String!, $message: PublishInput!) { publish(queue: $queue, message: $message) { id } }';
const publishBatch = 'mutation ($queue: String!, $messages: [PublishInput!]!) { publishBatch(queue: $queue, messages: $messages) { id } }';
const poll = 'query ($queue: String!, $after: Cursor, $limit: Int! = 100, $waitSeconds: Int! = 0) { poll(queue: $queue, after: $after, limit: $limit, waitSeconds: $waitSeconds) { cursor } }';
const receive = 'mutation ($queue: String!, $limit: Int! = 1, $visibilitySeconds: Int) { receive(queue: $queue, limit: $limit, visibilitySeconds: $visibilitySeconds) { receipt } }';

interface Case {
  name: string;
  query: string;
  variables: () => Record<string, unknown>;
  token?: string | null;
  code: string;
  /** A field of the error's extensions that must name the offending value. */
  extensions?: Record<string, unknown>;
}

const oneMiB = 1024 * 1024;

const cases: Case[] = [
  {
    name: 'payload over the limit',
    query: publish,
    variables: () => ({ queue, message: { data: 'x'.repeat(oneMiB) } }),
    code: 'PAYLOAD_TOO_LARGE',
    extensions: { bytes: oneMiB + 2, limit: oneMiB },
  },
  { name: 'unknown queue', query: publish, variables: () => ({ queue: 'no-such-queue', message: { data: 1 } }), code: 'QUEUE_NOT_FOUND', extensions: { queue: 'no-such-queue' } },
  {
    name: 'duplicate queue',
    query: 'mutation ($name: String!) { createQueue(input: { name: $name }) { name } }',
    variables: () => ({ name: queue }),
    code: 'QUEUE_EXISTS',
    extensions: { queue: undefined },
  },
  { name: 'limit of 0', query: poll, variables: () => ({ queue, limit: 0 }), code: 'BAD_USER_INPUT', extensions: { field: 'limit', value: 0 } },
  { name: 'limit of 100 000', query: poll, variables: () => ({ queue, limit: 100_000 }), code: 'BAD_USER_INPUT', extensions: { field: 'limit', value: 100_000 } },
  { name: 'waitSeconds 21', query: poll, variables: () => ({ queue, waitSeconds: 21 }), code: 'BAD_USER_INPUT', extensions: { field: 'waitSeconds', value: 21, max: 20 } },
  { name: 'malformed cursor', query: poll, variables: () => ({ queue, after: 'not-a-cursor!' }), code: 'BAD_USER_INPUT', extensions: { field: 'cursor', value: 'not-a-cursor!' } },
  {
    name: 'batch of 1 001',
    query: publishBatch,
    variables: () => ({ queue, messages: Array.from({ length: 1001 }, (_, index) => ({ data: index })) }),
    code: 'BAD_USER_INPUT',
    extensions: { field: 'messages.length', value: 1001, max: 1000 },
  },
  { name: 'visibility of 0', query: receive, variables: () => ({ queue, visibilitySeconds: 0 }), code: 'BAD_USER_INPUT', extensions: { field: 'visibilitySeconds', value: 0 } },
  { name: 'invalid queue name', query: publish, variables: () => ({ queue: 'bad name', message: { data: 1 } }), code: 'BAD_USER_INPUT', extensions: { field: 'queue', value: 'bad name' } },
  { name: 'missing token', query: poll, variables: () => ({ queue }), token: null, code: 'UNAUTHENTICATED' },
  { name: 'wrong token', query: poll, variables: () => ({ queue }), token: 'wrong-token-wrong-token', code: 'UNAUTHENTICATED' },
  { name: 'unknown field', query: 'query { nope }', variables: () => ({}), code: 'BAD_USER_INPUT' },
];

describe('bad input over GraphQL', () => {
  it.each(cases)('$name is rejected with $code', async (testCase) => {
    const result = await evq.gql(testCase.query, testCase.variables(), testCase.token);
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions!.code).toBe(testCase.code);
    for (const [field, value] of Object.entries(testCase.extensions ?? {})) {
      if (value === undefined) expect(result.errors![0]!.extensions![field]).toBeDefined();
      else expect(result.errors![0]!.extensions![field]).toEqual(value);
    }
    if (testCase.code === 'UNAUTHENTICATED') expect(result.status).toBe(401);
  });

  it('invalid JSON body is BAD_USER_INPUT', async () => {
    const response = await fetch(`${evq.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: '{"query": ',
    });
    const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(response.status).toBe(400);
    expect(body.errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('expired receipt is RECEIPT_INVALID', async () => {
    const workQueue = await evq.createQueue();
    await evq.gql(publish, { queue: workQueue, message: { data: 'x' } });
    const received = await evq.gql(receive, { queue: workQueue, visibilitySeconds: 1 });
    const receipt = received.data!.receive[0].receipt as string;
    await new Promise((resolve) => setTimeout(resolve, 1200));

    const nacked = await evq.gql('mutation ($queue: String!, $receipt: String!) { nack(queue: $queue, receipt: $receipt) }', { queue: workQueue, receipt });
    expect(nacked.errors![0]!.extensions!.code).toBe('RECEIPT_INVALID');
    const acked = await evq.gql('mutation ($queue: String!, $receipts: [String!]!) { ack(queue: $queue, receipts: $receipts) { acked code } }', {
      queue: workQueue,
      receipts: [receipt, 'garbage'],
    });
    expect(acked.data!.ack).toEqual([
      { acked: false, code: 'RECEIPT_INVALID' },
      { acked: false, code: 'RECEIPT_INVALID' },
    ]);
  });

  it('rejected batch stores nothing', async () => {
    const batchQueue = await evq.createQueue();
    const result = await evq.gql(publishBatch, { queue: batchQueue, messages: [{ data: 1 }, { data: 2, delaySeconds: -1 }] });
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'messages[1].delaySeconds', value: -1 });
    const polled = await evq.gql('query ($queue: String!) { poll(queue: $queue) { messages { id } } }', { queue: batchQueue });
    expect(polled.data!.poll.messages).toEqual([]);
  });
});

describe('bad input over REST', () => {
  it('invalid JSON is 400 BAD_USER_INPUT', async () => {
    const response = await evq.rest('/queue/publish', '{"queue":');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('BAD_USER_INPUT');
  });

  it('payload over the limit is 413', async () => {
    const response = await evq.rest('/queue/publish', { queue, data: 'x'.repeat(oneMiB) });
    expect(response.status).toBe(413);
    expect(response.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { bytes: oneMiB + 2, limit: oneMiB } });
  });

  it('unknown queue is 404', async () => {
    const response = await evq.rest('/queue/publish', { queue: 'missing-queue', data: 1 });
    expect(response.status).toBe(404);
    expect(response.body.error).toMatchObject({ code: 'QUEUE_NOT_FOUND', details: { queue: 'missing-queue' } });
  });

  it('missing and wrong tokens are 401', async () => {
    const missing = await evq.rest('/queue/publish', { queue, data: 1 }, null);
    const wrong = await evq.rest('/queue/publish', { queue, data: 1 }, 'wrong-token-wrong-token');
    expect([missing.status, missing.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('receive limit of 0 is 400', async () => {
    const response = await evq.rest('/queue/receive', { queue, limit: 0 });
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual({ field: 'limit', value: 0, min: 1, max: 100 });
  });
});

describe('bad input over graphql-ws', () => {
  it('missing token closes the socket with 4401', async () => {
    const client = evq.wsClient(null);
    const closed = new Promise<{ code: number; reason: string }>((resolve) => client.on('closed', (event) => resolve(event as { code: number; reason: string })));
    const iterator = client.iterate({ query: 'subscription ($queue: String!) { messages(queue: $queue) { id } }', variables: { queue } });
    await iterator.next().catch(() => undefined);
    const event = await closed;
    expect(event.code).toBe(4401);
    expect(event.reason).toBe('Unauthorized: Authentication failed: missing bearer token; send Authorization: Bearer <token>.');
  });

  it('authorization param matches in any letter case', async () => {
    const client = createClient({
      url: `${evq.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${adminToken}` },
      retryAttempts: 0,
    });
    const result = await client.iterate({ query: '{ queues { name } }' }).next();
    await client.dispose();
    expect(result.value.errors).toBeUndefined();
    expect(result.value.data.queues.map((entry: { name: string }) => entry.name)).toContain(queue);
  });
});
