import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvqClient, EvqClientError, exportEd25519PublicKey, type SigningKey, signMessage } from '../../src/client/index.ts';
import { adminToken, startEvq, type TestEvq } from '../helpers/evq.ts';

let evq: TestEvq;
let client: EvqClient;
let queue: string;
let hmacKey: SigningKey;
let ed25519Key: SigningKey;
/** Variables of each request that `client` sent. */
const sent: Array<Record<string, any>> = [];

beforeAll(async () => {
  evq = await startEvq();
  client = new EvqClient({
    url: evq.url,
    token: adminToken,
    fetch: (input, init) => {
      sent.push((JSON.parse(String(init?.body)) as { variables: Record<string, any> }).variables);
      return fetch(input, init);
    },
  });
  queue = await evq.createQueue();

  const created = await evq.gql('mutation ($queue: String!) { createQueueKey(queue: $queue, actions: [PUBLISH]) { id secret } }', { queue });
  expect(created.errors).toBeUndefined();
  hmacKey = { keyId: created.data!.createQueueKey.id, secret: created.data!.createQueueKey.secret };

  const pair = (await crypto.subtle.generateKey('Ed25519', true, ['sign', 'verify'])) as CryptoKeyPair;
  const registered = await evq.gql('mutation ($queue: String!, $publicKey: String!) { registerSigningKey(queue: $queue, publicKey: $publicKey) { id } }', {
    queue,
    publicKey: await exportEd25519PublicKey(pair.publicKey),
  });
  expect(registered.errors).toBeUndefined();
  ed25519Key = { keyId: registered.data!.registerSigningKey.id, privateKey: pair.privateKey };
});

afterAll(async () => {
  await client?.close();
  await evq?.close();
});

/** Publishes through the GraphQL helper and returns the error code, or null when evq stored the message. */
async function publishCode(message: Record<string, unknown>): Promise<string | null> {
  const result = await evq.gql('mutation ($queue: String!, $message: PublishInput!) { publish(queue: $queue, message: $message) { id } }', { queue, message });
  return (result.errors?.[0]?.extensions?.code as string | undefined) ?? null;
}

describe('EvqClient.publish with sign', () => {
  it.each([
    ['v1', () => hmacKey, /^v1=/],
    ['v1a', () => ed25519Key, /^v1a=/],
  ])('stores a %s-signed message', async (_kind, key, prefix) => {
    const data = { amount: 19.99, note: 'Zoë ☕', nested: { b: 2, a: [1, 'x'] } };
    const result = await client.publish(queue, { data }, { sign: key() });
    expect(result.duplicate).toBe(false);
    expect(result.id).toMatch(/^[0-9a-f-]{36}$/);

    const signature = sent.at(-1)!.message.signature;
    expect(signature.keyId).toBe(key().keyId);
    expect(signature.value).toMatch(prefix);
    expect(signature.nonce).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(signature.timestamp - Date.now() / 1000)).toBeLessThan(5);

    const polled = await evq.gql('query ($queue: String!) { poll(queue: $queue, limit: 1000) { messages { id data } } }', { queue });
    expect(polled.data!.poll.messages).toContainEqual({ id: result.id, data });
  });

  it('keeps a given id', async () => {
    const id = `order-${randomUUID()}`;
    const result = await client.publish(queue, { id, data: 1 }, { sign: ed25519Key });
    expect(result.id).toBe(id);
  });

  it('signs each message of a batch', async () => {
    const results = await client.publishBatch(queue, [{ data: 1 }, { data: 2 }, { data: 3 }], { sign: hmacKey });
    expect(results.map((result) => result.duplicate)).toEqual([false, false, false]);
    expect(new Set(results.map((result) => result.id)).size).toBe(3);
  });

  it('sets an id on an unsigned publish', async () => {
    const result = await client.publish(queue, { data: { unsigned: true } });
    expect(result.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('signMessage against evq', () => {
  it('identical retry is a duplicate', async () => {
    const id = `retry-${randomUUID()}`;
    const signature = await signMessage({ ...ed25519Key, queue, id, data: { n: 1 } });
    const first = await client.publish(queue, { id, data: { n: 1 }, signature });
    const second = await client.publish(queue, { id, data: { n: 1 }, signature });
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.offset).toBe(first.offset);
  });

  it.each([
    ['v1', () => hmacKey],
    ['v1a', () => ed25519Key],
  ])('%s with changed data is SIGNATURE_INVALID', async (_kind, key) => {
    const id = `tampered-${randomUUID()}`;
    const signature = await signMessage({ ...key(), queue, id, data: { amount: 42 } });
    expect(await publishCode({ id, data: { amount: 43 }, signature })).toBe('SIGNATURE_INVALID');
  });

  it('changed id is SIGNATURE_INVALID', async () => {
    const id = `tampered-${randomUUID()}`;
    const signature = await signMessage({ ...hmacKey, queue, id, data: 1 });
    expect(await publishCode({ id: `${id}-x`, data: 1, signature })).toBe('SIGNATURE_INVALID');
  });

  it('wrong secret is SIGNATURE_INVALID', async () => {
    const id = `tampered-${randomUUID()}`;
    const signature = await signMessage({ keyId: hmacKey.keyId, secret: `${hmacKey.secret}x`, queue, id, data: 1 });
    expect(await publishCode({ id, data: 1, signature })).toBe('SIGNATURE_INVALID');
  });

  it('timestamp 301 s old is SIGNATURE_EXPIRED', async () => {
    const id = `old-${randomUUID()}`;
    const signature = await signMessage({ ...ed25519Key, queue, id, data: 1, timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(await publishCode({ id, data: 1, signature })).toBe('SIGNATURE_EXPIRED');
  });

  it('nonce reused on another id is REPLAYED', async () => {
    const nonce = randomUUID();
    const firstId = `first-${randomUUID()}`;
    const secondId = `second-${randomUUID()}`;
    const first = await signMessage({ ...hmacKey, queue, id: firstId, data: 1, nonce });
    const second = await signMessage({ ...hmacKey, queue, id: secondId, data: 2, nonce });
    expect(await publishCode({ id: firstId, data: 1, signature: first })).toBeNull();
    expect(await publishCode({ id: secondId, data: 2, signature: second })).toBe('REPLAYED');
  });

  it('publish rejects with EvqClientError', async () => {
    const id = `tampered-${randomUUID()}`;
    const signature = await signMessage({ ...ed25519Key, queue, id, data: 'a' });
    const publish = client.publish(queue, { id, data: 'b', signature });
    await expect(publish).rejects.toBeInstanceOf(EvqClientError);
    await expect(publish).rejects.toMatchObject({ code: 'SIGNATURE_INVALID', retryable: false });
  });
});
