import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startEvq, type TestEvq } from '../helpers/evq.ts';
import { startIdentityProvider, type IdentityProvider } from '../helpers/identity-provider.ts';

let evq: TestEvq;
let idp: IdentityProvider;
let queue: string;

const messagesSubscription = 'subscription ($queue: String!) { messages(queue: $queue) { id data } }';

beforeAll(async () => {
  idp = await startIdentityProvider();
  evq = await startEvq(idp.env());
  queue = await evq.createQueue();
});

afterAll(async () => {
  await evq?.close();
  await idp?.close();
});

interface CloseEvent {
  code: number;
  reason: string;
}

/**
 * Opens a graphql-ws client with `token`, starts a messages subscription and resolves once the
 * subscription delivered a message, so it is known to be open. `closed` settles with the close event.
 */
async function openSubscription(token: string, subscribedQueue = queue) {
  const client = createClient({
    url: `${evq.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  const closed = new Promise<CloseEvent>((resolve) => client.on('closed', (event) => resolve(event as CloseEvent)));
  const iterator = client.iterate({ query: messagesSubscription, variables: { queue: subscribedQueue } });
  const first = iterator.next();
  // The subscription starts at LATEST, so publish until the first message arrives.
  const marker = randomUUID();
  const publishing = setInterval(() => void evq.rest('/queue/publish', { queue: subscribedQueue, data: { marker } }), 50);
  try {
    const result = await first;
    expect(result.done).toBe(false);
  } finally {
    clearInterval(publishing);
  }
  return { client, closed, iterator };
}

/** Connects to the server at `baseUrl` with `token`, tries one subscription and returns the close event. */
async function connectOnly(token: string, baseUrl = evq.url): Promise<CloseEvent> {
  const client = createClient({
    url: `${baseUrl.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  const closed = new Promise<CloseEvent>((resolve) => client.on('closed', (event) => resolve(event as CloseEvent)));
  await client.iterate({ query: messagesSubscription, variables: { queue } }).next().catch(() => undefined);
  const event = await closed;
  await client.dispose();
  return event;
}

function consumerGrants(queueName = queue) {
  return { grants: [{ queue: queueName, actions: ['CONSUME'] }] };
}

describe('graphql-ws sessions', () => {
  it('invalid token is closed with 4401', async () => {
    const event = await connectOnly('not-a-valid-token');
    expect(event.code).toBe(4401);
    expect(event.reason).toBe('Unauthorized: Authentication failed: the bearer token is not valid.');
  });

  it('expired token is closed with 4403', async () => {
    const token = await idp.sign('carol', { claims: { evq: consumerGrants() }, expiresIn: -5 });
    const event = await connectOnly(token);
    expect(event.code).toBe(4403);
    expect(event.reason).toMatch(/^Forbidden: Authentication failed: the token expired/);
  });

  it('token expiring while open closes with 4403', async () => {
    const token = await idp.sign('carol', { claims: { evq: consumerGrants() }, expiresIn: 2 });
    const { closed, client } = await openSubscription(token);
    const event = await closed;
    expect(event.code).toBe(4403);
    expect(event.reason).toBe('Forbidden: the credential expired');
    await client.dispose();
  });

  it('revoked queue key closes its socket within a second', async () => {
    const created = await evq.gql(
      'mutation ($queue: String!) { createQueueKey(queue: $queue, actions: [CONSUME]) { id secret } }',
      { queue },
    );
    const key = created.data!.createQueueKey as { id: string; secret: string };
    const { closed, client } = await openSubscription(key.secret);

    const revokedAt = performance.now();
    const revoked = await evq.gql('mutation ($id: String!) { revokeQueueKey(id: $id) }', { id: key.id });
    expect(revoked.data!.revokeQueueKey).toBe(true);
    const event = await Promise.race([closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 1000))]);
    expect(event, `socket still open ${Math.round(performance.now() - revokedAt)} ms after revokeQueueKey`).not.toBeNull();
    expect(event!.code).toBe(4403);
    expect(event!.reason).toBe('Forbidden: Authentication failed: the queue key was revoked.');
    await client.dispose();
  });

  it('deleted service account closes its socket within a second', async () => {
    const created = await evq.gql(
      'mutation ($grants: [GrantInput!]!) { createServiceAccount(name: "ws-consumer", grants: $grants) { id apiKey } }',
      { grants: consumerGrants().grants },
    );
    const account = created.data!.createServiceAccount as { id: string; apiKey: string };
    const { closed, client } = await openSubscription(account.apiKey);

    await evq.gql('mutation ($id: String!) { deleteServiceAccount(id: $id) }', { id: account.id });
    const event = await Promise.race([closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 1000))]);
    expect(event).not.toBeNull();
    expect(event!.code).toBe(4403);
    await client.dispose();
  });

  it('each subscribe checks the grants again', async () => {
    const other = await evq.createQueue();
    const token = await idp.sign('dave', { claims: { evq: consumerGrants() } });
    const { client } = await openSubscription(token);

    const denied = client.iterate({ query: messagesSubscription, variables: { queue: other } });
    const result = await denied.next();
    expect((result.value as { errors?: Array<{ extensions?: { code?: string } }> }).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await client.dispose();
  });
});

