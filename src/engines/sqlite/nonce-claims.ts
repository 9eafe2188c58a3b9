import { maxNonceWindowMs, type NonceClaims } from '../engine.ts';
import { checkNonceClaim } from '../request-checks.ts';
import type { SqliteContext } from './context.ts';
import type { SqliteEngineAccess } from './engine-access.ts';

/** Max rows that one sweep deletes, which bounds how long it blocks the event loop. */
const sweepChunk = 10_000;

/**
 * The replay cache on SQLite: the `nonce_claims` table, one row per key with the claim that holds
 * it. A claim runs as one write in the group commit, so claims of one key are decided in commit
 * order, and it resolves after COMMIT.
 */
export class SqliteNonceClaims implements NonceClaims {
  readonly #engine: SqliteEngineAccess;
  /** Widest window that `claim` was given since start; 0 before the first claim. */
  #widestWindowMs = 0;

  constructor(engine: SqliteEngineAccess) {
    this.#engine = engine;
  }

  async claim(key: string, owner: string, windowMs: number): Promise<string> {
    this.#engine.requireOpen('claimNonce');
    checkNonceClaim(key, owner, windowMs, maxNonceWindowMs);
    this.#widestWindowMs = Math.max(this.#widestWindowMs, windowMs);
    return this.#engine.write('claimNonce', (context) => claimKey(context, key, owner, windowMs));
  }

  /**
   * Deletes claims older than the widest window given since start (one day before the first
   * claim), one bounded chunk per call, and returns whether expired claims may remain.
   */
  sweep(context: SqliteContext): boolean {
    const windowMs = this.#widestWindowMs > 0 ? this.#widestWindowMs : maxNonceWindowMs;
    const deleted = context.run(
      'DELETE FROM nonce_claims WHERE rowid IN (SELECT rowid FROM nonce_claims WHERE claimed_at <= ? LIMIT ?)',
      context.now() - windowMs,
      sweepChunk,
    );
    return deleted === sweepChunk;
  }
}

/** Replaces the key's claim when its window has passed, adds `owner`'s claim if none holds, and returns the holder. */
function claimKey(context: SqliteContext, key: string, owner: string, windowMs: number): string {
  const now = context.now();
  context.run('DELETE FROM nonce_claims WHERE key = ? AND claimed_at <= ?', key, now - windowMs);
  context.run(
    'INSERT INTO nonce_claims (key, owner, claimed_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING',
    key,
    owner,
    now,
  );
  return context.get<{ owner: string }>('SELECT owner FROM nonce_claims WHERE key = ?', key)!.owner;
}
