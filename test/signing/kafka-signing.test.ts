import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Producer, ProduceAcks, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMessage } from '../../src/engines/kafka/message-codec.ts';
import type { EvqServer } from '../../src/server.ts';
import { canonicalString } from '../../src/signing/canonical.ts';
import { signV1 } from '../../src/signing/signatures.ts';
import { adminToken } from '../helpers/evq.ts';
import { gqlAt, startKafkaEvq } from '../helpers/kafka-evq.ts';
import { deleteKafkaResources, kafkaBrokers } from '../helpers/kafka.ts';

const topicPrefix = `evq-signing-${randomUUID().slice(0, 8)}.`;
const servers: EvqServer[] = [];
let first: EvqServer;
let second: EvqServer;
let queue: string;
let key: { id: string; secret: string };

async function startInstance(instanceId: string): Promise<EvqServer> {
  const server = await startKafkaEvq(topicPrefix, instanceId);
  servers.push(server);
  return server;
}


/** Publishes a message signed with the queue key, with the given nonce, at `server`. */
async function publishSigned(server: EvqServer, nonce: string) {
  const id = `m-${randomUUID()}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const data = { id };
  const value = signV1(key.secret, canonicalString({ queue, id, timestamp, nonce, data }));
  const result = await gqlAt(server, 'mutation ($queue: String!, $message: PublishInput!) { publish(queue: $queue, message: $message) { id } }', {
    queue,
    message: { id, data, signature: { keyId: key.id, timestamp, nonce, value } },
  });
  return { id, code: result.errors?.[0]?.extensions?.code };
}

async function polledIds(server: EvqServer): Promise<string[]> {
  const result = await gqlAt(server, 'query ($queue: String!) { poll(queue: $queue, limit: 1000) { messages { id } } }', { queue });
  return result.data.poll.messages.map((message: { id: string }) => message.id);
}

describe.skipIf(kafkaBrokers.length === 0)('signatures across Kafka instances', () => {
  beforeAll(async () => {
    first = await startInstance('signing-a');
    second = await startInstance('signing-b');
    queue = `test-${randomUUID()}`;
    expect((await gqlAt(first, 'mutation ($name: String!) { createQueue(input: { name: $name }) { name } }', { name: queue })).errors).toBeUndefined();
    const created = await gqlAt(first, 'mutation ($queue: String!) { createQueueKey(queue: $queue, actions: [PUBLISH]) { id secret } }', { queue });
    key = created.data.createQueueKey;
    // Wait until the second instance has read the queue and the key.
    for (let attempt = 0; attempt < 100; attempt++) {
      const seen = await gqlAt(second, 'query ($queue: String!) { queueKeys(queue: $queue) { id } }', { queue });
      if (seen.data?.queueKeys?.length === 1) break;
      await sleep(20);
    }
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    if (kafkaBrokers.length > 0) await deleteKafkaResources(kafkaBrokers, topicPrefix);
  });

  it('both instances publish the same evq keys', async () => {
    const [a, b] = await Promise.all([first, second].map(async (server) => (await fetch(`${server.url}/.well-known/jwks.json`)).json()));
    expect(b).toEqual(a);
    expect((a as { keys: unknown[] }).keys).toHaveLength(2);
  });

  it('nonce reused at another instance is REPLAYED', async () => {
    const nonce = randomUUID();
    const accepted = await publishSigned(first, nonce);
    expect(accepted.code).toBeUndefined();

    const replayed = await publishSigned(second, nonce);
    expect(replayed.code).toBe('REPLAYED');
    expect(await polledIds(second)).not.toContain(replayed.id);
  });

  it('one nonce raced at two instances is stored once', async () => {
    for (let round = 0; round < 5; round++) {
      const nonce = randomUUID();
      const results = await Promise.all([publishSigned(first, nonce), publishSigned(second, nonce)]);
      expect(results.map((result) => result.code ?? 'OK').sort()).toEqual(['OK', 'REPLAYED']);
      const stored = await polledIds(first);
      expect(results.filter((result) => stored.includes(result.id))).toHaveLength(1);
    }
  });

  it('record written straight into the topic is quarantined', async () => {
    const producer = new Producer({ clientId: 'evq-test-forger', bootstrapBrokers: kafkaBrokers, serializers: stringSerializers, acks: ProduceAcks.ALL });
    const forgedId = `forged-${randomUUID()}`;
    try {
      const record = encodeMessage(
        `${topicPrefix}${queue}`,
        0,
        { id: forgedId, key: null, headers: {}, data: JSON.stringify({ forged: true }), producer: 'admin', deliverAt: null },
        Date.now(),
      );
      await producer.send({ messages: [record] });
    } finally {
      await producer.close();
    }
    const legit = await publishSigned(first, randomUUID());

    const polled = await polledIds(second);
    expect(polled).toContain(legit.id);
    expect(polled).not.toContain(forgedId);
    const received = await fetch(`${second.url}/queue/receive`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ queue, limit: 100 }),
    });
    const deliveries = ((await received.json()) as { deliveries: Array<{ message: { id: string } }> }).deliveries;
    expect(deliveries.map((delivery) => delivery.message.id)).not.toContain(forgedId);

    let quarantined: Array<{ reason: string; message: { id: string } }> = [];
    for (let attempt = 0; attempt < 50 && quarantined.length === 0; attempt++) {
      quarantined = (await gqlAt(first, 'query ($queue: String!) { quarantine(queue: $queue) { reason message { id } } }', { queue })).data.quarantine;
      if (quarantined.length === 0) await sleep(20);
    }
    expect(quarantined).toEqual([{ reason: 'the record has no evq signature', message: { id: forgedId } }]);
    const metrics = await (await fetch(`${second.url}/metrics`)).text();
    expect(metrics).toContain(`evq_messages_quarantined_total{queue="${queue}"} 1`);
  });
});
