import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvqConnectionError, type Message, MessageVerificationError, MessageVerifier } from '../../src/client/index.ts';
import { startEvq, type TestEvq } from '../helpers/evq.ts';

let evq: TestEvq;
let queue: string;
let signed: Message[];

const pollQuery = `query ($queue: String!) {
  poll(queue: $queue, limit: 100) { messages { id queue key data headers publishedAt deliverAt producer partition offset cursor signature { keyId timestamp nonce value proof } } }
}`;

async function poll(): Promise<Message[]> {
  const result = await evq.gql(pollQuery, { queue });
  expect(result.errors).toBeUndefined();
  return result.data!.poll.messages;
}

/** Returns a fetch that counts the JWKS requests it passes on. */
function countingFetch(): { fetch: typeof fetch; readonly count: number } {
  let count = 0;
  return {
    fetch: (input, init) => {
      count++;
      return fetch(input, init);
    },
    get count() {
      return count;
    },
  };
}

beforeAll(async () => {
  evq = await startEvq();
  queue = await evq.createQueue();
  const key = await evq.gql('mutation ($queue: String!) { createQueueKey(queue: $queue, actions: [PUBLISH]) { id secret } }', { queue });
  const secret = key.data!.createQueueKey.secret as string;
  // One message from the admin and one from a queue key, so `producer` differs.
  await evq.gql('mutation ($queue: String!) { publish(queue: $queue, message: { id: "from-admin", data: { n: 1, text: "Zoë ☕" } }) { id } }', { queue });
  const byKey = await evq.gql('mutation ($queue: String!) { publish(queue: $queue, message: { id: "from-key", data: [1.5, null, true] }) { id } }', { queue }, secret);
  expect(byKey.errors).toBeUndefined();
  // A message with every field that the signature covers besides the payload.
  const withFields = await evq.gql(
    'mutation ($queue: String!, $message: PublishInput!) { publish(queue: $queue, message: $message) { id } }',
    { queue, message: { id: 'with-fields', data: 'x', key: 'customer-7', headers: { source: 'checkout', 'trace-id': 'abc' }, deliverAt: new Date(Date.now() + 3_600_000).toISOString() } },
  );
  expect(withFields.errors).toBeUndefined();
  signed = await poll();
});

afterAll(async () => {
  await evq?.close();
});

async function failure(verifier: MessageVerifier, message: Message): Promise<MessageVerificationError> {
  const error = await verifier.verify(message).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MessageVerificationError);
  return error as MessageVerificationError;
}

