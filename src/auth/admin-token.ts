import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { errors } from '../errors.ts';
import type { Principal } from './principal.ts';

/** Name of the file in the data folder that keeps the admin token generated in dev mode. */
export const adminTokenFile = 'admin-token';

export interface AdminToken {
  token: string;
  /** True when this start generated the token, which is then shown to the operator once. */
  generated: boolean;
}

/**
 * Returns the admin token: `EVQ_ADMIN_TOKEN` when it is set. In dev mode it is otherwise the token
 * in the data folder, generated and stored (mode 0600) on the first start. Throws in production
 * without EVQ_ADMIN_TOKEN.
 */
export async function loadAdminToken(config: Config): Promise<AdminToken> {
  if (config.adminToken) return { token: config.adminToken, generated: false };
  if (!config.devMode) {
    throw new Error('EVQ_ADMIN_TOKEN is required when NODE_ENV=production; set it to a random string of 32 or more characters.');
  }
  const path = join(config.dataDir, adminTokenFile);
  try {
    const stored = (await readFile(path, 'utf8')).trim();
    if (stored.length >= 16) return { token: stored, generated: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = `evq_admin_${randomBytes(24).toString('base64url')}`;
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  return { token, generated: true };
}

/** Checks bearer credentials against the admin token in constant time. */
export class Authenticator {
  readonly #adminDigest: Buffer;

  constructor(adminToken: string) {
    this.#adminDigest = digest(adminToken);
  }

  /**
   * Returns the principal for an `Authorization` header value (`Bearer <token>`) or a bare token,
   * as graphql-ws connection params carry it. Throws UNAUTHENTICATED when it is missing or wrong.
   */
  authenticate(authorization: unknown): Principal {
    if (typeof authorization !== 'string' || authorization.trim() === '') {
      throw errors.unauthenticated('missing bearer token; send Authorization: Bearer <token>');
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
    const token = match ? match[1]! : authorization.trim();
    if (!timingSafeEqual(digest(token), this.#adminDigest)) {
      throw errors.unauthenticated('the bearer token is not valid');
    }
    return { kind: 'admin', id: 'admin' };
  }
}

function digest(token: string): Buffer {
  return hash('sha256', token, 'buffer');
}
