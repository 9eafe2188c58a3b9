import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Config, ConfigError } from '../config.ts';

/** Name of the file in the data folder that keeps the admin token generated in dev mode. */
export const adminTokenFile = 'admin-token';
/** Name of the file in the data folder that keeps the master key generated in dev mode. */
export const masterKeyFile = 'master-key';

/** A secret read from configuration or from a file in the data folder. */
export interface StoredSecret {
  token: string;
  /** True when this start generated the secret, which is then shown to the operator once. */
  generated: boolean;
}

export type AdminToken = StoredSecret;

/**
 * Returns the admin token: `EVQ_ADMIN_TOKEN` when it is set. In dev mode it is otherwise the token
 * in the data folder, generated and stored (mode 0600) on the first start. Throws in production
 * without EVQ_ADMIN_TOKEN.
 */
export async function loadAdminToken(config: Config): Promise<AdminToken> {
  if (config.adminToken) return { token: config.adminToken, generated: false };
  if (!config.devMode) {
    throw new ConfigError('EVQ_ADMIN_TOKEN is required when NODE_ENV=production; set it to a random string of at least 16 characters (32 or more is better).');
  }
  return loadOrCreate(config.dataDir, adminTokenFile, (stored) => stored.length >= 16, () => `evq_admin_${randomBytes(24).toString('base64url')}`);
}

/**
 * Returns the 32-byte master key that derives the key signing service tokens: `EVQ_MASTER_KEY`
 * when set, otherwise (dev mode only) the key in the data folder, generated on the first start.
 * Every instance that serves one Kafka cluster needs the same key, so that a token one of them
 * issued is valid at all of them. Throws in production without EVQ_MASTER_KEY.
 */
export async function loadMasterKey(config: Config): Promise<Buffer> {
  if (config.auth.masterKey) return config.auth.masterKey;
  if (!config.devMode) {
    throw new ConfigError(
      `EVQ_MASTER_KEY is required when NODE_ENV=production; generate one with: openssl rand -base64 32 (or reuse ${masterKeyFile} from the dev data folder to keep issued service tokens valid)`,
    );
  }
  const isKey = (stored: string) => Buffer.from(stored, 'base64').length === 32;
  const { token } = await loadOrCreate(config.dataDir, masterKeyFile, isKey, () => randomBytes(32).toString('base64'));
  return Buffer.from(token, 'base64');
}

async function loadOrCreate(
  dataDir: string,
  file: string,
  isValid: (stored: string) => boolean,
  create: () => string,
): Promise<StoredSecret> {
  const path = join(dataDir, file);
  try {
    const stored = (await readFile(path, 'utf8')).trim();
    if (isValid(stored)) return { token: stored, generated: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = create();
  await mkdir(dataDir, { recursive: true });
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  return { token, generated: true };
}
