import { createHmac, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEvq, type TestEvq } from '../helpers/evq.ts';
import { audience, issuer, startIdentityProvider, type IdentityProvider } from '../helpers/identity-provider.ts';

let evq: TestEvq;
let idp: IdentityProvider;
/** Queue that users may publish to. */
let orders: string;
/** Queue that no user grant names. */
let payments: string;
/** Queue where each user reads only the messages keyed `user-<sub>`. */
let notifications: string;

const userGrants = () => ({
  grants: [
    { queue: orders, actions: ['PUBLISH'] },
    { queue: notifications, actions: ['CONSUME'], key: 'user-${sub}' },
  ],
});

const messagesSubscription = 'subscription ($queue: String!, $key: String) { messages(queue: $queue, key: $key, from: EARLIEST) { id key data } }';
const receiveMutation = 'mutation ($queue: String!) { receive(queue: $queue, waitSeconds: 0) { receipt message { id } } }';

beforeAll(async () => {
  idp = await startIdentityProvider();
  evq = await startEvq(idp.env());
  orders = await evq.createQueue();
  payments = await evq.createQueue();
  notifications = await evq.createQueue();
});

afterAll(async () => {
  await evq?.close();
  await idp?.close();
});

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: issuer, aud: audience, sub: 'alice', iat: now, exp: now + 300, evq: userGrants(), ...extra };
}

/** Publishes one message over REST with `token` and returns the status, the code and the message's marker. */
async function publishWith(token: string | null, queue = orders, key?: string) {
  const marker = randomUUID();
  const response = await evq.rest('/queue/publish', { queue, data: { marker }, ...(key ? { key } : {}) }, token);
  return {
    status: response.status,
    code: response.body.error?.code as string | undefined,
    message: response.body.error?.message as string | undefined,
    marker,
  };
}

/** Returns the markers of every message stored in a queue, read with the admin token. */
async function storedMarkers(queue: string): Promise<string[]> {
  const polled = await evq.gql('query ($queue: String!) { poll(queue: $queue, limit: 1000) { messages { data } } }', { queue });
  return polled.data!.poll.messages.map((message: { data: { marker: string } }) => message.data.marker);
}

