import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startEvq, type TestEvq } from '../helpers/evq.ts';
import { startIdentityProvider, type IdentityProvider } from '../helpers/identity-provider.ts';

const meQuery = '{ me { kind id subject roles expiresAt grants { queue actions key } } }';
const publishMutation = 'mutation ($queue: String!, $data: JSON!) { publish(queue: $queue, message: { data: $data }) { id } }';
const schemaQuery = '{ __schema { types { name } } }';

interface Grant {
  queue: string;
  actions: string[];
  key?: string | null;
}

/** Creates a service account with the admin token and returns its id and API key. */
async function createServiceAccount(evq: TestEvq, grants: Grant[]): Promise<{ id: string; apiKey: string }> {
  const result = await evq.gql(
    'mutation ($name: String!, $grants: [GrantInput!]!) { createServiceAccount(name: $name, grants: $grants) { id apiKey } }',
    { name: `svc-${randomUUID().slice(0, 8)}`, grants },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.createServiceAccount;
}

async function createQueueKey(evq: TestEvq, queue: string, actions: string[], expiresAt?: string) {
  const result = await evq.gql(
    'mutation ($queue: String!, $actions: [QueueAction!]!, $expiresAt: DateTime) { createQueueKey(queue: $queue, actions: $actions, expiresAt: $expiresAt) { id secret } }',
    { queue, actions, expiresAt },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.createQueueKey as { id: string; secret: string };
}

async function issueToken(evq: TestEvq, credential: string, ttlSeconds = 600) {
  return evq.gql('mutation ($ttl: Int!) { issueToken(ttlSeconds: $ttl) { token expiresAt } }', { ttl: ttlSeconds }, credential);
}

/** Returns the first error's code, failing when the response has no error. */
function firstCode(result: { errors?: Array<{ extensions?: Record<string, any> }> }): unknown {
  expect(result.errors).toBeDefined();
  return result.errors![0]!.extensions?.code;
}

describe('production mode', () => {
  let evq: TestEvq;
  let service: { id: string; apiKey: string };

  beforeAll(async () => {
    evq = await startEvq({ NODE_ENV: 'production' });
    const queue = await evq.createQueue();
    service = await createServiceAccount(evq, [{ queue, actions: ['PUBLISH', 'MANAGE'] }]);
  });

  afterAll(async () => {
    await evq?.close();
  });

  it('rejects __schema from a non-admin', async () => {
    const result = await evq.gql(schemaQuery, {}, service.apiKey);

    expect(result.data ?? null).toBeNull();
    expect(firstCode(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toBe('GraphQL introspection has been disabled, but the requested query contained the field "__schema".');
  });

  it('rejects __type from a non-admin', async () => {
    const result = await evq.gql('{ __type(name: "Mutation") { fields { name } } }', {}, service.apiKey);

    expect(result.data ?? null).toBeNull();
    expect(result.errors![0]!.message).toBe('GraphQL introspection has been disabled, but the requested query contained the field "__type".');
  });

  it('rejects __schema from a non-admin over graphql-ws', async () => {
    const client = evq.wsClient(service.apiKey);
    const outcome = await client.iterate({ query: schemaQuery }).next().then(
      (result) => ({ errors: (result.value as { errors?: unknown[] } | undefined)?.errors }),
      (errors: unknown) => ({ errors: errors as unknown[] }),
    );

    expect(JSON.stringify(outcome.errors)).toContain('GraphQL introspection has been disabled');
  });

  it('allows __typename to a non-admin', async () => {
    const result = await evq.gql('{ __typename }', {}, service.apiKey);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ __typename: 'Query' });
  });

  it('lets the admin introspect', async () => {
    const result = await evq.gql(schemaQuery);

    expect(result.errors).toBeUndefined();
    const names = result.data!.__schema.types.map((type: { name: string }) => type.name);
    expect(names).toEqual(expect.arrayContaining(['Query', 'Mutation', 'ServiceAccount', 'QueueKey']));
  });

  it('drops suggestions for a misspelled field from a non-admin', async () => {
    const result = await evq.gql('{ queus { name } }', {}, service.apiKey);

    expect(firstCode(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toBe('Cannot query field "queus" on type "Query".');
    expect(JSON.stringify(result)).not.toContain('Did you mean');
  });

  it('drops suggestions for a misspelled argument from a non-admin', async () => {
    const result = await evq.gql('{ queue(nam: "x") { name } }', {}, service.apiKey);

    expect(result.errors!.map((error) => error.message)).toContain('Unknown argument "nam" on field "Query.queue".');
    expect(JSON.stringify(result)).not.toContain('Did you mean');
  });

  it('keeps suggestions for the admin', async () => {
    const result = await evq.gql('{ queus { name } }');
    expect(result.errors![0]!.message).toMatch(/^Cannot query field "queus" on type "Query"\. Did you mean "queues?"/);
  });

  it('drops suggestions from invalid variables of a non-admin', async () => {
    const queue = await evq.createQueue();
    const enumValue = await evq.gql(
      'mutation ($queue: String!, $actions: [QueueAction!]!) { createQueueKey(queue: $queue, actions: $actions) { id } }',
      { queue, actions: ['PUBLSH'] },
      service.apiKey,
    );
    const inputField = await evq.gql(
      'mutation ($input: CreateQueueInput!) { createQueue(input: $input) { name } }',
      { input: { nam: 'x' } },
      service.apiKey,
    );

    expect(firstCode(enumValue)).toBe('BAD_USER_INPUT');
    expect(firstCode(inputField)).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(enumValue)).not.toContain('Did you mean');
    expect(JSON.stringify(inputField)).not.toContain('Did you mean');
  });
});

describe('dev mode', () => {
  let evq: TestEvq;

  beforeAll(async () => {
    evq = await startEvq();
  });

  afterAll(async () => {
    await evq?.close();
  });

  it('lets a non-admin introspect and see suggestions', async () => {
    const queue = await evq.createQueue();
    const service = await createServiceAccount(evq, [{ queue, actions: ['PUBLISH'] }]);

    const schema = await evq.gql(schemaQuery, {}, service.apiKey);
    expect(schema.errors).toBeUndefined();
    expect(schema.data!.__schema.types.map((type: { name: string }) => type.name)).toContain('Query');

    const misspelled = await evq.gql('{ queus { name } }', {}, service.apiKey);
    expect(misspelled.errors![0]!.message).toContain('Did you mean');
  });
});

describe('cost limit', () => {
  let evq: TestEvq;
  const costly = '{ queues { name stats { ready inFlight } } }';

  beforeAll(async () => {
    evq = await startEvq({ EVQ_MAX_COST: '10' });
  });

  afterAll(async () => {
    await evq?.close();
  });

  it('rejects a query over the cost limit with BAD_USER_INPUT', async () => {
    const result = await evq.gql(costly);

    expect(result.data ?? null).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(firstCode(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toContain('Query Cost limit of 10 exceeded, found 11.');
  });

  it('accepts a query within the cost limit', async () => {
    const result = await evq.gql('{ queues { name } }');
    expect(result.errors).toBeUndefined();
  });

  it('names the limit and the cost in extensions', async () => {
    const result = await evq.gql(costly);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 10, cost: 11 });
  });

  it('does not call the cost a syntax error', async () => {
    const result = await evq.gql(costly);
    expect(result.errors![0]!.message).not.toMatch(/^Syntax Error/);
  });
});

describe('publish rate limit', () => {
  let evq: TestEvq;
  let queue: string;

  beforeAll(async () => {
    evq = await startEvq({ EVQ_PUBLISH_RATE_LIMIT: '5', EVQ_PUBLISH_BURST: '5' });
    queue = await evq.createQueue();
  });

  afterAll(async () => {
    await evq?.close();
  });

  async function readyCount(): Promise<number> {
    const result = await evq.gql('query ($queue: String!) { queue(name: $queue) { stats { ready } } }', { queue });
    return result.data!.queue.stats.ready;
  }

  it('rejects sixth REST publish with 429', async () => {
    const service = await createServiceAccount(evq, [{ queue, actions: ['PUBLISH'] }]);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await evq.rest('/queue/publish', { queue, data: { i } }, service.apiKey)).status);
    const limited = await evq.rest('/queue/publish', { queue, data: { i: 5 } }, service.apiKey);

    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(limited.body.error.details).toEqual({
      principal: `service:${service.id}`,
      limit: 5,
      burst: 5,
      requested: 1,
      retryAfterSeconds: 1,
    });
  });

  it('rejects sixth GraphQL publish', async () => {
    const service = await createServiceAccount(evq, [{ queue, actions: ['PUBLISH'] }]);
    for (let i = 0; i < 5; i++) {
      const result = await evq.gql(publishMutation, { queue, data: { i } }, service.apiKey);
      expect(result.errors).toBeUndefined();
    }
    const limited = await evq.gql(publishMutation, { queue, data: { i: 5 } }, service.apiKey);

    expect(limited.data ?? null).toBeNull();
    expect(limited.errors![0]!.path).toEqual(['publish']);
    expect(limited.errors![0]!.extensions).toEqual({
      code: 'RATE_LIMITED',
      retryable: true,
      principal: `service:${service.id}`,
      limit: 5,
      burst: 5,
      requested: 1,
      retryAfterSeconds: 1,
    });
  });

  it('stores nothing for a rejected publish', async () => {
    const service = await createServiceAccount(evq, [{ queue, actions: ['PUBLISH'] }]);
    await evq.rest('/queue/publish', { queue, data: 'burst' }, service.apiKey);
    await evq.gql(
      'mutation ($queue: String!, $messages: [PublishInput!]!) { publishBatch(queue: $queue, messages: $messages) { id } }',
      { queue, messages: [{ data: 1 }, { data: 2 }, { data: 3 }, { data: 4 }] },
      service.apiKey,
    );
    const before = await readyCount();

    const batch = await evq.gql(
      'mutation ($queue: String!, $messages: [PublishInput!]!) { publishBatch(queue: $queue, messages: $messages) { id } }',
      { queue, messages: [{ data: 5 }, { data: 6 }] },
      service.apiKey,
    );

    expect(batch.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', requested: 2 });
    expect(await readyCount()).toBe(before);
  });

  it('shares one bucket between REST and GraphQL', async () => {
    const service = await createServiceAccount(evq, [{ queue, actions: ['PUBLISH'] }]);
    for (let i = 0; i < 5; i++) expect((await evq.rest('/queue/publish', { queue, data: i }, service.apiKey)).status).toBe(200);

    const limited = await evq.gql(publishMutation, { queue, data: 5 }, service.apiKey);
    expect(firstCode(limited)).toBe('RATE_LIMITED');
  });

  it('keeps a bucket per service account', async () => {
    const first = await createServiceAccount(evq, [{ queue, actions: ['PUBLISH'] }]);
    const second = await createServiceAccount(evq, [{ queue, actions: ['PUBLISH'] }]);
    for (let i = 0; i < 5; i++) await evq.rest('/queue/publish', { queue, data: i }, first.apiKey);

    expect((await evq.rest('/queue/publish', { queue, data: 'x' }, first.apiKey)).status).toBe(429);
    expect((await evq.rest('/queue/publish', { queue, data: 'x' }, second.apiKey)).status).toBe(200);
  });

  it('does not limit the admin', async () => {
    for (let i = 0; i < 20; i++) {
      const response = await evq.rest('/queue/publish', { queue, data: { admin: i } });
      expect(response.status).toBe(200);
    }
    const result = await evq.gql(publishMutation, { queue, data: 'admin-graphql' });
    expect(result.errors).toBeUndefined();
  });

  it('counts every aliased publish in one request', async () => {
    const service = await createServiceAccount(evq, [{ queue, actions: ['PUBLISH'] }]);
    const aliases = Array.from({ length: 10 }, (_, i) => `p${i}: publish(queue: $queue, message: { data: ${i} }) { id }`).join(' ');
    const before = await readyCount();

    const result = await evq.gql(`mutation ($queue: String!) { ${aliases} }`, { queue }, service.apiKey);

    // Mutation fields run in order, and the failed non-null publish ends the operation.
    expect(await readyCount()).toBe(before + 5);
    expect(result.errors?.map((error) => error.extensions?.code)).toEqual(['RATE_LIMITED']);
    expect(result.errors?.[0]?.path).toEqual(['p5']);
  });
});

describe('access management', () => {
  let evq: TestEvq;
  let idp: IdentityProvider;

  beforeAll(async () => {
    idp = await startIdentityProvider();
    evq = await startEvq(idp.env());
  });

  afterAll(async () => {
    await evq?.close();
    await idp?.close();
  });

  describe('me', () => {
    it('returns the admin', async () => {
      const result = await evq.gql(meQuery);
      expect(result.errors).toBeUndefined();
      expect(result.data!.me).toEqual({ kind: 'ADMIN', id: 'admin', subject: 'admin', roles: [], expiresAt: null, grants: [] });
    });

    it('returns a service account by API key', async () => {
      const queue = await evq.createQueue();
      const service = await createServiceAccount(evq, [
        { queue, actions: ['PUBLISH', 'CONSUME'] },
        { queue: 'orders.*', actions: ['CONSUME'], key: 'tenant-${sub}' },
      ]);

      const result = await evq.gql(meQuery, {}, service.apiKey);

      expect(result.errors).toBeUndefined();
      expect(result.data!.me).toEqual({
        kind: 'SERVICE',
        id: `service:${service.id}`,
        subject: service.id,
        roles: [],
        expiresAt: null,
        grants: [
          { queue, actions: ['PUBLISH', 'CONSUME'], key: null },
          { queue: 'orders.*', actions: ['CONSUME'], key: 'tenant-${sub}' },
        ],
      });
    });

    it('returns the service account of an issued token', async () => {
      const queue = await evq.createQueue();
      const service = await createServiceAccount(evq, [{ queue, actions: ['PUBLISH'] }]);
      const issued = await issueToken(evq, service.apiKey, 600);
      expect(issued.errors).toBeUndefined();
      const { token, expiresAt } = issued.data!.issueToken as { token: string; expiresAt: string };
      const claims = decodeJwt(token);

      const result = await evq.gql(meQuery, {}, token);

      expect(new Date(expiresAt).getTime()).toBe(claims.exp! * 1000);
      expect(claims.exp! - claims.iat!).toBe(600);
      expect(result.errors).toBeUndefined();
      // The principal ends 5 s after exp, the clock tolerance between instances for service tokens.
      expect(result.data!.me).toEqual({
        kind: 'SERVICE',
        id: `service:${service.id}`,
        subject: service.id,
        roles: [],
        expiresAt: new Date((claims.exp! + 5) * 1000).toISOString(),
        grants: [{ queue, actions: ['PUBLISH'], key: null }],
      });
    });

    it('returns a queue key', async () => {
      const queue = await evq.createQueue();
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      const key = await createQueueKey(evq, queue, ['PUBLISH', 'CONSUME'], expiresAt);

      const result = await evq.gql(meQuery, {}, key.secret);

      expect(result.errors).toBeUndefined();
      expect(result.data!.me).toEqual({
        kind: 'QUEUE_KEY',
        id: `queue-key:${key.id}`,
        subject: key.id,
        roles: [],
        expiresAt,
        grants: [{ queue, actions: ['PUBLISH', 'CONSUME'], key: null }],
      });
    });

    it('returns a user with its role grants added', async () => {
      const role = `ops-${randomUUID().slice(0, 8)}`;
      const set = await evq.gql(
        'mutation ($role: String!, $grants: [GrantInput!]!) { setRoleGrants(role: $role, grants: $grants) { role grants { queue actions key } } }',
        { role, grants: [{ queue: 'ops.*', actions: ['MANAGE', 'CONSUME'] }] },
      );
      expect(set.errors).toBeUndefined();
      expect(set.data!.setRoleGrants).toEqual({ role, grants: [{ queue: 'ops.*', actions: ['MANAGE', 'CONSUME'], key: null }] });
      const token = await idp.sign('alice', {
        claims: { evq: { grants: [{ queue: 'inbox', actions: ['CONSUME'], key: 'user-${sub}' }], roles: [role, 'unknown-role'] } },
      });

      const result = await evq.gql(meQuery, {}, token);

      expect(result.errors).toBeUndefined();
      expect(result.data!.me).toEqual({
        kind: 'USER',
        id: 'user:alice',
        subject: 'alice',
        roles: [role, 'unknown-role'],
        // The identity provider helper sets a clock tolerance of 0, so the principal ends at exp.
        expiresAt: new Date(decodeJwt(token).exp! * 1000).toISOString(),
        grants: [
          { queue: 'inbox', actions: ['CONSUME'], key: 'user-${sub}' },
          { queue: 'ops.*', actions: ['MANAGE', 'CONSUME'], key: null },
        ],
      });
    });

    it('rejects a request without a credential', async () => {
      const result = await evq.gql(meQuery, {}, null);
      expect(result.status).toBe(401);
      expect(firstCode(result)).toBe('UNAUTHENTICATED');
    });
  });

  describe('issueToken', () => {
    it.each([
      ['the admin token', async () => undefined],
      ['a queue key', async () => (await createQueueKey(evq, await evq.createQueue(), ['PUBLISH'])).secret],
      ['a user token', async () => idp.sign('alice')],
    ])('is FORBIDDEN for %s', async (_case, credential) => {
      const token = await credential();
      const result = await issueToken(evq, token as string);

      expect(result.data ?? null).toBeNull();
      expect(firstCode(result)).toBe('FORBIDDEN');
      expect(result.errors![0]!.extensions).toMatchObject({ field: 'Mutation.issueToken' });
    });

    it('rejects ttlSeconds out of range', async () => {
      const service = await createServiceAccount(evq, [{ queue: 'x', actions: ['PUBLISH'] }]);
      for (const ttlSeconds of [59, 86_401]) {
        const result = await issueToken(evq, service.apiKey, ttlSeconds);
        expect(firstCode(result)).toBe('BAD_USER_INPUT');
        expect(result.errors![0]!.extensions).toMatchObject({ field: 'ttlSeconds', value: ttlSeconds, min: 60, max: 86_400 });
      }
    });

    it('is FORBIDDEN for a token it issued', async () => {
      const service = await createServiceAccount(evq, [{ queue: 'x', actions: ['PUBLISH'] }]);
      const issued = await issueToken(evq, service.apiKey, 60);
      const renewed = await issueToken(evq, issued.data!.issueToken.token, 86_400);

      expect(firstCode(renewed)).toBe('FORBIDDEN');
      expect(renewed.errors![0]!.message).toBe(
        "Forbidden: issueToken needs a service account's API key; a token from issueToken cannot renew itself.",
      );
    });
  });

  describe('secrets', () => {
    const fieldsOf = async (type: string) => {
      const result = await evq.gql('query ($type: String!) { __type(name: $type) { fields { name } } }', { type });
      return result.data!.__type.fields.map((field: { name: string }) => field.name).sort();
    };

    it('are not fields of QueueKey or ServiceAccount', async () => {
      expect(await fieldsOf('QueueKey')).toEqual(['actions', 'createdAt', 'expiresAt', 'id', 'previousSecretValidUntil', 'queue', 'revokedAt']);
      expect(await fieldsOf('ServiceAccount')).toEqual(['createdAt', 'grants', 'id', 'name']);
    });

    it('are not returned by queueKeys', async () => {
      const queue = await evq.createQueue();
      const key = await createQueueKey(evq, queue, ['PUBLISH']);
      const rotated = await evq.gql('mutation ($id: String!) { rotateQueueKey(id: $id, graceSeconds: 60) { secret } }', { id: key.id });
      const manager = await createServiceAccount(evq, [{ queue, actions: ['MANAGE'] }]);

      for (const token of [undefined, manager.apiKey]) {
        const result = await evq.gql(
          'query ($queue: String!) { queueKeys(queue: $queue) { id queue actions expiresAt createdAt revokedAt previousSecretValidUntil } }',
          { queue },
          token,
        );
        expect(result.errors).toBeUndefined();
        expect(result.data!.queueKeys).toHaveLength(1);
        expect(result.data!.queueKeys[0]).toMatchObject({ id: key.id, queue, actions: ['PUBLISH'], revokedAt: null });
        const text = JSON.stringify(result);
        expect(text).not.toContain(key.secret);
        expect(text).not.toContain(rotated.data!.rotateQueueKey.secret);
        expect(text).not.toContain(key.secret.split('.')[1]);
      }
    });

    it('are not returned by serviceAccounts', async () => {
      const service = await createServiceAccount(evq, [{ queue: 'x', actions: ['PUBLISH'] }]);
      const result = await evq.gql('{ serviceAccounts { id name createdAt grants { queue actions key } } }');

      expect(result.errors).toBeUndefined();
      expect(result.data!.serviceAccounts.map((account: { id: string }) => account.id)).toContain(service.id);
      expect(JSON.stringify(result)).not.toContain(service.apiKey.split('.')[1]);
    });
  });

  describe('deleteServiceAccount', () => {
    it('makes the API key and issued tokens UNAUTHENTICATED', async () => {
      const service = await createServiceAccount(evq, [{ queue: 'x', actions: ['PUBLISH'] }]);
      const issued = await issueToken(evq, service.apiKey);
      const token = issued.data!.issueToken.token as string;
      expect((await evq.gql(meQuery, {}, token)).errors).toBeUndefined();

      const deleted = await evq.gql('mutation ($id: String!) { deleteServiceAccount(id: $id) }', { id: service.id });
      expect(deleted.data).toEqual({ deleteServiceAccount: true });

      const byKey = await evq.gql(meQuery, {}, service.apiKey);
      expect(byKey.status).toBe(401);
      expect(firstCode(byKey)).toBe('UNAUTHENTICATED');
      expect(byKey.errors![0]!.message).toBe('Authentication failed: the API key is not valid or its service account was deleted.');

      const byToken = await evq.gql(meQuery, {}, token);
      expect(byToken.status).toBe(401);
      expect(firstCode(byToken)).toBe('UNAUTHENTICATED');
      expect(byToken.errors![0]!.message).toBe('Authentication failed: the service account was deleted.');

      const rest = await evq.rest('/queue/publish', { queue: 'x', data: 1 }, service.apiKey);
      expect(rest.status).toBe(401);
      expect(rest.body.error.code).toBe('UNAUTHENTICATED');
    });

    it('returns false for an unknown account', async () => {
      const result = await evq.gql('mutation { deleteServiceAccount(id: "no-such-account") }');
      expect(result.data).toEqual({ deleteServiceAccount: false });
    });
  });

  describe('admin-only fields', () => {
    it.each([
      ['createServiceAccount', 'mutation { createServiceAccount(name: "sneaky", grants: [{ queue: "*", actions: [MANAGE] }]) { apiKey } }'],
      ['setRoleGrants', 'mutation { setRoleGrants(role: "sneaky", grants: [{ queue: "*", actions: [MANAGE] }]) { role } }'],
      ['deleteServiceAccount', 'mutation { deleteServiceAccount(id: "x") }'],
      ['serviceAccounts', '{ serviceAccounts { id } }'],
      ['roleGrants', '{ roleGrants { role } }'],
    ])('%s is FORBIDDEN for a service account', async (field, document) => {
      const service = await createServiceAccount(evq, [{ queue: '*', actions: ['PUBLISH', 'CONSUME', 'MANAGE'] }]);
      const operation = document.startsWith('mutation') ? 'Mutation' : 'Query';

      const result = await evq.gql(document, {}, service.apiKey);

      expect(result.data ?? null).toBeNull();
      expect(result.errors![0]!.extensions).toEqual({
        code: 'FORBIDDEN',
        retryable: false,
        principal: `service:${service.id}`,
        field: `${operation}.${field}`,
      });
      expect(result.errors![0]!.message).toBe(`Forbidden: ${operation}.${field} is not allowed for service:${service.id}.`);
    });

    it('leaves nothing behind when FORBIDDEN', async () => {
      const user = await idp.sign('mallory', { claims: { evq: { grants: [{ queue: '*', actions: ['MANAGE'] }] } } });
      await evq.gql('mutation { createServiceAccount(name: "mallory-svc", grants: [{ queue: "*", actions: [MANAGE] }]) { apiKey } }', {}, user);
      await evq.gql('mutation { setRoleGrants(role: "mallory-role", grants: [{ queue: "*", actions: [MANAGE] }]) { role } }', {}, user);

      const accounts = await evq.gql('{ serviceAccounts { name } roleGrants { role } }');
      expect(accounts.data!.serviceAccounts.map((account: { name: string }) => account.name)).not.toContain('mallory-svc');
      expect(accounts.data!.roleGrants.map((entry: { role: string }) => entry.role)).not.toContain('mallory-role');
    });
  });

  describe('queue grants', () => {
    const createQueue = 'mutation ($name: String!) { createQueue(input: { name: $name }) { name } }';

    it('let MANAGE on team-a.* create team-a.jobs but not team-b.jobs', async () => {
      const token = await idp.sign('lead-a', { claims: { evq: { grants: [{ queue: 'team-a.*', actions: ['MANAGE'] }] } } });

      const own = await evq.gql(createQueue, { name: 'team-a.jobs' }, token);
      expect(own.errors).toBeUndefined();
      expect(own.data).toEqual({ createQueue: { name: 'team-a.jobs' } });

      const other = await evq.gql(createQueue, { name: 'team-b.jobs' }, token);
      expect(other.data ?? null).toBeNull();
      expect(other.errors![0]!.extensions).toEqual({
        code: 'FORBIDDEN',
        retryable: false,
        principal: 'user:lead-a',
        action: 'MANAGE',
        queue: 'team-b.jobs',
      });
      const lookup = await evq.gql('{ queue(name: "team-b.jobs") { name } }');
      expect(lookup.data).toEqual({ queue: null });
    });

    it('list only the queues that the grants name', async () => {
      const tenant = `tenant-${randomUUID().slice(0, 8)}`;
      for (const name of [`${tenant}.jobs`, `${tenant}.mail`, `${tenant}x.jobs`, `other-${tenant}.jobs`]) {
        const created = await evq.gql(createQueue, { name });
        expect(created.errors).toBeUndefined();
      }
      const token = await idp.sign('lead', { claims: { evq: { grants: [{ queue: `${tenant}.*`, actions: ['CONSUME'] }] } } });

      const listed = await evq.gql('{ queues { name } }', {}, token);
      expect(listed.errors).toBeUndefined();
      expect(listed.data!.queues.map((queue: { name: string }) => queue.name).sort()).toEqual([`${tenant}.jobs`, `${tenant}.mail`]);

      const hidden = await evq.gql('query ($name: String!) { queue(name: $name) { name } }', { name: `other-${tenant}.jobs` }, token);
      expect(hidden.data).toEqual({ queue: null });

      const byAdmin = await evq.gql('query ($prefix: String!) { queues(prefix: $prefix) { name } }', { prefix: tenant });
      expect(byAdmin.data!.queues).toHaveLength(3);
    });

    it('list nothing for a principal without grants', async () => {
      await evq.createQueue();
      const token = await idp.sign('nobody');
      const listed = await evq.gql('{ queues { name } }', {}, token);
      expect(listed.data).toEqual({ queues: [] });
    });

    it('keep a MANAGE-only user from minting a CONSUME key', async () => {
      const queue = await evq.createQueue();
      await evq.rest('/queue/publish', { queue, data: 'secret-task' });
      const token = await idp.sign('manager', { claims: { evq: { grants: [{ queue, actions: ['MANAGE'] }] } } });
      const direct = await evq.rest('/queue/receive', { queue }, token);
      expect(direct.status).toBe(403);

      const minted = await evq.gql(
        'mutation ($queue: String!) { createQueueKey(queue: $queue, actions: [CONSUME]) { secret } }',
        { queue },
        token,
      );

      expect(firstCode(minted)).toBe('FORBIDDEN');
    });
  });

  it('service account subscribes to its queue', async () => {
    const queue = await evq.createQueue();
    const service = await createServiceAccount(evq, [{ queue, actions: ['CONSUME'] }]);
    await evq.rest('/queue/publish', { queue, data: { n: 1 } });

    const events = await collect<{ messages: { data: unknown } }>(
      evq.wsClient(service.apiKey),
      'subscription ($queue: String!) { messages(queue: $queue, from: EARLIEST) { data } }',
      { queue },
      1,
    );
    expect(events[0]!.messages.data).toEqual({ n: 1 });
  });
});
