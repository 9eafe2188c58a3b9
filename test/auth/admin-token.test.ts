import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Authenticator, loadAdminToken } from '../../src/auth/admin-token.ts';
import { loadConfig } from '../../src/config.ts';

let dataDir = '';

afterEach(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('admin token', () => {
  it('is generated once and reused in dev mode', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'evq-token-'));
    const config = loadConfig({ EVQ_DATA_DIR: dataDir });
    const first = await loadAdminToken(config);
    const second = await loadAdminToken(config);

    expect(first.generated).toBe(true);
    expect(first.token).toMatch(/^evq_admin_[A-Za-z0-9_-]{32}$/);
    expect(second).toEqual({ token: first.token, generated: false });
    expect((await readFile(join(dataDir, 'admin-token'), 'utf8')).trim()).toBe(first.token);
    expect((await stat(join(dataDir, 'admin-token'))).mode & 0o777).toBe(0o600);
  });

  it('comes from EVQ_ADMIN_TOKEN when set', async () => {
    const config = loadConfig({ EVQ_ADMIN_TOKEN: 'configured-token-123456', NODE_ENV: 'production' });
    expect(await loadAdminToken(config)).toEqual({ token: 'configured-token-123456', generated: false });
  });

  it('is required in production', async () => {
    const config = loadConfig({ NODE_ENV: 'production' });
    await expect(loadAdminToken(config)).rejects.toThrow('EVQ_ADMIN_TOKEN is required when NODE_ENV=production');
  });
});

describe('Authenticator', () => {
  const authenticator = new Authenticator('the-admin-token-0123');

  it('accepts the bearer token and a bare token', () => {
    expect(authenticator.authenticate('Bearer the-admin-token-0123')).toEqual({ kind: 'admin', id: 'admin' });
    expect(authenticator.authenticate('the-admin-token-0123')).toEqual({ kind: 'admin', id: 'admin' });
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['wrong', 'Bearer another-token'],
    ['not a string', 42],
  ])('rejects a %s token', (_name, value) => {
    expect(() => authenticator.authenticate(value)).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
  });
});

describe('loadConfig', () => {
  it('names each invalid variable with its value', () => {
    expect(() => loadConfig({ EVQ_PORT: 'eighty', EVQ_ENGINE: 'redis' })).toThrow(
      /EVQ_PORT="eighty": .*; EVQ_ENGINE="redis": /,
    );
  });

  it('hides the admin token in errors', () => {
    expect(() => loadConfig({ EVQ_ADMIN_TOKEN: 'short' })).toThrow('EVQ_ADMIN_TOKEN=(hidden): must be at least 16 characters');
  });

  it('requires brokers for the Kafka engine', () => {
    expect(() => loadConfig({ EVQ_ENGINE: 'kafka' })).toThrow('EVQ_ENGINE=kafka needs EVQ_KAFKA_BROKERS');
  });
});
