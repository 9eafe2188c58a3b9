import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalString } from '../../src/signing/canonical.ts';
import { signV1, signV1a } from '../../src/signing/signatures.ts';
import { startEvq, type TestEvq } from '../helpers/evq.ts';

let evq: TestEvq;
let queue: string;
let otherQueue: string;
let key: { id: string; secret: string };
let otherKey: { id: string; secret: string };

const publishMutation = `mutation ($queue: String!, $message: PublishInput!) {
  publish(queue: $queue, message: $message) { id duplicate }
}`;

beforeAll(async () => {
  evq = await startEvq();
  queue = await evq.createQueue();
  otherQueue = await evq.createQueue();
  key = await createQueueKey(queue);
  otherKey = await createQueueKey(otherQueue);
});

afterAll(async () => {
  await evq?.close();
});

async function createQueueKey(name: string): Promise<{ id: string; secret: string }> {
  const result = await evq.gql('mutation ($queue: String!) { createQueueKey(queue: $queue, actions: [PUBLISH]) { id secret } }', { queue: name });
  expect(result.errors).toBeUndefined();
  return result.data!.createQueueKey;
}

interface Draft {
  queue: string;
  id: string;
  timestamp: number;
  nonce: string;
  data: unknown;
}

function draft(overrides: Partial<Draft> = {}): Draft {
  return { queue, id: `m-${randomUUID()}`, timestamp: Math.floor(Date.now() / 1000), nonce: randomUUID(), data: { amount: 42, note: 'Zoë ☕' }, ...overrides };
}

/** Returns the PublishInput of a message signed with `v1` over `signed`, sent as `sent`. */
function v1Message(signed: Draft, sent: Draft = signed, signingKey = key) {
  return {
    id: sent.id,
    data: sent.data,
    signature: { keyId: signingKey.id, timestamp: sent.timestamp, nonce: sent.nonce, value: signV1(signingKey.secret, canonicalString(signed)) },
  };
}

async function publish(target: string, message: Record<string, unknown>) {
  const result = await evq.gql(publishMutation, { queue: target, message });
  return { code: result.errors?.[0]?.extensions?.code as string | undefined, message: result.errors?.[0]?.message, data: result.data };
}

async function storedIds(target: string): Promise<string[]> {
  const polled = await evq.gql('query ($queue: String!) { poll(queue: $queue, limit: 1000) { messages { id } } }', { queue: target });
  return polled.data!.poll.messages.map((message: { id: string }) => message.id);
}

