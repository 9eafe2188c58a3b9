import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAdminToken, loadMasterKey } from '../../src/auth/bootstrap-secrets.ts';
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

describe('master key', () => {
  it('is generated once and reused in dev mode', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'evq-key-'));
    const config = loadConfig({ EVQ_DATA_DIR: dataDir });
    const first = await loadMasterKey(config);
    const second = await loadMasterKey(config);

    expect(first).toHaveLength(32);
    expect(second.equals(first)).toBe(true);
    expect((await readFile(join(dataDir, 'master-key'), 'utf8')).trim()).toBe(first.toString('base64'));
    expect((await stat(join(dataDir, 'master-key'))).mode & 0o777).toBe(0o600);
  });

  it('comes from EVQ_MASTER_KEY when set', async () => {
    const key = Buffer.alloc(32, 9).toString('base64');
    const config = loadConfig({ EVQ_MASTER_KEY: key, NODE_ENV: 'production' });
    expect((await loadMasterKey(config)).toString('base64')).toBe(key);
  });

  it('is required in production', async () => {
    const config = loadConfig({ NODE_ENV: 'production' });
    await expect(loadMasterKey(config)).rejects.toThrow('EVQ_MASTER_KEY is required when NODE_ENV=production');
  });

  it('of the wrong length is rejected and hidden', () => {
    expect(() => loadConfig({ EVQ_MASTER_KEY: 'c2hvcnQ=' })).toThrow('EVQ_MASTER_KEY=(hidden): must be 32 bytes in base64');
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
