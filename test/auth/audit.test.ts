import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import { adminToken, startEvq, type TestEvq } from '../helpers/evq.ts';
import { startIdentityProvider, type IdentityProvider } from '../helpers/identity-provider.ts';

type LogLine = Record<string, unknown>;

let evq: TestEvq;
let idp: IdentityProvider;
let queue: string;
/** Every JSON line that the server logged, parsed. */
const lines: LogLine[] = [];
/** The same lines as written, for searching secrets in them. */
const rawLines: string[] = [];
/** Every credential that a test created or sent; none may appear in a log line. */
const secrets: string[] = [adminToken];

beforeAll(async () => {
  let pending = '';
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      pending += chunk.toString();
      const complete = pending.split('\n');
      pending = complete.pop()!;
      for (const line of complete) {
        rawLines.push(line);
        lines.push(JSON.parse(line) as LogLine);
      }
      callback();
    },
  });
  idp = await startIdentityProvider();
  evq = await startEvq(idp.env(), { logger: createLogger({ level: 'info', destination }) });
  queue = await evq.createQueue();
});

afterAll(async () => {
  await evq?.close();
  await idp?.close();
});

/** Returns the audit lines that contain every field of `fields`. */
function auditLines(fields: LogLine): LogLine[] {
  return lines.filter((line) => line.component === 'audit' && Object.entries(fields).every(([name, value]) => isDeepEqual(line[name], value)));
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Waits until pino has written the line, which happens right after the request in the same process. */
async function auditLine(fields: LogLine): Promise<LogLine> {
  for (let attempt = 0; attempt < 50 && auditLines(fields).length === 0; attempt++) await sleep(10);
  const found = auditLines(fields);
  expect(found, `no audit line with ${JSON.stringify(fields)}`).toHaveLength(1);
  return found[0]!;
}

async function createServiceAccount(name: string): Promise<{ id: string; apiKey: string }> {
  const result = await evq.gql(
    'mutation ($name: String!, $grants: [GrantInput!]!) { createServiceAccount(name: $name, grants: $grants) { id apiKey } }',
    { name, grants: [{ queue, actions: ['PUBLISH'] }] },
  );
  expect(result.errors).toBeUndefined();
  const account = result.data!.createServiceAccount as { id: string; apiKey: string };
  secrets.push(account.apiKey);
  return account;
}

async function createQueueKey(): Promise<{ id: string; secret: string }> {
  const result = await evq.gql('mutation ($queue: String!) { createQueueKey(queue: $queue, actions: [PUBLISH]) { id secret } }', { queue });
  expect(result.errors).toBeUndefined();
  const key = result.data!.createQueueKey as { id: string; secret: string };
  secrets.push(key.secret);
  return key;
}

describe('audit log of changes', () => {
  it('records a created service account', async () => {
    const name = `svc-${randomUUID().slice(0, 8)}`;
    const account = await createServiceAccount(name);

    const line = await auditLine({ event: 'created', credential: 'service account', id: account.id });
    expect(line).toMatchObject({ level: 30, service: 'evq', actor: 'admin', name, msg: 'service account created' });
  });

  it('records an issued service token', async () => {
    const account = await createServiceAccount(`svc-${randomUUID().slice(0, 8)}`);
    const issued = await evq.gql('mutation { issueToken(ttlSeconds: 120) { token } }', {}, account.apiKey);
    expect(issued.errors).toBeUndefined();
    secrets.push(issued.data!.issueToken.token);

    const line = await auditLine({ event: 'issued', credential: 'service token', id: account.id });
    expect(line).toMatchObject({ actor: `service:${account.id}`, ttlSeconds: 120, msg: 'service token issued' });
  });

  it('records a GraphQL rejection with the remote address', async () => {
    const subject = `graphql-${randomUUID().slice(0, 8)}`;
    const token = await idp.sign(subject, { claims: { aud: 'not-evq' } });
    secrets.push(token);

    const result = await evq.gql('{ me { id } }', {}, token);
    expect(result.status).toBe(401);

    const line = await auditLine({ event: 'rejected', credential: 'user token', id: subject });
    expect(line).toMatchObject({ transport: 'http', remote: '127.0.0.1', reason: 'the token\'s aud claim is invalid: unexpected "aud" claim value' });
  });

  it('records a deleted service account', async () => {
    const account = await createServiceAccount(`svc-${randomUUID().slice(0, 8)}`);
    await evq.gql('mutation ($id: String!) { deleteServiceAccount(id: $id) }', { id: account.id });

    const line = await auditLine({ event: 'deleted', credential: 'service account', id: account.id });
    expect(line).toMatchObject({ actor: 'admin', msg: 'service account deleted' });
  });

  it('records a created, rotated and revoked queue key', async () => {
    const key = await createQueueKey();
    const rotated = await evq.gql('mutation ($id: String!) { rotateQueueKey(id: $id, graceSeconds: 60) { secret } }', { id: key.id });
    secrets.push(rotated.data!.rotateQueueKey.secret);
    await evq.gql('mutation ($id: String!) { revokeQueueKey(id: $id) }', { id: key.id });

    const created = await auditLine({ event: 'created', credential: 'queue key', id: key.id });
    expect(created).toMatchObject({ actor: 'admin', queue, actions: ['PUBLISH'], msg: 'queue key created' });
    const rotation = await auditLine({ event: 'rotated', credential: 'queue key', id: key.id });
    expect(rotation).toMatchObject({ actor: 'admin', queue, graceSeconds: 60, msg: 'queue key rotated' });
    const revocation = await auditLine({ event: 'revoked', credential: 'queue key', id: key.id });
    expect(revocation).toMatchObject({ actor: 'admin', queue, msg: 'queue key revoked' });
  });

  it('records updated role grants with the actor', async () => {
    const role = `ops-${randomUUID().slice(0, 8)}`;
    await evq.gql('mutation ($role: String!) { setRoleGrants(role: $role, grants: [{ queue: "ops.*", actions: [MANAGE] }, { queue: "x", actions: [CONSUME] }]) { role } }', {
      role,
    });

    const line = await auditLine({ event: 'updated', credential: 'role grants', id: role });
    expect(line).toMatchObject({ actor: 'admin', grants: 2, msg: 'role grants updated' });
  });

  it('records the service account that made a change', async () => {
    const manager = await evq.gql(
      'mutation ($name: String!, $grants: [GrantInput!]!) { createServiceAccount(name: $name, grants: $grants) { id apiKey } }',
      { name: `mgr-${randomUUID().slice(0, 8)}`, grants: [{ queue, actions: ['MANAGE', 'PUBLISH'] }] },
    );
    const { id, apiKey } = manager.data!.createServiceAccount as { id: string; apiKey: string };
    secrets.push(apiKey);

    const result = await evq.gql('mutation ($queue: String!) { createQueueKey(queue: $queue, actions: [PUBLISH]) { id secret } }', { queue }, apiKey);
    secrets.push(result.data!.createQueueKey.secret);

    const line = await auditLine({ event: 'created', credential: 'queue key', id: result.data!.createQueueKey.id });
    expect(line.actor).toBe(`service:${id}`);
  });
});

describe('audit log of rejected credentials', () => {
  it('records a wrong API key secret with its account id', async () => {
    const account = await createServiceAccount(`svc-${randomUUID().slice(0, 8)}`);
    const forged = `evq_sk_${account.id}.${'A'.repeat(43)}`;
    secrets.push(forged);

    const response = await evq.rest('/queue/publish', { queue, data: 1 }, forged);
    expect(response.status).toBe(401);

    const line = await auditLine({ event: 'rejected', credential: 'api key', id: account.id });
    expect(line).toMatchObject({
      level: 40,
      reason: 'the API key is not valid or its service account was deleted',
      transport: 'http',
      requestId: response.body.error.requestId,
      remote: '127.0.0.1',
      suppressedSinceLast: 0,
      msg: 'credential rejected',
    });
  });

  it('records a revoked queue key', async () => {
    const key = await createQueueKey();
    await evq.gql('mutation ($id: String!) { revokeQueueKey(id: $id) }', { id: key.id });

    expect((await evq.gql('{ me { id } }', {}, key.secret)).status).toBe(401);

    const line = await auditLine({ event: 'rejected', credential: 'queue key', id: key.id });
    expect(line).toMatchObject({ reason: 'the queue key was revoked', transport: 'http' });
  });

  it('records an expired user token with its subject', async () => {
    const subject = `user-${randomUUID().slice(0, 8)}`;
    const token = await idp.sign(subject, { expiresIn: -10 });
    secrets.push(token);

    expect((await evq.gql('{ me { id } }', {}, token)).status).toBe(401);

    const line = await auditLine({ event: 'rejected', credential: 'user token', id: subject });
    expect(line.reason).toMatch(/^the token expired \(exp \d+\)$/);
  });

  it('records a tampered service token', async () => {
    const account = await createServiceAccount(`svc-${randomUUID().slice(0, 8)}`);
    const issued = await evq.gql('mutation { issueToken(ttlSeconds: 60) { token } }', {}, account.apiKey);
    const token = issued.data!.issueToken.token as string;
    const tampered = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    secrets.push(token, tampered);

    expect((await evq.gql('{ me { id } }', {}, tampered)).status).toBe(401);

    const line = await auditLine({ event: 'rejected', credential: 'service token', id: account.id });
    expect(line.reason).toBe('the service token is invalid (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)');
  });

  it('records a rejected graphql-ws connection', async () => {
    const garbage = `garbage-${randomUUID()}`;
    secrets.push(garbage);
    const client = evq.wsClient(garbage);
    await client
      .iterate({ query: '{ me { id } }' })
      .next()
      .catch(() => undefined);

    const line = await auditLine({ event: 'rejected', credential: 'unknown', transport: 'websocket' });
    expect(line.reason).toBe('the bearer token is not valid');
  });

  it('limits repeated rejections to one line per second', async () => {
    const subject = `flood-${randomUUID().slice(0, 8)}`;
    const token = await idp.sign(subject, { key: 'unlisted-rsa' });
    secrets.push(token);
    const reason = "no key in the JWKS matches the token's kid";

    for (let i = 0; i < 10; i++) expect((await evq.gql('{ me { id } }', {}, token)).status).toBe(401);
    await sleep(50);
    expect(auditLines({ event: 'rejected', id: subject })).toHaveLength(1);

    await sleep(1000);
    expect((await evq.gql('{ me { id } }', {}, token)).status).toBe(401);
    await sleep(50);
    const logged = auditLines({ event: 'rejected', id: subject });
    expect(logged).toHaveLength(2);
    expect(logged.map((line) => line.reason)).toEqual([reason, reason]);
    expect(logged[1]!.suppressedSinceLast).toBe(9);
  });
});

describe('log lines', () => {
  it('contain no credential', () => {
    // Every earlier test pushed the credentials it created or sent; run after them.
    expect(secrets.length).toBeGreaterThan(10);
    expect(rawLines.length).toBeGreaterThan(10);
    for (const secret of secrets) {
      const leaking = rawLines.filter((line) => line.includes(secret));
      expect(leaking, `a log line contains ${secret.slice(0, 12)}…`).toEqual([]);
    }
  });

  it('contain no secret part of an API key or queue key', () => {
    const secretParts = secrets.filter((secret) => /^evq_(sk|qk)_/.test(secret)).map((secret) => secret.split('.')[1]!);
    expect(secretParts.length).toBeGreaterThan(3);
    for (const part of secretParts) expect(rawLines.filter((line) => line.includes(part))).toEqual([]);
  });
});
