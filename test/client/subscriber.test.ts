import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DedupCache,
  EvqClient,
  EvqClientError,
  EvqConnectionError,
  type Message,
  MessageVerificationError,
  MessageVerifier,
} from '../../src/client/index.ts';
import { adminToken, startEvq, type TestEvq } from '../helpers/evq.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

let evq: TestEvq;
let proxy: TcpProxy;
let client: EvqClient;

beforeAll(async () => {
  evq = await startEvq();
  proxy = await startTcpProxy(evq.url);
  client = new EvqClient({ url: proxy.url, token: adminToken });
});

afterAll(async () => {
  await client?.close();
  await proxy?.close();
  await evq?.close();
});

/** Publishes `ids` in order straight to evq, not through the proxy. */
async function publish(queue: string, ids: string[]): Promise<void> {
  const messages = ids.map((id) => ({ id, data: { id } }));
  const result = await evq.gql('mutation ($queue: String!, $messages: [PublishInput!]!) { publishBatch(queue: $queue, messages: $messages) { id } }', {
    queue,
    messages,
  });
  expect(result.errors).toBeUndefined();
}

/** The cursor of the last message that the test consumed. */
let lastCursor: string | null = null;
/** Each subscribe message sent over a RecordingWebSocket, with the test's last cursor when it was sent. */
const subscribes: Array<{ variables: Record<string, unknown>; lastCursor: string | null }> = [];

/** The platform WebSocket, recording each graphql-ws subscribe message it sends. */
class RecordingWebSocket extends WebSocket {
  override send(data: string): void {
    const message = JSON.parse(data) as { type: string; payload?: { variables: Record<string, unknown> } };
    if (message.type === 'subscribe') subscribes.push({ variables: message.payload!.variables, lastCursor });
    super.send(data);
  }
}

function range(prefix: string, from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `${prefix}-${String(from + i).padStart(5, '0')}`);
}

describe('EvqClient.subscribeMessages', () => {
  it('resumes after the connection drops, each message once in order', async () => {
    const queue = await evq.createQueue();
    const expected = range('m', 0, 600);
    await publish(queue, expected.slice(0, 200));

    const errors: Error[] = [];
    const controller = new AbortController();
    const seen: string[] = [];
    const connectionsBefore = proxy.connections;
    let cutDone = false;
    let outage: Promise<void> = Promise.resolve();
    const recordingClient = new EvqClient({ url: proxy.url, token: adminToken, webSocketImpl: RecordingWebSocket });
    subscribes.length = 0;
    lastCursor = null;
    const iterator = recordingClient.subscribeMessages(queue, {
      from: 'EARLIEST',
      verify: new MessageVerifier({ url: proxy.url }),
      // A cache of one id, so that dedup cannot hide a resume from the wrong cursor.
      dedup: new DedupCache(1),
      onError: (error) => errors.push(error),
      backoff: { initialDelayMs: 50, maxDelayMs: 500 },
      signal: controller.signal,
    });
    const timeout = setTimeout(() => controller.abort(), 20_000);

    for await (const message of iterator) {
      seen.push(message.id);
      lastCursor = message.cursor;
      if (seen.length === 100 && !cutDone) {
        cutDone = true;
        // Drop the socket mid-stream and keep the network down for a second while evq gets more
        // messages. The loop goes on meanwhile, so the client tries to reconnect during the outage.
        proxy.cut();
        outage = (async () => {
          await publish(queue, expected.slice(200, 400));
          await new Promise((resolve) => setTimeout(resolve, 1000));
          proxy.restore();
          await publish(queue, expected.slice(400, 600));
        })();
      }
      if (seen.length === expected.length) break;
    }
    clearTimeout(timeout);
    await outage;
    await recordingClient.close();

    expect(seen.length).toBe(expected.length);
    expect(seen).toEqual(expected);
    // The first drop, then at least one failed reconnect during the outage.
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors[0]).toBeInstanceOf(EvqConnectionError);
    expect(proxy.connections - connectionsBefore).toBeGreaterThanOrEqual(2);
    // Each subscribe after a drop starts right after the last message yielded before it.
    expect(subscribes.length).toBeGreaterThanOrEqual(2);
    expect(subscribes[0]!.variables).toMatchObject({ from: 'EARLIEST' });
    for (const subscribe of subscribes.slice(1)) expect(subscribe.variables.after).toBe(subscribe.lastCursor);
  });

  it('resumes after `after`', async () => {
    const queue = await evq.createQueue();
    await publish(queue, ['a', 'b', 'c']);
    const first: Message[] = [];
    for await (const message of client.subscribeMessages(queue, { from: 'EARLIEST' })) {
      first.push(message);
      if (first.length === 2) break;
    }

    const rest: string[] = [];
    for await (const message of client.subscribeMessages(queue, { after: first[1]!.cursor! })) {
      rest.push(message.id);
      break;
    }
    expect(first.map((message) => message.id)).toEqual(['a', 'b']);
    expect(rest).toEqual(['c']);
  });

  it('verifies key, headers and deliverAt', async () => {
    const queue = await evq.createQueue();
    const deliverAt = new Date(Date.now() + 3_600_000).toISOString();
    const published = await evq.gql('mutation ($queue: String!, $message: PublishInput!) { publish(queue: $queue, message: $message) { id } }', {
      queue,
      message: { id: 'with-fields', data: 1, key: 'customer-7', headers: { source: 'checkout' }, deliverAt },
    });
    expect(published.errors).toBeUndefined();

    const iterator = client.subscribeMessages(queue, { from: 'EARLIEST', verify: new MessageVerifier({ url: proxy.url }) });
    const { value: message } = await iterator.next();
    await iterator.return(undefined);
    expect(message).toMatchObject({ id: 'with-fields', key: 'customer-7', headers: { source: 'checkout' }, deliverAt });
  });

  it('ends with MessageVerificationError', async () => {
    const other = await startEvq();
    try {
      const queue = await evq.createQueue();
      await publish(queue, ['x']);
      const iterator = client.subscribeMessages(queue, { from: 'EARLIEST', verify: new MessageVerifier({ url: other.url }) });
      const error = await iterator.next().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(MessageVerificationError);
      expect((error as MessageVerificationError).messageId).toBe('x');
      expect((error as MessageVerificationError).cursor).toEqual(expect.any(String));
    } finally {
      await other.close();
    }
  });

  it('ends with QUEUE_NOT_FOUND', async () => {
    const iterator = client.subscribeMessages('no-such-queue', { from: 'EARLIEST' });
    const error = await iterator.next().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EvqClientError);
    expect((error as EvqClientError).code).toBe('QUEUE_NOT_FOUND');
  });

  it('stops a waiting iteration on abort', async () => {
    const queue = await evq.createQueue();
    const controller = new AbortController();
    const iterator = client.subscribeMessages(queue, { signal: controller.signal });
    const next = iterator.next();
    setTimeout(() => controller.abort(), 200);
    await expect(next).resolves.toEqual({ done: true, value: undefined });
  });
});