describe('producer signature tamper table', () => {
  const rejectedIds: string[] = [];

  it.each([
    ['changed data', () => { const signed = draft(); return v1Message(signed, { ...signed, data: { amount: 43, note: 'Zoë ☕' } }); }, 'SIGNATURE_INVALID'],
    ['changed queue', () => { const signed = draft({ queue: otherQueue }); return v1Message(signed, { ...signed, queue }); }, 'SIGNATURE_INVALID'],
    ['changed id', () => { const signed = draft(); return v1Message(signed, { ...signed, id: `${signed.id}-x` }); }, 'SIGNATURE_INVALID'],
    ['changed timestamp', () => { const signed = draft(); return v1Message(signed, { ...signed, timestamp: signed.timestamp + 1 }); }, 'SIGNATURE_INVALID'],
    ['timestamp 301 s old', () => v1Message(draft({ timestamp: Math.floor(Date.now() / 1000) - 301 })), 'SIGNATURE_EXPIRED'],
    ['signature by another queue\'s key', () => v1Message(draft(), draft(), otherKey), 'SIGNATURE_INVALID'],
    [
      'truncated signature',
      () => {
        const message = v1Message(draft());
        return { ...message, signature: { ...message.signature, value: message.signature.value.slice(0, 20) } };
      },
      'SIGNATURE_INVALID',
    ],
    [
      'non-base64 signature',
      () => {
        const message = v1Message(draft());
        return { ...message, signature: { ...message.signature, value: 'v1=!!!not*base64###' } };
      },
      'SIGNATURE_INVALID',
    ],
  ])('%s is %s', async (_case, build, code) => {
    const message = build();
    rejectedIds.push(message.id);
    const result = await publish(queue, message);
    expect(result.code).toBe(code);
    expect(result.data).toBeNull();
  });

  it('reused nonce is REPLAYED', async () => {
    const first = draft();
    expect((await publish(queue, v1Message(first))).code).toBeUndefined();
    const second = draft({ nonce: first.nonce });
    rejectedIds.push(second.id);

    const result = await publish(queue, v1Message(second));
    expect(result.code).toBe('REPLAYED');
    expect(result.message).toContain(`already signed message "${first.id}"`);
  });

  it('signature by a revoked key is SIGNATURE_INVALID', async () => {
    const revocable = await createQueueKey(queue);
    await evq.gql('mutation ($id: String!) { revokeQueueKey(id: $id) }', { id: revocable.id });
    const message = v1Message(draft(), draft(), revocable);
    rejectedIds.push(message.id);

    const result = await publish(queue, message);
    expect(result.code).toBe('SIGNATURE_INVALID');
    expect(result.message).toBe(`Signature rejected: queue key "${revocable.id}" is revoked.`);
  });

  it('stored nothing for a rejected message', async () => {
    expect(rejectedIds).toHaveLength(10);
    const stored = await storedIds(queue);
    for (const id of rejectedIds) expect(stored).not.toContain(id);
  });

  it('counts every rejection in metrics', async () => {
    const metrics = await (await fetch(`${evq.url}/metrics`)).text();
    expect(metrics).toContain(`evq_signature_rejections_total{queue="${queue}",code="SIGNATURE_INVALID"} 8`);
    expect(metrics).toContain(`evq_signature_rejections_total{queue="${queue}",code="SIGNATURE_EXPIRED"} 1`);
    expect(metrics).toContain(`evq_signature_rejections_total{queue="${queue}",code="REPLAYED"} 1`);
  });
});

describe('accepted producer signatures', () => {
  it('v1 HMAC is stored', async () => {
    const message = v1Message(draft());
    const result = await publish(queue, message);
    expect(result.code).toBeUndefined();
    expect(result.data!.publish).toEqual({ id: message.id, duplicate: false });
  });

  it('identical retry is a duplicate', async () => {
    const message = v1Message(draft());
    expect((await publish(queue, message)).data!.publish.duplicate).toBe(false);
    const retry = await publish(queue, message);
    expect(retry.code).toBeUndefined();
    expect(retry.data!.publish).toEqual({ id: message.id, duplicate: true });
  });

  it('v1a with a registered key is stored', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const registered = await evq.gql('mutation ($queue: String!, $publicKey: String!) { registerSigningKey(queue: $queue, publicKey: $publicKey) { id } }', {
      queue,
      publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    });
    expect(registered.errors).toBeUndefined();
    const keyId = registered.data!.registerSigningKey.id as string;
    const signed = draft();
    const message = { id: signed.id, data: signed.data, signature: { keyId, timestamp: signed.timestamp, nonce: signed.nonce, value: signV1a(privateKey, canonicalString(signed)) } };

    expect((await publish(queue, message)).data!.publish.id).toBe(signed.id);

    await evq.gql('mutation ($id: String!) { revokeSigningKey(id: $id) }', { id: keyId });
    const again = draft();
    const afterRevoke = await publish(queue, {
      id: again.id,
      data: again.data,
      signature: { keyId, timestamp: again.timestamp, nonce: again.nonce, value: signV1a(privateKey, canonicalString(again)) },
    });
    expect(afterRevoke.code).toBe('SIGNATURE_INVALID');
  });

  it('rotated key signs with both secrets in its grace period', async () => {
    const rotating = await createQueueKey(queue);
    const rotated = await evq.gql('mutation ($id: String!) { rotateQueueKey(id: $id, graceSeconds: 60) { id secret } }', { id: rotating.id });
    const fresh = rotated.data!.rotateQueueKey as { id: string; secret: string };

    const signedOld = draft();
    expect((await publish(queue, v1Message(signedOld, signedOld, rotating))).code).toBeUndefined();
    const signedNew = draft();
    expect((await publish(queue, v1Message(signedNew, signedNew, fresh))).code).toBeUndefined();
  });
});

