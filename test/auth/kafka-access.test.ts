import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { EvqServer } from '../../src/server.ts';
import { adminToken } from '../helpers/evq.ts';
import { gqlAt, startKafkaEvq } from '../helpers/kafka-evq.ts';
import { startIdentityProvider, type IdentityProvider } from '../helpers/identity-provider.ts';
import { deleteKafkaResources, kafkaBrokers } from '../helpers/kafka.ts';

const topicPrefix = `evq-access-${randomUUID().slice(0, 8)}.`;
/** A change made at one instance must be in force at the other within this time. */
const propagationLimitMs = 1000;

let idp: IdentityProvider;
const servers: EvqServer[] = [];
let first: EvqServer;
let second: EvqServer;
let queue: string;

async function startInstance(instanceId: string): Promise<EvqServer> {
  const server = await startKafkaEvq(topicPrefix, instanceId, idp.env());
  servers.push(server);
  return server;
}


async function publishStatus(server: EvqServer, token: string): Promise<number> {
  const response = await fetch(`${server.url}/queue/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ queue, data: { at: Date.now() } }),
  });
  await response.body?.cancel();
  return response.status;
}

/** Polls every 20 ms until `condition` is true and returns the elapsed ms; fails after the propagation limit. */
async function elapsedUntil(condition: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (!(await condition())) {
    const elapsed = performance.now() - started;
    if (elapsed > propagationLimitMs) throw new Error(`The change was not in force at the other instance after ${Math.round(elapsed)} ms.`);
    await sleep(20);
  }
  return performance.now() - started;
}

describe.skipIf(kafkaBrokers.length === 0)('access changes across Kafka instances', () => {
  beforeAll(async () => {
    idp = await startIdentityProvider();
    first = await startInstance('access-a');
    second = await startInstance('access-b');
    queue = `test-${randomUUID()}`;
    const created = await gqlAt(first, 'mutation ($name: String!) { createQueue(input: { name: $name }) { name } }', { name: queue });
    expect(created.errors).toBeUndefined();
    await elapsedUntil(async () => (await gqlAt(second, 'query ($name: String!) { queue(name: $name) { name } }', { name: queue })).data?.queue !== null);
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await idp?.close();
    if (kafkaBrokers.length > 0) await deleteKafkaResources(kafkaBrokers, topicPrefix);
  });

  it('service account created at one instance works at the other', async () => {
    const created = await gqlAt(
      first,
      'mutation ($grants: [GrantInput!]!) { createServiceAccount(name: "cross-instance", grants: $grants) { id apiKey } }',
      { grants: [{ queue, actions: ['PUBLISH'] }] },
    );
    const { id, apiKey } = created.data.createServiceAccount as { id: string; apiKey: string };
    await elapsedUntil(async () => (await publishStatus(second, apiKey)) === 200);

    await gqlAt(first, 'mutation ($id: String!) { deleteServiceAccount(id: $id) }', { id });
    await elapsedUntil(async () => (await publishStatus(second, apiKey)) === 401);
  });

  it('role grants set at one instance apply at the other', async () => {
    const role = `publisher-${randomUUID().slice(0, 8)}`;
    const token = await idp.sign('erin', { claims: { evq: { roles: [role] } } });
    expect(await publishStatus(second, token)).toBe(403);

    const set = await gqlAt(first, 'mutation ($role: String!, $grants: [GrantInput!]!) { setRoleGrants(role: $role, grants: $grants) { role } }', {
      role,
      grants: [{ queue, actions: ['PUBLISH'] }],
    });
    expect(set.errors).toBeUndefined();
    await elapsedUntil(async () => (await publishStatus(second, token)) === 200);
  });

  it('queue key revoked at one instance closes its socket at the other', async () => {
    const created = await gqlAt(first, 'mutation ($queue: String!) { createQueueKey(queue: $queue, actions: [PUBLISH, CONSUME]) { id secret } }', {
      queue,
    });
    const key = created.data.createQueueKey as { id: string; secret: string };
    await elapsedUntil(async () => (await publishStatus(second, key.secret)) === 200);

    const client = createClient({
      url: `${second.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key.secret}` },
      retryAttempts: 0,
    });
    const closed = new Promise<{ code: number }>((resolve) => client.on('closed', (event) => resolve(event as { code: number })));
    const iterator = client.iterate({ query: 'subscription ($queue: String!) { messages(queue: $queue) { id } }', variables: { queue } });
    const firstMessage = iterator.next();
    const publishing = setInterval(() => void publishStatus(first, adminToken), 50);
    await firstMessage.finally(() => clearInterval(publishing));

    await gqlAt(first, 'mutation ($id: String!) { revokeQueueKey(id: $id) }', { id: key.id });
    const event = await Promise.race([closed, sleep(propagationLimitMs).then(() => null)]);
    expect(event).not.toBeNull();
    expect(event!.code).toBe(4403);
    expect(await publishStatus(second, key.secret)).toBe(401);
    await client.dispose();
  });
});