describe('identity provider unreachable', () => {
  it('socket closes with 1013 and HTTP gets INTERNAL', async () => {
    // Nothing listens on the discard port of loopback, so fetching the JWKS fails.
    const unreachable = await startEvq({ ...idp.env(), EVQ_AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks.json' });
    try {
      const token = await idp.sign('grace', { claims: { evq: consumerGrants() } });
      const http = await unreachable.gql('{ me { id } }', {}, token);
      expect(http.errors?.[0]?.extensions?.code).toBe('INTERNAL');

      const event = await connectOnly(token, unreachable.url);
      expect(event.code).toBe(1013);
      expect(event.reason).toContain("Could not fetch the identity provider's JWKS");
    } finally {
      await unreachable.close();
    }
  });
});

describe('REST sessions', () => {
  it('long-poll ends when its queue key is revoked', async () => {
    const polled = await evq.createQueue();
    const created = await evq.gql('mutation ($queue: String!) { createQueueKey(queue: $queue, actions: [CONSUME]) { id secret } }', { queue: polled });
    const key = created.data!.createQueueKey as { id: string; secret: string };

    const started = Date.now();
    const receiving = evq.rest('/queue/receive', { queue: polled, waitSeconds: 5 }, key.secret);
    await sleep(300);
    await evq.gql('mutation ($id: String!) { revokeQueueKey(id: $id) }', { id: key.id });
    await sleep(1200);
    await evq.rest('/queue/publish', { queue: polled, data: { late: true } });

    const response = await receiving;
    expect(response.status).toBe(200);
    expect(response.body.deliveries).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('SSE sessions', () => {
  it('stream ends when the token expires', async () => {
    const token = await idp.sign('frank', { claims: { evq: consumerGrants() }, expiresIn: 2 });
    const response = await fetch(`${evq.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: messagesSubscription, variables: { queue } }),
    });
    expect(response.status).toBe(200);

    const started = Date.now();
    const reader = response.body!.getReader();
    const ended = (async () => {
      while (!(await reader.read()).done) {
        // Keep-alive pings and messages are read and dropped until the server ends the stream.
      }
      return Date.now() - started;
    })();
    const elapsed = await Promise.race([ended, sleep(6000).then(() => null)]);
    expect(elapsed, 'the SSE stream was still open 6 s after its 2 s token was issued').not.toBeNull();
    await reader.cancel().catch(() => undefined);
  });

  it('stream ends when its queue key is revoked', async () => {
    const created = await evq.gql('mutation ($queue: String!) { createQueueKey(queue: $queue, actions: [CONSUME]) { id secret } }', { queue });
    const key = created.data!.createQueueKey as { id: string; secret: string };
    const response = await fetch(`${evq.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key.secret}` },
      body: JSON.stringify({ query: messagesSubscription, variables: { queue } }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const ended = (async () => {
      while (!(await reader.read()).done) {
        // Pings and messages are dropped until the server ends the stream.
      }
      return true;
    })();

    // The stream must stay open while the key is valid.
    expect(await Promise.race([ended, sleep(500).then(() => false)])).toBe(false);
    await evq.gql('mutation ($id: String!) { revokeQueueKey(id: $id) }', { id: key.id });
    expect(await Promise.race([ended, sleep(1000).then(() => false)])).toBe(true);
    await reader.cancel().catch(() => undefined);
  });
});
