import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, startEvq, type TestEvq } from '../helpers/evq.ts';

let evq: TestEvq;

beforeAll(async () => {
  evq = await startEvq();
});

afterAll(async () => {
  await evq.close();
});

describe('operations endpoints', () => {
  it('healthz and readyz answer 200', async () => {
    const health = await fetch(`${evq.url}/healthz`);
    const ready = await fetch(`${evq.url}/readyz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready', engine: 'sqlite' }]);
  });

  it('metrics count published messages', async () => {
    const queue = await evq.createQueue();
    await evq.rest('/queue/publish', { queue, data: { a: 1 } });
    await evq.rest('/queue/publish', { queue, data: { a: 2 } });
    const response = await fetch(`${evq.url}/metrics`);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).toContain(`evq_messages_published_total{queue="${queue}"} 2`);
    expect(text).toContain('evq_http_request_duration_seconds_bucket');
  });

  it('openapi.json describes the REST routes', async () => {
    const response = await fetch(`${evq.url}/openapi.json`);
    const document = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(['/queue/publish', '/queue/receive', '/queue/ack', '/queue/nack']);
  });

  it('graphiql is served at /graphql', async () => {
    const response = await fetch(`${evq.url}/graphql`, { headers: { accept: 'text/html' } });
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(html).toContain('<title>evq</title>');
    expect(html).not.toMatch(/https?:\/\/(unpkg\.com|cdn\.)/);
  });

  it('poll responses are not cached', async () => {
    const queue = await evq.createQueue();
    const response = await fetch(`${evq.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ query: 'query ($queue: String!) { poll(queue: $queue) { cursor } }', variables: { queue } }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('unknown route is 404', async () => {
    const response = await fetch(`${evq.url}/nowhere`);
    expect(response.status).toBe(404);
  });
});

describe('REST work queue', () => {
  it('publish, receive and ack', async () => {
    const queue = await evq.createQueue();
    const published = await evq.rest('/queue/publish', { queue, id: 'rest-1', data: { hello: 'world' }, key: 'k' });
    expect(published.status).toBe(200);
    expect(published.body).toMatchObject({ id: 'rest-1', queue, duplicate: false });

    const received = await evq.rest('/queue/receive', { queue, limit: 5 });
    expect(received.status).toBe(200);
    expect(received.body.deliveries).toHaveLength(1);
    expect(received.body.deliveries[0]).toMatchObject({ attempt: 1, group: 'default', message: { id: 'rest-1', key: 'k', data: { hello: 'world' } } });

    const acked = await evq.rest('/queue/ack', { queue, receipts: [received.body.deliveries[0].receipt] });
    expect(acked.body.results).toEqual([{ receipt: received.body.deliveries[0].receipt, acked: true }]);

    const again = await evq.rest('/queue/ack', { queue, receipts: [received.body.deliveries[0].receipt] });
    expect(again.body.results[0]).toMatchObject({ acked: false, code: 'RECEIPT_INVALID' });
  });
});

describe('graceful shutdown', () => {
  it('ends long-polls and closes sockets with 1001', async () => {
    const own = await startEvq();
    const queue = await own.createQueue();
    const client = own.wsClient();
    const closed = new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
    const subscription = client.iterate({ query: 'subscription ($queue: String!) { messages(queue: $queue) { id } }', variables: { queue } });
    const firstEvent = subscription.next().catch(() => ({ done: true }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const polling = own.gql('query ($queue: String!) { poll(queue: $queue, waitSeconds: 20) { messages { id } } }', { queue });
    await new Promise((resolve) => setTimeout(resolve, 200));

    await own.close();
    expect(await closed).toBe(1001);
    expect((await polling).data).toEqual({ poll: { messages: [] } });
    await firstEvent;
  });
});
