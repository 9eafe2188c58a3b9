import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvqClient, EvqClientError, type Message, MessageVerifier, type WorkErrorInfo } from '../../src/client/index.ts';
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fastRetry = { initialDelayMs: 50, maxDelayMs: 500 };

/** Publishes `count` messages with ids `<prefix>-<n>` straight to evq, 1000 per batch, and returns the ids. */
async function publish(queue: string, count: number, prefix = 'm'): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (let start = 0; start < count; start += 1000) {
    const messages = ids.slice(start, start + 1000).map((id) => ({ id, data: { id } }));
    const result = await evq.gql('mutation ($queue: String!, $messages: [PublishInput!]!) { publishBatch(queue: $queue, messages: $messages) { id } }', {
      queue,
      messages,
    });
    expect(result.errors).toBeUndefined();
  }
  return ids;
}

interface Stats {
  ready: number;
  inFlight: number;
  delayed: number;
  deadLettered: number;
  published: number;
}

async function stats(queue: string): Promise<Stats> {
  const result = await evq.gql('query ($queue: String!) { queue(name: $queue) { stats { ready inFlight delayed deadLettered published } } }', { queue });
  return result.data!.queue.stats;
}

/** Waits until `condition` holds, checking every 100 ms, and fails after `timeoutMs`. */
async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await sleep(100);
  }
}

