import { createPublicKey, type KeyObject } from 'node:crypto';
import type { AuditLog } from '../auth/audit.ts';
import { newCredentialId } from '../auth/credentials.ts';
import type { Principal } from '../auth/principal.ts';
import type { SharedRecords } from '../engines/engine.ts';
import { EvqError, describeValue, errors } from '../errors.ts';
import { ed25519PublicKeyFromRaw, ed25519RawPublicKey } from './signatures.ts';

/** An Ed25519 public key that a producer registered to sign a queue's messages (`v1a`). */
export interface ProducerKey {
  id: string;
  queue: string;
  /** The 32 raw key bytes in standard base64. */
  publicKey: string;
  createdAt: number;
  createdBy: string;
  /** In ms since the epoch; null while the key is in force. */
  revokedAt: number | null;
}

const recordPrefix = 'producer-key/';

/** Producer signing keys, kept in the engine's shared records so every instance reads them. */
export class ProducerKeys {
  readonly #records: SharedRecords;
  readonly #audit: AuditLog;
  readonly #keyObjects = new Map<string, KeyObject>();

  constructor(records: SharedRecords, audit: AuditLog) {
    this.#records = records;
    this.#audit = audit;
  }

  get(id: string): ProducerKey | null {
    const value = this.#records.get(`${recordPrefix}${id}`);
    return value === null ? null : (JSON.parse(value) as ProducerKey);
  }

  /** Returns a queue's keys, revoked ones included, oldest first. */
  list(queue: string): ProducerKey[] {
    return this.#records
      .list(recordPrefix)
      .map((record) => JSON.parse(record.value) as ProducerKey)
      .filter((key) => key.queue === queue)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * Registers an Ed25519 public key, given as a PEM (SPKI) or as the 32 raw bytes in base64 or
   * base64url. Throws BAD_USER_INPUT for anything else.
   */
  async register(queue: string, publicKey: string, actor: Principal): Promise<ProducerKey> {
    const key: ProducerKey = {
      id: newCredentialId(),
      queue,
      publicKey: ed25519RawPublicKey(parsePublicKey(publicKey)).toString('base64'),
      createdAt: Date.now(),
      createdBy: actor.id,
      revokedAt: null,
    };
    await this.#records.put(`${recordPrefix}${key.id}`, JSON.stringify(key));
    this.#audit.changed('registered', 'signing key', key.id, actor, { queue });
    return key;
  }

  /** Revokes a key at once; returns false when it was already revoked. */
  async revoke(id: string, actor: Principal): Promise<boolean> {
    const current = this.get(id);
    if (current === null) {
      throw new EvqError('BAD_USER_INPUT', `Signing key ${describeValue(id)} was not found.`, { field: 'id', value: id });
    }
    if (current.revokedAt !== null) return false;
    await this.#records.put(`${recordPrefix}${id}`, JSON.stringify({ ...current, revokedAt: Date.now() }));
    this.#audit.changed('revoked', 'signing key', id, actor, { queue: current.queue });
    return true;
  }

  /** Revokes every signing key of a deleted queue, so a queue created later with its name does not accept them. */
  async revokeAll(queue: string, actor: Principal): Promise<number> {
    const active = this.list(queue).filter((key) => key.revokedAt === null);
    for (const key of active) await this.revoke(key.id, actor);
    return active.length;
  }

  /** Returns the key as a KeyObject for verification, cached by id. */
  keyObject(key: ProducerKey): KeyObject {
    let object = this.#keyObjects.get(key.id);
    if (object === undefined) {
      object = ed25519PublicKeyFromRaw(Buffer.from(key.publicKey, 'base64'));
      this.#keyObjects.set(key.id, object);
    }
    return object;
  }
}

function parsePublicKey(text: string): KeyObject {
  const expected = 'an Ed25519 public key as PEM (SPKI) or as 32 bytes in base64';
  if (typeof text !== 'string') throw errors.invalidInput('publicKey', text, expected);
  let key: KeyObject;
  try {
    key = text.includes('-----BEGIN') ? createPublicKey(text) : ed25519PublicKeyFromRaw(Buffer.from(text.trim(), 'base64url'));
  } catch {
    throw errors.invalidInput('publicKey', text, expected);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw errors.invalidInput('publicKey', text, expected);
  return key;
}
