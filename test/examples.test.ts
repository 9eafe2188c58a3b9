import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvqClient, EvqClientError } from '../src/client/index.ts';
import { Ack, CreateQueue, Messages, Publish, Receive } from '../examples/operations.ts';
import { adminToken, startEvq, type TestEvq } from './helpers/evq.ts';

const run = promisify(execFile);
let evq: TestEvq;
let client: EvqClient;

beforeAll(async () => {
  evq = await startEvq();
  client = new EvqClient({ url: evq.url, token: adminToken });
});

afterAll(async () => {
  await client.close();
  await evq.close();
});

describe('examples', () => {
  it('publish example stores a message', async () => {
    const { stdout } = await run(process.execPath, ['examples/publish.ts', 'example-publish', '{"hello":"test"}'], {
      env: { ...process.env, EVQ_URL: evq.url, EVQ_ADMIN_TOKEN: adminToken },
    });
    expect(stdout.split('\n')[0]).toBe('HTTP 200');
    const result = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { queue: string; duplicate: boolean };
    expect(result).toMatchObject({ queue: 'example-publish', duplicate: false });

    const polled = await evq.gql('{ poll(queue: "example-publish") { messages { data } } }');
    expect(polled.data!.poll.messages).toEqual([{ data: { hello: 'test' } }]);
  });
});

describe('typed client', () => {
  it('publishes, receives and acks', async () => {
    const { createQueue } = await client.request(CreateQueue, { input: { name: 'typed-client', maxAttempts: 3 } });
    expect(createQueue).toEqual({ name: 'typed-client', partitions: 1, visibilityTimeoutSeconds: 30, maxAttempts: 3 });

    const { publish } = await client.request(Publish, { queue: 'typed-client', message: { id: 'job-1', data: { task: 'resize' } } });
    expect(publish).toMatchObject({ id: 'job-1', queue: 'typed-client', duplicate: false });

    const { receive } = await client.request(Receive, { queue: 'typed-client', limit: 10, waitSeconds: 1 });
    expect(receive.map((delivery) => [delivery.message.id, delivery.attempt, delivery.message.data])).toEqual([['job-1', 1, { task: 'resize' }]]);

    const { ack } = await client.request(Ack, { queue: 'typed-client', receipts: [receive[0]!.receipt] });
    expect(ack).toEqual([{ receipt: receive[0]!.receipt, acked: true, code: null }]);
  });

  it('throws the error code', async () => {
    const request = client.request(Publish, { queue: 'missing', message: { data: 1 } });
    await expect(request).rejects.toBeInstanceOf(EvqClientError);
    await expect(request).rejects.toMatchObject({ code: 'QUEUE_NOT_FOUND' });
  });

  it('subscribes to messages', async () => {
    await client.request(CreateQueue, { input: { name: 'typed-stream' } });
    await client.request(Publish, { queue: 'typed-stream', message: { id: 'first', data: 1 } });
    const ids: string[] = [];
    for await (const { messages } of client.subscribe(Messages, { queue: 'typed-stream', from: 'EARLIEST' })) {
      ids.push(messages.id);
      if (ids.length === 1) await client.request(Publish, { queue: 'typed-stream', message: { id: 'second', data: 2 } });
      if (ids.length === 2) break;
    }
    expect(ids).toEqual(['first', 'second']);
  });
});