describe('EvqClient.work', () => {
  it('processes 10 000 messages through a dropped connection', { timeout: 120_000 }, async () => {
    const queue = await evq.createQueue();
    const published = await publish(queue, 10_000);
    const calls = new Map<string, number>();
    const errors: WorkErrorInfo[] = [];
    const controller = new AbortController();
    let outage: Promise<void> | null = null;
    let slowId = '';

    const work = client.work(
      queue,
      async (message: Message) => {
        calls.set(message.id, (calls.get(message.id) ?? 0) + 1);
        await new Promise((resolve) => setImmediate(resolve));
        if (calls.size >= 3_000 && outage === null) {
          // Reset every connection and keep the network down for longer than the 2 s leases, so
          // receives, acks and lease extensions in flight fail and leases expire during the outage.
          proxy.cut();
          outage = sleep(3_000).then(() => proxy.restore());
          // This call outlasts the outage, so evq redelivers its message while it still runs.
          slowId = message.id;
          await sleep(4_500);
        }
      },
      {
        concurrency: 50,
        visibilitySeconds: 2,
        waitSeconds: 1,
        verify: new MessageVerifier({ url: proxy.url }),
        retry: fastRetry,
        signal: controller.signal,
        onError: (_error, info) => errors.push(info),
      },
    );

    await until(() => calls.size === published.length, 90_000, 'every message to reach the handler');
    await outage;
    await until(async () => {
      const current = await stats(queue);
      return current.ready === 0 && current.inFlight === 0 && current.delayed === 0;
    }, 30_000, 'every message to be acked');
    controller.abort();
    const result = await work;

    const repeated = [...calls].filter(([, count]) => count !== 1);
    expect(repeated).toEqual([]);
    expect(new Set(calls.keys())).toEqual(new Set(published));
    expect(result.handled).toBe(10_000);
    expect(result.failed).toBe(0);
    expect(result.rejected).toBe(0);
    // Messages whose ack was lost in the outage came back and were acked without a handler call.
    expect(result.duplicates).toBeGreaterThan(0);
    expect(result.received).toBe(result.handled + result.duplicates);
    expect(result.acked).toBe(result.received - countDroppedAcks(errors));
    expect(calls.get(slowId)).toBe(1);

    const final = await stats(queue);
    expect(final).toEqual({ ready: 0, inFlight: 0, delayed: 0, deadLettered: 0, published: 10_000 });
    expect(errors.some((info) => info.operation === 'receive')).toBe(true);
    expect(errors.some((info) => info.operation === 'ack')).toBe(true);
    expect(errors.some((info) => info.operation === 'extendVisibility' && info.messageIds[0] === slowId)).toBe(true);
  });

  it('verifies key, headers and deliverAt', async () => {
    const queue = await evq.createQueue();
    // Soon enough for the test, late enough that evq keeps deliverAt instead of dropping a past one.
    const deliverAt = new Date(Date.now() + 1_500).toISOString();
    const published = await evq.gql('mutation ($queue: String!, $message: PublishInput!) { publish(queue: $queue, message: $message) { id } }', {
      queue,
      message: { id: 'with-fields', data: 1, key: 'customer-7', headers: { source: 'checkout' }, deliverAt },
    });
    expect(published.errors).toBeUndefined();
    const received: Message[] = [];
    const infos: WorkErrorInfo[] = [];
    const controller = new AbortController();

    const work = client.work(queue, (message) => void received.push(message), {
      waitSeconds: 1,
      verify: new MessageVerifier({ url: proxy.url }),
      signal: controller.signal,
      onError: (_error, info) => infos.push(info),
    });
    await until(() => received.length === 1, 10_000, 'the delayed message');
    controller.abort();
    const result = await work;

    expect(received[0]).toMatchObject({ id: 'with-fields', key: 'customer-7', headers: { source: 'checkout' }, deliverAt });
    expect(infos).toEqual([]);
    expect(result).toMatchObject({ handled: 1, rejected: 0 });
  });

  it('retries a failing handler after a backoff', async () => {
    const queue = await evq.createQueue();
    await publish(queue, 1);
    const attempts: Array<{ attempt: number; at: number }> = [];
    const infos: WorkErrorInfo[] = [];
    const controller = new AbortController();

    const work = client.work(
      queue,
      (_message, context) => {
        attempts.push({ attempt: context.attempt, at: Date.now() });
        if (context.attempt < 3) throw new Error(`failure ${context.attempt}`);
      },
      { waitSeconds: 1, nackDelay: { initialSeconds: 1, maxSeconds: 2 }, signal: controller.signal, onError: (_error, info) => infos.push(info) },
    );
    await until(() => attempts.length === 3, 15_000, 'the third attempt');
    await until(async () => (await stats(queue)).inFlight === 0, 5_000, 'the ack');
    controller.abort();
    const result = await work;

    expect(attempts.map((entry) => entry.attempt)).toEqual([1, 2, 3]);
    // Nack delays are 1 s then 2 s, each with jitter down to half.
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(500);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(1000);
    expect(infos.map((info) => [info.operation, info.attempt])).toEqual([
      ['handler', 1],
      ['handler', 2],
    ]);
    expect(result).toMatchObject({ handled: 1, failed: 2, acked: 1 });
    expect(await stats(queue)).toMatchObject({ ready: 0, inFlight: 0, deadLettered: 0 });
  });

  it('dead-letters at maxAttempts without a delay', async () => {
    const queue = await evq.createQueue({ maxAttempts: 2 });
    await publish(queue, 1, 'poison');
    const infos: WorkErrorInfo[] = [];
    const controller = new AbortController();

    const work = client.work(
      queue,
      () => {
        throw new Error('cannot process');
      },
      { waitSeconds: 1, nackDelay: { initialSeconds: 1, maxSeconds: 1 }, signal: controller.signal, onError: (_error, info) => infos.push(info) },
    );
    await until(async () => (await stats(queue)).deadLettered === 1, 10_000, 'the dead letter');
    controller.abort();
    const result = await work;

    expect(infos.map((info) => [info.operation, info.attempt, info.retryInMs === null])).toEqual([
      ['handler', 1, false],
      ['handler', 2, true],
    ]);
    expect(result).toMatchObject({ handled: 0, failed: 2 });
    const deadLetters = await evq.gql('query ($queue: String!) { deadLetters(queue: $queue) { attempts lastError message { id } } }', { queue });
    expect(deadLetters.data!.deadLetters).toEqual([{ attempts: 2, lastError: 'Error: cannot process', message: { id: 'poison-0' } }]);
  });

  it('extends the lease while the handler runs', async () => {
    const queue = await evq.createQueue();
    await publish(queue, 1);
    const controller = new AbortController();
    let calls = 0;
    let receivedByOther: unknown[] | null = null;

    const work = client.work(
      queue,
      async () => {
        calls++;
        // The lease is 1 s, so another receiver would get the message after 1 s unless it is extended.
        await sleep(2_500);
        const other = await evq.gql('mutation ($queue: String!) { receive(queue: $queue, waitSeconds: 0) { receipt } }', { queue });
        receivedByOther = other.data!.receive;
      },
      { visibilitySeconds: 1, waitSeconds: 1, signal: controller.signal },
    );
    await until(() => receivedByOther !== null, 10_000, 'the handler to end');
    await until(async () => (await stats(queue)).inFlight === 0, 5_000, 'the ack');
    controller.abort();
    const result = await work;

    expect(receivedByOther).toEqual([]);
    expect(calls).toBe(1);
    expect(result).toMatchObject({ received: 1, handled: 1, acked: 1 });
  });

  it('nacks a message that fails verification', async () => {
    const other = await startEvq();
    try {
      const queue = await evq.createQueue({ maxAttempts: 1 });
      await publish(queue, 1, 'forged');
      const infos: Array<[Error, WorkErrorInfo]> = [];
      const controller = new AbortController();
      let calls = 0;

      const work = client.work(
        queue,
        () => {
          calls++;
        },
        { waitSeconds: 1, verify: new MessageVerifier({ url: other.url }), signal: controller.signal, onError: (error, info) => infos.push([error, info]) },
      );
      await until(async () => (await stats(queue)).deadLettered === 1, 10_000, 'the dead letter');
      controller.abort();
      const result = await work;

      expect(calls).toBe(0);
      expect(result).toMatchObject({ received: 1, handled: 0, rejected: 1, acked: 0 });
      expect(infos.map(([error, info]) => [error.name, info.operation, info.messageIds])).toEqual([['MessageVerificationError', 'verify', ['forged-0']]]);
      const deadLetters = await evq.gql('query ($queue: String!) { deadLetters(queue: $queue) { lastError } }', { queue });
      expect(deadLetters.data!.deadLetters[0].lastError).toMatch(/^MessageVerificationError: Message "forged-0" .* is signed with key/);
    } finally {
      await other.close();
    }
  });

  it('waits for running handlers when stopped', async () => {
    const queue = await evq.createQueue();
    await publish(queue, 3);
    const controller = new AbortController();
    const finished: string[] = [];
    let started = 0;

    const work = client.work(
      queue,
      async (message, context) => {
        started++;
        await sleep(300);
        expect(context.signal.aborted).toBe(true);
        finished.push(message.id);
      },
      { concurrency: 3, waitSeconds: 1, signal: controller.signal },
    );
    await until(() => started === 3, 5_000, 'three handler calls');
    controller.abort();
    const result = await work;

    expect(finished.sort()).toEqual(['m-0', 'm-1', 'm-2']);
    expect(result).toMatchObject({ handled: 3, acked: 3 });
    expect(await stats(queue)).toMatchObject({ ready: 0, inFlight: 0 });
  });

  it('rejects for a missing queue', async () => {
    const work = client.work('no-such-queue', () => undefined, { waitSeconds: 1 });
    await expect(work).rejects.toBeInstanceOf(EvqClientError);
    await expect(work).rejects.toMatchObject({ code: 'QUEUE_NOT_FOUND' });
  });
});

/** Counts the acks that the worker dropped because their lease ended during the outage. */
function countDroppedAcks(errors: WorkErrorInfo[]): number {
  return errors.filter((info) => info.operation === 'ack' && info.retryInMs === null).reduce((sum, info) => sum + info.messageIds.length, 0);
}
