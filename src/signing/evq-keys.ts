import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { newCredentialId } from '../auth/credentials.ts';
import { ConfigError } from '../config.ts';
import type { SharedRecords } from '../engines/engine.ts';
import type { Logger } from '../observability/logger.ts';
import type { SecretBox } from './secret-box.ts';
import { ed25519PrivateKeyFromSeed, ed25519PublicKeyFromRaw, ed25519RawPublicKey } from './signatures.ts';

/** One of evq's own Ed25519 keys as stored; the seed is sealed with the master key. */
interface EvqKeyRecord {
  kid: string;
  sealedSeed: string;
  /** The 32 raw public key bytes in base64url, as a JWK's `x`. */
  publicKey: string;
  createdAt: number;
  /** When the key became the signing key; null while it is the next key. */
  activatedAt: number | null;
}

/** A JSON Web Key Set (RFC 7517) of Ed25519 public keys. */
export interface Jwks {
  keys: { kty: 'OKP'; crv: 'Ed25519'; x: string; kid: string; alg: 'EdDSA'; use: 'sig' }[];
}

const recordPrefix = 'evq-key/';

/**
 * evq's own Ed25519 keys, shared by every instance through the engine's shared records: the
 * current key signs stored messages, the next key is published in advance, and earlier keys stay
 * so that messages they signed still verify. A rotation makes the next key current; every instance
 * and every consumer that read the JWKS knew it before it signed anything.
 */
export class EvqKeyRing {
  readonly #records: SharedRecords;
  readonly #secretBox: SecretBox;
  readonly #logger: Logger;
  readonly #privateKeys = new Map<string, KeyObject>();
  readonly #publicKeys = new Map<string, KeyObject>();
  readonly #stopFollowing: () => void;
  /** Parsed key records, dropped whenever one of them changes at any instance. */
  #cached: EvqKeyRecord[] | null = null;

  constructor(records: SharedRecords, secretBox: SecretBox, logger: Logger) {
    this.#records = records;
    this.#secretBox = secretBox;
    this.#logger = logger.child({ component: 'evq-keys' });
    this.#stopFollowing = records.onChange((key) => {
      if (key.startsWith(recordPrefix)) this.#cached = null;
    });
  }

  /** Stops following key changes. Idempotent. */
  close(): void {
    this.#stopFollowing();
  }

  /**
   * Creates the current and the next key when they are missing. Call after the engine started.
   * Throws when the current key cannot be opened, which means this instance has another master
   * key than the one that created evq's keys.
   */
  async start(): Promise<void> {
    if (this.#currentRecord() === null) await this.#create(Date.now());
    if (this.#nextRecord() === null) await this.#create(null);
    try {
      this.current();
    } catch (error) {
      const failure = new ConfigError(
        "evq's signing keys were created with another master key; every instance that shares the storage needs the same EVQ_MASTER_KEY.",
      );
      failure.cause = error;
      throw failure;
    }
  }

  /** Returns the key id and private key that sign new messages. */
  current(): { kid: string; privateKey: KeyObject } {
    const record = this.#currentRecord();
    if (record === null) throw new Error('evq has no signing key; EvqKeyRing.start() must run before publishing.');
    let privateKey = this.#privateKeys.get(record.kid);
    if (privateKey === undefined) {
      privateKey = ed25519PrivateKeyFromSeed(this.#secretBox.open(record.sealedSeed, `${recordPrefix}${record.kid}`));
      this.#privateKeys.set(record.kid, privateKey);
    }
    return { kid: record.kid, privateKey };
  }

  /** Returns the public key with this id, or null when evq has no such key. */
  publicKey(kid: string): KeyObject | null {
    let key = this.#publicKeys.get(kid);
    if (key === undefined) {
      const record = this.#read(kid);
      if (record === null) return null;
      key = ed25519PublicKeyFromRaw(Buffer.from(record.publicKey, 'base64url'));
      this.#publicKeys.set(kid, key);
    }
    return key;
  }

  /** Returns every public key: the current one first, then the next one, then earlier ones. */
  jwks(): Jwks {
    const current = this.#currentRecord();
    const next = this.#nextRecord();
    const others = this.#all()
      .filter((record) => record.kid !== current?.kid && record.kid !== next?.kid)
      .sort((a, b) => (b.activatedAt ?? 0) - (a.activatedAt ?? 0));
    return {
      keys: [current, next, ...others]
        .filter((record) => record !== null)
        .map((record) => ({ kty: 'OKP', crv: 'Ed25519', x: record.publicKey, kid: record.kid, alg: 'EdDSA', use: 'sig' })),
    };
  }

  /** Makes the next key current and creates a new next key; returns the new current key id. */
  async rotate(): Promise<string> {
    const next = this.#nextRecord() ?? (await this.#create(null));
    await this.#records.put(`${recordPrefix}${next.kid}`, JSON.stringify({ ...next, activatedAt: Date.now() }));
    await this.#create(null);
    this.#logger.info({ kid: next.kid }, 'rotated evq signing key');
    return next.kid;
  }

  async #create(activatedAt: number | null): Promise<EvqKeyRecord> {
    const { privateKey } = generateKeyPairSync('ed25519');
    const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
    const kid = `evq-${newCredentialId()}`;
    const record: EvqKeyRecord = {
      kid,
      sealedSeed: this.#secretBox.seal(seed, `${recordPrefix}${kid}`),
      publicKey: ed25519RawPublicKey(createPublicKey(privateKey)).toString('base64url'),
      createdAt: Date.now(),
      activatedAt,
    };
    await this.#records.put(`${recordPrefix}${kid}`, JSON.stringify(record));
    this.#logger.info({ kid, current: activatedAt !== null }, 'created evq signing key');
    return record;
  }

  #read(kid: string): EvqKeyRecord | null {
    return this.#all().find((record) => record.kid === kid) ?? null;
  }

  #all(): EvqKeyRecord[] {
    this.#cached ??= this.#records.list(recordPrefix).map((record) => JSON.parse(record.value) as EvqKeyRecord);
    return this.#cached;
  }

  /** The active key activated last; instances that both created one at start agree on it. */
  #currentRecord(): EvqKeyRecord | null {
    const active = this.#all().filter((record) => record.activatedAt !== null);
    active.sort((a, b) => b.activatedAt! - a.activatedAt! || (a.kid < b.kid ? -1 : 1));
    return active[0] ?? null;
  }

  /** The pending key created first. */
  #nextRecord(): EvqKeyRecord | null {
    const pending = this.#all().filter((record) => record.activatedAt === null);
    pending.sort((a, b) => a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : 1));
    return pending[0] ?? null;
  }
}