async function createQueueKey(queue: string, actions: string[]) {
  const result = await evq.gql(
    'mutation ($queue: String!, $actions: [QueueAction!]!) { createQueueKey(queue: $queue, actions: $actions) { id secret } }',
    { queue, actions },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.createQueueKey as { id: string; secret: string };
}

async function createServiceAccount(grants: unknown[]) {
  const result = await evq.gql(
    'mutation ($name: String!, $grants: [GrantInput!]!) { createServiceAccount(name: $name, grants: $grants) { id apiKey } }',
    { name: `svc-${randomUUID().slice(0, 8)}`, grants },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.createServiceAccount as { id: string; apiKey: string };
}

/** Starts a messages subscription with `token` and returns its first result or error within 3 s. */
async function firstEvent(token: string, queue: string, key: string | null) {
  const client = evq.wsClient(token);
  const iterator = client.iterate({ query: messagesSubscription, variables: { queue, key } });
  const timeout = sleep(3000).then(() => ({ timedOut: true }) as const);
  const next = iterator.next().then(
    (result) => ({ result: result.value as { data?: any; errors?: Array<{ extensions?: { code?: string } }> } }),
    (error: unknown) => ({ error }),
  );
  const outcome = await Promise.race([next, timeout]);
  await iterator.return?.();
  return outcome;
}

/** The reason each credential row is rejected for, so a row cannot pass by failing for another reason. */
const rejectionReasons: Record<string, string> = {
  'no token': 'missing bearer token',
  'malformed token': 'not a well-formed JWT',
  'alg none': "the token's algorithm is not allowed; accepted: RS256, EdDSA",
  'HS256 signed with the public key as secret': "the token's algorithm is not allowed",
  'wrong iss': "the token's iss claim is invalid",
  'wrong aud': "the token's aud claim is invalid",
  expired: 'the token expired',
  'not yet valid': "the token's nbf claim is invalid",
  'unknown kid': "no key in the JWKS matches the token's kid",
  'revoked queue key': 'the queue key was revoked',
  'rotated key after its grace period': 'replaced by a rotation and its grace period ended',
  'evq claim that is not an object': "the token's evq claim is invalid: Invalid evq: \"admin\"; expected an object { grants, roles }",
  'evq roles that are not a list': "the token's evq claim is invalid: Invalid evq.roles: \"support\"; expected a list of role names",
};

describe('security table: rejected attempts', () => {
  const rejectedMarkers: string[] = [];

  it.each([
    ['no token', async () => null],
    ['malformed token', async () => 'abc.def.ghi'],
    ['alg none', async () => `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims())}.`],
    [
      'HS256 signed with the public key as secret',
      async () => {
        const unsigned = `${base64url({ alg: 'HS256', typ: 'JWT', kid: 'rsa-1' })}.${base64url(claims())}`;
        return `${unsigned}.${createHmac('sha256', idp.rsaPublicKeyPem).update(unsigned).digest('base64url')}`;
      },
    ],
    ['wrong iss', async () => idp.sign('alice', { claims: { evq: userGrants(), iss: 'https://other.test.invalid' } })],
    ['wrong aud', async () => idp.sign('alice', { claims: { evq: userGrants(), aud: 'another-app' } })],
    ['expired', async () => idp.sign('alice', { claims: { evq: userGrants() }, expiresIn: -10 })],
    ['not yet valid', async () => idp.sign('alice', { claims: { evq: userGrants(), nbf: Math.floor(Date.now() / 1000) + 120 } })],
    ['unknown kid', async () => idp.sign('alice', { claims: { evq: userGrants() }, key: 'unlisted-rsa' })],
    ['evq claim that is not an object', async () => idp.sign('alice', { claims: { evq: 'admin' } })],
    ['evq roles that are not a list', async () => idp.sign('alice', { claims: { evq: { ...userGrants(), roles: 'support' } } })],
    [
      'revoked queue key',
      async () => {
        const key = await createQueueKey(orders, ['PUBLISH']);
        const revoked = await evq.gql('mutation ($id: String!) { revokeQueueKey(id: $id) }', { id: key.id });
        expect(revoked.data!.revokeQueueKey).toBe(true);
        return key.secret;
      },
    ],
    [
      'rotated key after its grace period',
      async () => {
        const key = await createQueueKey(orders, ['PUBLISH']);
        const rotated = await evq.gql('mutation ($id: String!) { rotateQueueKey(id: $id, graceSeconds: 1) { secret } }', { id: key.id });
        expect(rotated.errors).toBeUndefined();
        await sleep(1100);
        return key.secret;
      },
    ],
  ])('%s is UNAUTHENTICATED', async (attempt, credential) => {
    const token = await credential();
    const result = await publishWith(token);
    rejectedMarkers.push(result.marker);
    expect(result.status).toBe(401);
    expect(result.code).toBe('UNAUTHENTICATED');
    expect(result.message).toContain(rejectionReasons[attempt]);
  });

  it('user publishing outside its grants is FORBIDDEN', async () => {
    const token = await idp.sign('alice', { claims: { evq: userGrants() } });
    const result = await publishWith(token, payments);
    expect(result.status).toBe(403);
    expect(result.code).toBe('FORBIDDEN');
    expect(await storedMarkers(payments)).not.toContain(result.marker);
  });

  it('user subscribing with a key outside its template is FORBIDDEN', async () => {
    await evq.rest('/queue/publish', { queue: notifications, key: 'user-bob', data: { marker: 'for-bob' } });
    const token = await idp.sign('alice', { claims: { evq: userGrants() } });
    const outcome = await firstEvent(token, notifications, 'user-bob');
    expect(outcome).toHaveProperty('result');
    const { result } = outcome as { result: { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> } };
    expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(result.data ?? null).toBeNull();
  });

  it('user subscribing without a key under a template is FORBIDDEN', async () => {
    const token = await idp.sign('alice', { claims: { evq: userGrants() } });
    const outcome = (await firstEvent(token, notifications, null)) as { result: { errors?: Array<{ extensions?: { code?: string } }> } };
    expect(outcome.result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('service consuming a publish-only queue is FORBIDDEN', async () => {
    const queue = await evq.createQueue();
    await evq.rest('/queue/publish', { queue, data: { marker: 'task' } });
    const account = await createServiceAccount([{ queue, actions: ['PUBLISH'] }]);

    const rest = await evq.rest('/queue/receive', { queue }, account.apiKey);
    expect(rest.status).toBe(403);
    expect(rest.body.error.code).toBe('FORBIDDEN');
    const graphql = await evq.gql(receiveMutation, { queue }, account.apiKey);
    expect(graphql.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(graphql.data).toBeNull();

    const stats = await evq.gql('query ($queue: String!) { queue(name: $queue) { stats { ready inFlight } } }', { queue });
    expect(stats.data!.queue.stats).toEqual({ ready: 1, inFlight: 0 });
  });

  it('queue key of a deleted queue stays revoked', async () => {
    const queue = await evq.createQueue();
    const key = await createQueueKey(queue, ['PUBLISH']);
    await evq.gql('mutation ($name: String!) { deleteQueue(name: $name) }', { name: queue });
    const recreated = await evq.gql('mutation ($name: String!) { createQueue(input: { name: $name }) { name } }', { name: queue });
    expect(recreated.errors).toBeUndefined();

    const result = await publishWith(key.secret, queue);
    expect(result.status).toBe(401);
    expect(result.message).toContain('the queue key was revoked');
    expect(await storedMarkers(queue)).toEqual([]);
  });

  it('queue key used on another queue is FORBIDDEN', async () => {
    const key = await createQueueKey(orders, ['PUBLISH']);
    const result = await publishWith(key.secret, payments);
    expect(result.status).toBe(403);
    expect(result.code).toBe('FORBIDDEN');
    expect(await storedMarkers(payments)).not.toContain(result.marker);
  });

  it('stored nothing for any rejected publish', async () => {
    expect(rejectedMarkers).toHaveLength(13);
    const stored = await storedMarkers(orders);
    for (const marker of rejectedMarkers) expect(stored).not.toContain(marker);
  });
});

describe('security table: permitted counterparts', () => {
  it.each([
    ['RS256 user token from the JWKS', () => idp.sign('alice', { claims: { evq: userGrants() } })],
    ['EdDSA user token from the JWKS', () => idp.sign('alice', { claims: { evq: userGrants() }, key: 'ed25519' })],
    ['token with nbf in the past', () => idp.sign('alice', { claims: { evq: userGrants(), nbf: Math.floor(Date.now() / 1000) - 5 } })],
  ])('%s publishes to its queue', async (_case, token) => {
    const result = await publishWith(await token());
    expect(result.status).toBe(200);
    expect(await storedMarkers(orders)).toContain(result.marker);
  });

  it('queue key publishes until revoked', async () => {
    const key = await createQueueKey(orders, ['PUBLISH']);
    const before = await publishWith(key.secret);
    expect(before.status).toBe(200);
    await evq.gql('mutation ($id: String!) { revokeQueueKey(id: $id) }', { id: key.id });
    expect((await publishWith(key.secret)).status).toBe(401);
  });

  it('rotated key works in its grace period with both secrets', async () => {
    const key = await createQueueKey(orders, ['PUBLISH']);
    const rotated = await evq.gql('mutation ($id: String!) { rotateQueueKey(id: $id, graceSeconds: 60) { id secret } }', { id: key.id });
    const fresh = rotated.data!.rotateQueueKey as { id: string; secret: string };
    expect(fresh.id).toBe(key.id);
    expect(fresh.secret).not.toBe(key.secret);
    expect((await publishWith(key.secret)).status).toBe(200);
    expect((await publishWith(fresh.secret)).status).toBe(200);
  });

  it('user subscribing with its own key sees only its messages', async () => {
    await evq.rest('/queue/publish', { queue: notifications, key: 'user-alice', data: { marker: 'for-alice' } });
    const token = await idp.sign('alice', { claims: { evq: userGrants() } });
    const outcome = (await firstEvent(token, notifications, 'user-alice')) as { result: { data?: any; errors?: unknown } };
    expect(outcome.result.errors).toBeUndefined();
    expect(outcome.result.data.messages).toMatchObject({ key: 'user-alice', data: { marker: 'for-alice' } });
  });

  it('user publishes with a key matching its template', async () => {
    const token = await idp.sign('alice', {
      claims: { evq: { grants: [{ queue: notifications, actions: ['PUBLISH'], key: 'user-${sub}' }] } },
    });
    expect((await publishWith(token, notifications, 'user-alice')).status).toBe(200);
    const other = await publishWith(token, notifications, 'user-bob');
    expect(other.status).toBe(403);
    expect(other.code).toBe('FORBIDDEN');
  });

  it('service consumes a queue it may consume', async () => {
    const queue = await evq.createQueue();
    await evq.rest('/queue/publish', { queue, data: { marker: 'task' } });
    const account = await createServiceAccount([{ queue, actions: ['PUBLISH', 'CONSUME'] }]);
    const received = await evq.gql(receiveMutation, { queue }, account.apiKey);
    expect(received.errors).toBeUndefined();
    expect(received.data!.receive).toHaveLength(1);
  });

  it('queue key publishes to its own queue', async () => {
    const key = await createQueueKey(payments, ['PUBLISH']);
    const result = await publishWith(key.secret, payments);
    expect(result.status).toBe(200);
    expect(await storedMarkers(payments)).toContain(result.marker);
  });
});