describe('signed batches and keys', () => {
  it('batch with a replay and a bad signature is rejected whole', async () => {
    const nonce = randomUUID();
    const first = draft({ nonce });
    const second = draft({ nonce });
    const broken = { ...v1Message(draft()), signature: { ...v1Message(draft()).signature, value: 'v1=AAAA' } };
    const result = await evq.gql('mutation ($queue: String!, $messages: [PublishInput!]!) { publishBatch(queue: $queue, messages: $messages) { id } }', {
      queue,
      messages: [v1Message(first), v1Message(second), broken],
    });
    expect(result.errors?.[0]?.extensions?.code).toBe('SIGNATURE_INVALID');
    expect(await storedIds(queue)).not.toContain(first.id);
    // The server is still up, and the nonce of the rejected batch was never claimed.
    expect((await publish(queue, v1Message(first))).code).toBeUndefined();
  });

  it('queue key without PUBLISH cannot sign', async () => {
    const consumeOnly = await evq.gql('mutation ($queue: String!) { createQueueKey(queue: $queue, actions: [CONSUME]) { id secret } }', { queue });
    const signed = draft();
    const result = await publish(queue, v1Message(signed, signed, consumeOnly.data!.createQueueKey));
    expect(result.code).toBe('SIGNATURE_INVALID');
    expect(result.message).toContain('does not grant PUBLISH');
  });

  it('deleteQueue revokes its signing keys', async () => {
    const doomed = await evq.createQueue();
    const { publicKey } = generateKeyPairSync('ed25519');
    const registered = await evq.gql('mutation ($queue: String!, $publicKey: String!) { registerSigningKey(queue: $queue, publicKey: $publicKey) { id } }', {
      queue: doomed,
      publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    });
    await evq.gql('mutation ($name: String!) { deleteQueue(name: $name) }', { name: doomed });
    await evq.gql('mutation ($name: String!) { createQueue(input: { name: $name }) { name } }', { name: doomed });

    const keys = await evq.gql('query ($queue: String!) { signingKeys(queue: $queue) { id revokedAt } }', { queue: doomed });
    expect(keys.data!.signingKeys).toHaveLength(1);
    expect(keys.data!.signingKeys[0].id).toBe(registered.data!.registerSigningKey.id);
    expect(keys.data!.signingKeys[0].revokedAt).not.toBeNull();
  });
});

describe('signed message input', () => {
  it('without an id is BAD_USER_INPUT', async () => {
    const { id: _id, ...message } = v1Message(draft());
    const result = await publish(queue, message);
    expect(result.code).toBe('BAD_USER_INPUT');
    expect(result.message).toBe('Missing id: a signed message needs an id, because its signature covers the id.');
  });
});

describe('requireSignature queue', () => {
  it('rejects an unsigned message and stores a signed one', async () => {
    const strict = await evq.createQueue({ requireSignature: true });
    const strictKey = await createQueueKey(strict);

    const unsigned = await publish(strict, { data: { n: 1 } });
    expect(unsigned.code).toBe('SIGNATURE_INVALID');
    expect(unsigned.message).toBe(`Signature rejected: queue "${strict}" requires signed messages.`);

    const signed = draft({ queue: strict });
    const result = await publish(strict, v1Message(signed, signed, strictKey));
    expect(result.code).toBeUndefined();
    expect(await storedIds(strict)).toEqual([signed.id]);
  });
});

describe('dedup window shorter than the signature window', () => {
  it('verbatim retry after the dedup window is still a duplicate', async () => {
    const short = await startEvq({ EVQ_DEDUP_WINDOW_SECONDS: '1' });
    try {
      const name = await short.createQueue();
      const created = await short.gql('mutation ($queue: String!) { createQueueKey(queue: $queue, actions: [PUBLISH]) { id secret } }', { queue: name });
      const shortKey = created.data!.createQueueKey as { id: string; secret: string };
      const signed = draft({ queue: name });
      const message = v1Message(signed, signed, shortKey);

      const first = await short.gql(publishMutation, { queue: name, message });
      expect(first.data!.publish.duplicate).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const retry = await short.gql(publishMutation, { queue: name, message });
      expect(retry.errors).toBeUndefined();
      expect(retry.data!.publish.duplicate).toBe(true);
    } finally {
      await short.close();
    }
  });
});
