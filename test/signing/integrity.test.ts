import { createPublicKey, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageCanonicalString } from '../../src/signing/canonical.ts';
import { verifyStorageSignature } from '../../src/signing/merkle.ts';
import { collect, startEvq, type TestEvq } from '../helpers/evq.ts';

let evq: TestEvq;

beforeAll(async () => {
  evq = await startEvq();
});

afterAll(async () => {
  await evq?.close();
});

const pollQuery = `query ($queue: String!) {
  poll(queue: $queue, limit: 100) {
    messages { id queue key headers deliverAt data producer signature { keyId timestamp nonce value proof } }
  }
}`;

interface Jwk {
  kty: string;
  crv: string;
  x: string;
  kid: string;
}

async function jwks(): Promise<Jwk[]> {
  const response = await fetch(`${evq.url}/.well-known/jwks.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/jwk-set+json');
  return ((await response.json()) as { keys: Jwk[] }).keys;
}

/** Verifies a polled message's evq signature with the JWKS, as a consumer would. */
async function verifiesWithJwks(message: {
  id: string;
  queue: string;
  data: unknown;
  producer: string | null;
  key: string | null;
  headers: Record<string, string>;
  deliverAt: string | null;
  signature: { keyId: string; timestamp: number; value: string; proof: string | null };
}) {
  const jwk = (await jwks()).find((key) => key.kid === message.signature.keyId);
  if (!jwk) return false;
  const publicKey = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
  const canonical = storageCanonicalString(
    { queue: message.queue, id: message.id, timestamp: message.signature.timestamp, data: message.data },
    {
      producer: message.producer,
      key: message.key,
      headers: message.headers,
      deliverAt: message.deliverAt === null ? null : Date.parse(message.deliverAt),
    },
  );
  return verifyStorageSignature(publicKey, canonical, message.signature.value, message.signature.proof);
}

/**
 * Writes a message row straight into the SQLite database, as someone with access to the file
 * could, with `headers` as its stored headers. Returns the id.
 */
function writeDirectly(queue: string, headers: Record<string, string>, data: unknown = { forged: true }): string {
  const database = new DatabaseSync(join(evq.dataDir, 'evq.db'));
  try {
    const id = `forged-${randomUUID()}`;
    const { queue_id: queueId } = database.prepare('SELECT queue_id FROM queues WHERE name = ?').get(queue) as { queue_id: number };
    const { next_offset: offset } = database.prepare('SELECT next_offset FROM partitions WHERE queue_id = ? AND partition = 0').get(queueId) as {
      next_offset: number;
    };
    database
      .prepare(
        `INSERT INTO messages (queue_id, partition, offset, message_id, key, headers, data, producer, published_at, deliver_at)
         VALUES (?, 0, ?, ?, NULL, ?, ?, 'admin', ?, NULL)`,
      )
      .run(queueId, offset, id, JSON.stringify(headers), JSON.stringify(data), Date.now());
    database.prepare('UPDATE partitions SET next_offset = ? WHERE queue_id = ? AND partition = 0').run(offset + 1, queueId);
    return id;
  } finally {
    database.close();
  }
}

async function publish(queue: string, data: unknown): Promise<string> {
  const result = await evq.rest('/queue/publish', { queue, data });
  expect(result.status).toBe(200);
  return result.body.id;
}

describe('evq storage signature', () => {
  it('verifies with the JWKS', async () => {
    const queue = await evq.createQueue();
    await publish(queue, { amount: 42, text: 'Zoë ☕' });
    const polled = await evq.gql(pollQuery, { queue });
    const [message] = polled.data!.poll.messages;

    expect(message.signature.nonce).toBe('');
    expect(message.signature.value).toMatch(/^v1m=[A-Za-z0-9+/]{86}==$/);
    expect(message.signature.proof).toBe('0:1:');
    expect(await verifiesWithJwks(message)).toBe(true);
    expect(await verifiesWithJwks({ ...message, data: { amount: 43, text: 'Zoë ☕' } })).toBe(false);
  });

  it('messages sealed together share one signed root', async () => {
    const queue = await evq.createQueue();
    const batch = await evq.gql('mutation ($queue: String!, $messages: [PublishInput!]!) { publishBatch(queue: $queue, messages: $messages) { id } }', {
      queue,
      messages: Array.from({ length: 5 }, (_, index) => ({ data: { index } })),
    });
    expect(batch.errors).toBeUndefined();
    const messages = (await evq.gql(pollQuery, { queue })).data!.poll.messages;

    expect(new Set(messages.map((message: { signature: { value: string } }) => message.signature.value)).size).toBe(1);
    expect(messages.map((message: { signature: { proof: string } }) => message.signature.proof.split(':').slice(0, 2).join(':'))).toEqual([
      '0:5',
      '1:5',
      '2:5',
      '3:5',
      '4:5',
    ]);
    for (const message of messages) expect(await verifiesWithJwks(message)).toBe(true);
    expect(await verifiesWithJwks({ ...messages[0], signature: { ...messages[0].signature, proof: messages[1].signature.proof } })).toBe(false);
  });

  it('hides evq headers and rejects them from producers', async () => {
    const queue = await evq.createQueue();
    await evq.rest('/queue/publish', { queue, data: 1, headers: { source: 'test' } });
    const polled = await evq.gql('query ($queue: String!) { poll(queue: $queue) { messages { headers } } }', { queue });
    expect(polled.data!.poll.messages[0].headers).toEqual({ source: 'test' });

    const forged = await evq.rest('/queue/publish', { queue, data: 1, headers: { 'evq-signature': 'v1a=AAAA' } });
    expect(forged.status).toBe(400);
    expect(forged.body.error.details).toEqual({ field: 'headers', value: 'evq-signature' });
  });

  it('JWKS lists the current and next keys, and rotation keeps old messages valid', async () => {
    const before = await jwks();
    expect(before.length).toBeGreaterThanOrEqual(2);
    const [current, next] = before;

    const queue = await evq.createQueue();
    await publish(queue, { before: true });
    const rotated = await evq.gql('mutation { rotateEvqSigningKey }');
    expect(rotated.data!.rotateEvqSigningKey).toBe(next!.kid);
    await publish(queue, { after: true });

    const after = await jwks();
    expect(after[0]!.kid).toBe(next!.kid);
    expect(after.map((key) => key.kid)).toContain(current!.kid);
    const messages = (await evq.gql(pollQuery, { queue })).data!.poll.messages;
    expect(messages.map((message: { signature: { keyId: string } }) => message.signature.keyId)).toEqual([current!.kid, next!.kid]);
    for (const message of messages) expect(await verifiesWithJwks(message)).toBe(true);
  });
});

describe('stored fields changed in SQLite', () => {
  it.each([
    ['key', 'UPDATE messages SET key = ? WHERE message_id = ?', 'user-alice'],
    ['headers', 'UPDATE messages SET headers = ? WHERE message_id = ?', null],
    ['deliverAt', 'UPDATE messages SET deliver_at = ? WHERE message_id = ?', 1],
  ])('%s change is quarantined', async (field, sql, value) => {
    const queue = await evq.createQueue();
    const published = await evq.rest('/queue/publish', { queue, key: 'user-bob', headers: { source: 'bob' }, data: { secret: 'for bob' } });
    const id = published.body.id as string;
    const database = new DatabaseSync(join(evq.dataDir, 'evq.db'));
    try {
      const stored = (database.prepare('SELECT headers FROM messages WHERE message_id = ?').get(id) as { headers: string }).headers;
      const changedHeaders = JSON.stringify({ ...JSON.parse(stored), source: 'alice' });
      database.prepare(sql).run(field === 'headers' ? changedHeaders : value, id);
    } finally {
      database.close();
    }

    expect((await evq.gql(pollQuery, { queue })).data!.poll.messages).toEqual([]);
    const quarantine = await evq.gql('query ($queue: String!) { quarantine(queue: $queue) { reason message { id } } }', { queue });
    expect(quarantine.data!.quarantine).toEqual([{ reason: 'the record does not match its evq signature', message: { id } }]);
  });
});

describe('dead letter changed in SQLite', () => {
  it('is quarantined and not listed', async () => {
    const queue = await evq.createQueue({ maxAttempts: 1 });
    const kept = await publish(queue, { n: 1 });
    const changed = await publish(queue, { amount: 1 });
    for (const receipt of (await evq.rest('/queue/receive', { queue, limit: 10 })).body.deliveries.map((d: { receipt: string }) => d.receipt)) {
      await evq.rest('/queue/nack', { queue, receipt });
    }
    const database = new DatabaseSync(join(evq.dataDir, 'evq.db'));
    try {
      database.prepare('UPDATE dead_letters SET data = ? WHERE message_id = ?').run(JSON.stringify({ amount: 1_000_000 }), changed);
    } finally {
      database.close();
    }

    const listed = await evq.gql('query ($queue: String!) { deadLetters(queue: $queue) { message { id } } }', { queue });
    expect(listed.data!.deadLetters.map((entry: { message: { id: string } }) => entry.message.id)).toEqual([kept]);
    const quarantine = await evq.gql('query ($queue: String!) { quarantine(queue: $queue) { reason message { id } } }', { queue });
    expect(quarantine.data!.quarantine).toEqual([{ reason: 'the record does not match its evq signature', message: { id: changed } }]);
  });
});

describe('record written straight into SQLite', () => {
  it.each([
    ['without a signature', () => ({})],
    ['with a copied signature', () => null],
  ])('%s is quarantined and never delivered', async (_case, headersOf) => {
    const queue = await evq.createQueue();
    const good = await publish(queue, { n: 1 });
    const stored = (await evq.gql(pollQuery.replace('signature {', 'headers signature {'), { queue })).data!.poll.messages[0];
    // A copied signature belongs to another message, so it must not vouch for the forged one.
    const copiedHeaders = {
      'evq-key-id': stored.signature.keyId,
      'evq-timestamp': String(stored.signature.timestamp),
      'evq-signature': stored.signature.value,
      'evq-proof': stored.signature.proof,
    };
    const forged = writeDirectly(queue, headersOf() ?? copiedHeaders);

    const subscriber = evq.wsClient();
    const streamed = collect<{ messages: { id: string } }>(
      subscriber,
      'subscription ($queue: String!) { messages(queue: $queue, from: EARLIEST) { id } }',
      { queue },
      2,
    );
    const later = await publish(queue, { n: 2 });

    expect((await streamed).map((event) => event.messages.id)).toEqual([good, later]);
    const polled = (await evq.gql(pollQuery, { queue })).data!.poll.messages.map((message: { id: string }) => message.id);
    expect(polled).toEqual([good, later]);
    const received = await evq.rest('/queue/receive', { queue, limit: 10 });
    expect(received.body.deliveries.map((delivery: { message: { id: string } }) => delivery.message.id)).toEqual([good, later]);

    const quarantine = await evq.gql('query ($queue: String!) { quarantine(queue: $queue) { offset reason message { id } } }', { queue });
    expect(quarantine.data!.quarantine).toEqual([
      {
        offset: 1,
        reason: headersOf() === null ? 'the record does not match its evq signature' : 'the record has no evq signature',
        message: { id: forged },
      },
    ]);
    const metrics = await (await fetch(`${evq.url}/metrics`)).text();
    expect(metrics).toContain(`evq_messages_quarantined_total{queue="${queue}"} 1`);
  });
});