describe('MessageVerifier', () => {
  it('accepts messages as evq returns them', async () => {
    const verifier = new MessageVerifier({ url: evq.url });
    expect(signed.map((message) => message.id)).toEqual(['from-admin', 'from-key', 'with-fields']);
    expect(signed[1]!.producer).not.toBe(signed[0]!.producer);
    expect(signed[2]!.key).toBe('customer-7');
    expect(signed[2]!.headers).toEqual({ source: 'checkout', 'trace-id': 'abc' });
    expect(signed[2]!.deliverAt).not.toBeNull();
    for (const message of signed) {
      expect(message.signature!.value).toMatch(/^v1m=/);
      expect(message.signature!.proof).toMatch(/^[0-9]+:[1-9][0-9]*:/);
      await expect(verifier.verify(message)).resolves.toBeUndefined();
    }
  });

  it('accepts a batch under one signature', async () => {
    const messages = Array.from({ length: 5 }, (_, index) => ({ id: `batch-${index}`, data: { index } }));
    const published = await evq.gql('mutation ($queue: String!, $messages: [PublishInput!]!) { publishBatch(queue: $queue, messages: $messages) { id } }', {
      queue,
      messages,
    });
    expect(published.errors).toBeUndefined();

    const batch = (await poll()).filter((message) => message.id.startsWith('batch-'));
    expect(batch).toHaveLength(5);
    expect(new Set(batch.map((message) => message.signature!.value)).size).toBe(1);
    expect(new Set(batch.map((message) => message.signature!.proof)).size).toBe(5);
    const verifier = new MessageVerifier({ url: evq.url });
    for (const message of batch) await expect(verifier.verify(message)).resolves.toBeUndefined();
  });

  it.each([
    ['data', (message: Message) => ({ ...message, data: { n: 2, text: 'Zoë ☕' } })],
    ['id', (message: Message) => ({ ...message, id: 'other' })],
    ['queue', (message: Message) => ({ ...message, queue: `${message.queue}-x` })],
    ['producer', (message: Message) => ({ ...message, producer: 'service:mallory' })],
    ['timestamp', (message: Message) => ({ ...message, signature: { ...message.signature!, timestamp: message.signature!.timestamp + 1 } })],
    ['value', (message: Message) => ({ ...message, signature: { ...message.signature!, value: `v1m=${'A'.repeat(86)}==` } })],
    ['v1a value', (message: Message) => ({ ...message, signature: { ...message.signature!, value: `v1a=${message.signature!.value.slice('v1m='.length)}` } })],
    ['proof', (message: Message) => ({ ...message, signature: { ...message.signature!, proof: `${message.signature!.proof}${'A'.repeat(43)}=` } })],
  ])('rejects a changed %s', async (_field, change) => {
    const verifier = new MessageVerifier({ url: evq.url });
    const error = await failure(verifier, change(signed[0]!));
    expect(error.code).toBe('INVALID_SIGNATURE');
    expect(error.retryable).toBe(false);
    expect(error.keyId).toBe(signed[0]!.signature!.keyId);
  });

  it.each([
    ['a changed key', (message: Message) => ({ ...message, key: 'customer-8' })],
    ['a removed key', (message: Message) => ({ ...message, key: null })],
    ['a changed header value', (message: Message) => ({ ...message, headers: { ...message.headers, source: 'admin' } })],
    ['an added header', (message: Message) => ({ ...message, headers: { ...message.headers, 'x-added': '1' } })],
    ['removed headers', (message: Message) => ({ ...message, headers: {} })],
    ['deliverAt 1 ms later', (message: Message) => ({ ...message, deliverAt: new Date(Date.parse(message.deliverAt!) + 1).toISOString() })],
    ['a removed deliverAt', (message: Message) => ({ ...message, deliverAt: null })],
  ])('rejects %s', async (_change, change) => {
    const verifier = new MessageVerifier({ url: evq.url });
    const message = signed.find((entry) => entry.id === 'with-fields')!;
    await expect(verifier.verify(message)).resolves.toBeUndefined();
    const error = await failure(verifier, change(message));
    expect(error.code).toBe('INVALID_SIGNATURE');
  });

  it.each([
    ['a key', (message: Message) => ({ ...message, key: 'customer-7' })],
    ['an empty key', (message: Message) => ({ ...message, key: '' })],
    ['a header', (message: Message) => ({ ...message, headers: { source: 'checkout' } })],
    ['a deliverAt', (message: Message) => ({ ...message, deliverAt: new Date().toISOString() })],
  ])('rejects %s where evq signed none', async (_change, change) => {
    const verifier = new MessageVerifier({ url: evq.url });
    const error = await failure(verifier, change(signed[0]!));
    expect(error.code).toBe('INVALID_SIGNATURE');
  });

  it('rejects a missing signature', async () => {
    const verifier = new MessageVerifier({ url: evq.url });
    const error = await failure(verifier, { ...signed[0]!, signature: null });
    expect(error.code).toBe('MISSING_SIGNATURE');
    expect(error.messageId).toBe('from-admin');
    expect(error.cursor).toBe(signed[0]!.cursor);
  });

  it('rejects a v1m signature without its proof', async () => {
    const verifier = new MessageVerifier({ url: evq.url });
    const error = await failure(verifier, { ...signed[0]!, signature: { ...signed[0]!.signature!, proof: null } });
    expect(error.code).toBe('MISSING_SIGNATURE');
    expect(error.message).toContain('proof');
  });

  it('fetches the keys once for many messages', async () => {
    const counter = countingFetch();
    const verifier = new MessageVerifier({ url: evq.url, fetch: counter.fetch });
    await Promise.all([...signed, ...signed, ...signed].map((message) => verifier.verify(message)));
    await verifier.verify(signed[0]!);
    expect(counter.count).toBe(1);
  });

  it('refetches for an unknown key at a bounded rate', async () => {
    const counter = countingFetch();
    const verifier = new MessageVerifier({ url: evq.url, fetch: counter.fetch, minRefetchIntervalMs: 60_000 });
    const unknown = { ...signed[0]!, signature: { ...signed[0]!.signature!, keyId: 'no-such-key' } };
    await verifier.verify(signed[0]!);
    expect(counter.count).toBe(1);

    // The first fetch was just now, so the unknown key causes no second one within the interval.
    expect((await failure(verifier, unknown)).code).toBe('UNKNOWN_KEY_ID');
    expect((await failure(verifier, unknown)).code).toBe('UNKNOWN_KEY_ID');
    expect(counter.count).toBe(1);
  });

  it('refetches for an unknown key after the interval', async () => {
    const counter = countingFetch();
    const verifier = new MessageVerifier({ url: evq.url, fetch: counter.fetch, minRefetchIntervalMs: 0 });
    const unknown = { ...signed[0]!, signature: { ...signed[0]!.signature!, keyId: 'no-such-key' } };
    expect((await failure(verifier, unknown)).code).toBe('UNKNOWN_KEY_ID');
    expect(counter.count).toBe(2);
  });

  it('verifies messages signed after a key rotation', async () => {
    const verifier = new MessageVerifier({ url: evq.url });
    await verifier.verify(signed[0]!);
    const rotated = await evq.gql('mutation { rotateEvqSigningKey }');
    expect(rotated.errors).toBeUndefined();
    await evq.gql('mutation ($queue: String!) { publish(queue: $queue, message: { id: "after-rotation", data: 3 }) { id } }', { queue });

    const message = (await poll()).find((entry) => entry.id === 'after-rotation')!;
    expect(message.signature!.keyId).toBe(rotated.data!.rotateEvqSigningKey);
    expect(message.signature!.keyId).not.toBe(signed[0]!.signature!.keyId);
    await expect(verifier.verify(message)).resolves.toBeUndefined();
    await expect(verifier.verify(signed[0]!)).resolves.toBeUndefined();
  });

  it('reports an unreachable JWKS as retryable', async () => {
    const verifier = new MessageVerifier({
      url: evq.url,
      fetch: () => Promise.reject(new TypeError('fetch failed')),
    });
    const error = await verifier.verify(signed[0]!).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EvqConnectionError);
    expect((error as EvqConnectionError).retryable).toBe(true);
  });

  it('rejects keys of another server', async () => {
    const other = await startEvq();
    try {
      const verifier = new MessageVerifier({ url: other.url });
      expect((await failure(verifier, signed[0]!)).code).toBe('UNKNOWN_KEY_ID');
    } finally {
      await other.close();
    }
  });
});
