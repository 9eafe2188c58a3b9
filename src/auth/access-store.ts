import type { SharedRecords } from '../engines/engine.ts';
import { EvqError, describeValue, errors } from '../errors.ts';
import type { SecretBox } from '../signing/secret-box.ts';
import type { AuditLog } from './audit.ts';
import { apiKeyPrefix, digestCredential, newCredential, newCredentialId, queueKeyPrefix } from './credentials.ts';
import type { Grant, Principal, QueueAction } from './principal.ts';

/** A service account as stored; `digest` is the SHA-256 of its API key. */
export interface ServiceAccount {
  id: string;
  name: string;
  grants: Grant[];
  digest: string;
  createdAt: number;
  createdBy: string;
}

/** One secret of a queue key; after a rotation the previous one stays valid until `validUntil`. */
export interface QueueKeySecretRecord {
  digest: string;
  /** The secret sealed with the master key, for checking HMAC signatures; null for keys stored before sealing existed. */
  sealed?: string | null;
  /** End of the grace period, in ms since the epoch; null for the current secret. */
  validUntil: number | null;
}

/** A queue key as stored. */
export interface QueueKey {
  id: string;
  queue: string;
  actions: QueueAction[];
  /** In ms since the epoch; null when the key does not expire. */
  expiresAt: number | null;
  secrets: QueueKeySecretRecord[];
  createdAt: number;
  createdBy: string;
  /** In ms since the epoch; null while the key is in force. */
  revokedAt: number | null;
}

/** The grants that `setRoleGrants` gave a role named in user tokens. */
export interface RoleGrants {
  role: string;
  grants: Grant[];
  updatedAt: number;
}

/** Called when a stored credential changed or was deleted, with its record key (`Principal.credential`). */
export type CredentialListener = (credential: string) => void;

const serviceAccountPrefix = 'service-account/';
const queueKeyRecordPrefix = 'queue-key/';
const rolePrefix = 'role/';
const rolePattern = /^[A-Za-z0-9._:@-]{1,128}$/;
const accountNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Returns the shared-record key of a service account. */
export function serviceAccountRecord(id: string): string {
  return `${serviceAccountPrefix}${id}`;
}

/** Returns the shared-record key of a queue key. */
export function queueKeyRecord(id: string): string {
  return `${queueKeyRecordPrefix}${id}`;
}

/**
 * Service accounts, queue keys and role grants, kept in the engine's shared records so that a
 * change made at one evq instance on a Kafka cluster reaches the others within a second. Reads are synchronous from
 * memory, so authenticating a request costs no I/O. Every change is written to the audit log.
 */
export class AccessStore {
  readonly #records: SharedRecords;
  readonly #audit: AuditLog;
  readonly #listeners = new Set<CredentialListener>();
  readonly #unsubscribe: () => void;

  readonly #secretBox: SecretBox;

  constructor(records: SharedRecords, audit: AuditLog, secretBox: SecretBox) {
    this.#records = records;
    this.#audit = audit;
    this.#secretBox = secretBox;
    this.#unsubscribe = records.onChange((key) => this.#onRecordChange(key));
  }

  /** Stops following changes. Idempotent. */
  close(): void {
    this.#unsubscribe();
    this.#listeners.clear();
  }

  /**
   * Registers a listener for changes to service accounts and queue keys made at any instance, such
   * as a deleted account or a revoked or rotated key, so that open sessions can be checked again.
   */
  onCredentialChange(listener: CredentialListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  serviceAccount(id: string): ServiceAccount | null {
    return this.#read<ServiceAccount>(serviceAccountRecord(id));
  }

  serviceAccounts(): ServiceAccount[] {
    return this.#list<ServiceAccount>(serviceAccountPrefix).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Creates a service account and returns it with its API key, which is not stored and not shown again. */
  async createServiceAccount(name: string, grants: Grant[], actor: Principal): Promise<{ account: ServiceAccount; apiKey: string }> {
    if (!accountNamePattern.test(name)) {
      throw errors.invalidInput('name', name, "1 to 128 of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit");
    }
    if (this.serviceAccounts().some((account) => account.name === name)) {
      throw new EvqError('BAD_USER_INPUT', `A service account named ${describeValue(name)} already exists.`, { field: 'name', value: name });
    }
    const id = newCredentialId();
    const apiKey = newCredential(apiKeyPrefix, id);
    const account: ServiceAccount = { id, name, grants, digest: digestCredential(apiKey), createdAt: Date.now(), createdBy: actor.id };
    await this.#records.put(serviceAccountRecord(id), JSON.stringify(account));
    this.#audit.changed('created', 'service account', id, actor, { name });
    return { account, apiKey };
  }

  /** Deletes a service account; its API key and issued tokens stop working. Returns false when it did not exist. */
  async deleteServiceAccount(id: string, actor: Principal): Promise<boolean> {
    if (this.serviceAccount(id) === null) return false;
    await this.#records.delete(serviceAccountRecord(id));
    this.#audit.changed('deleted', 'service account', id, actor, {});
    return true;
  }

  queueKey(id: string): QueueKey | null {
    return this.#read<QueueKey>(queueKeyRecord(id));
  }

  /** Returns the queue keys of a queue, revoked ones included, oldest first. */
  queueKeys(queue: string): QueueKey[] {
    return this.#list<QueueKey>(queueKeyRecordPrefix)
      .filter((key) => key.queue === queue)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Creates a queue key and returns it with its secret, which is not stored and not shown again. */
  async createQueueKey(
    queue: string,
    actions: QueueAction[],
    expiresAt: Date | null,
    actor: Principal,
  ): Promise<{ key: QueueKey; secret: string }> {
    if (expiresAt !== null && expiresAt.getTime() <= Date.now()) {
      throw errors.invalidInput('expiresAt', expiresAt.toISOString(), 'a time in the future');
    }
    const id = newCredentialId();
    const secret = newCredential(queueKeyPrefix, id);
    const key: QueueKey = {
      id,
      queue,
      actions: [...new Set(actions)],
      expiresAt: expiresAt?.getTime() ?? null,
      secrets: [this.#secretRecord(id, secret)],
      createdAt: Date.now(),
      createdBy: actor.id,
      revokedAt: null,
    };
    await this.#records.put(queueKeyRecord(id), JSON.stringify(key));
    this.#audit.changed('created', 'queue key', id, actor, { queue, actions: key.actions });
    return { key, secret };
  }

  /**
   * Gives a queue key a new secret. The previous secret keeps working for `graceSeconds`, so
   * producers can switch without failed requests; secrets of earlier rotations end now.
   */
  async rotateQueueKey(id: string, graceSeconds: number, actor: Principal): Promise<{ key: QueueKey; secret: string }> {
    const current = this.requireActiveQueueKey(id);
    const now = Date.now();
    const previous = current.secrets.find((entry) => entry.validUntil === null);
    const secret = newCredential(queueKeyPrefix, id);
    const key: QueueKey = {
      ...current,
      secrets: [
        this.#secretRecord(id, secret),
        ...(previous && graceSeconds > 0 ? [{ ...previous, validUntil: now + graceSeconds * 1000 }] : []),
      ],
    };
    await this.#records.put(queueKeyRecord(id), JSON.stringify(key));
    this.#audit.changed('rotated', 'queue key', id, actor, { queue: key.queue, graceSeconds });
    return { key, secret };
  }

  /** Revokes a queue key at once, including secrets in a rotation's grace period. Returns false when it was already revoked. */
  async revokeQueueKey(id: string, actor: Principal): Promise<boolean> {
    const current = this.queueKey(id);
    if (current === null) throw queueKeyNotFound(id);
    if (current.revokedAt !== null) return false;
    const key: QueueKey = { ...current, revokedAt: Date.now() };
    await this.#records.put(queueKeyRecord(id), JSON.stringify(key));
    this.#audit.changed('revoked', 'queue key', id, actor, { queue: key.queue });
    return true;
  }

  /**
   * Revokes every key of a queue, for a deleted queue: a queue created later with the same name
   * must not accept the old keys. Returns how many keys were revoked.
   */
  async revokeQueueKeys(queue: string, actor: Principal): Promise<number> {
    const active = this.queueKeys(queue).filter((key) => key.revokedAt === null);
    for (const key of active) await this.revokeQueueKey(key.id, actor);
    return active.length;
  }

  /**
   * Returns the secrets of a queue key that sign messages now: the current one and, during a
   * rotation's grace period, the previous one. Empty for an unknown, revoked or expired key.
   */
  signingSecrets(id: string, now = Date.now()): string[] {
    const key = this.queueKey(id);
    if (key === null || key.revokedAt !== null || (key.expiresAt !== null && key.expiresAt <= now)) return [];
    return key.secrets
      .filter((entry) => entry.sealed != null && (entry.validUntil === null || entry.validUntil > now))
      .map((entry) => this.#secretBox.open(entry.sealed!, queueKeyRecord(id)).toString('utf8'));
  }

  #secretRecord(id: string, secret: string): QueueKeySecretRecord {
    return { digest: digestCredential(secret), sealed: this.#secretBox.seal(secret, queueKeyRecord(id)), validUntil: null };
  }

  /** Returns the queue key, or throws BAD_USER_INPUT when it does not exist or is revoked. */
  requireActiveQueueKey(id: string): QueueKey {
    const key = this.queueKey(id);
    if (key === null) throw queueKeyNotFound(id);
    if (key.revokedAt !== null) {
      throw new EvqError('BAD_USER_INPUT', `Queue key ${describeValue(id)} is revoked.`, { field: 'id', value: id });
    }
    return key;
  }

  roleGrants(role: string): RoleGrants | null {
    return this.#read<RoleGrants>(`${rolePrefix}${role}`);
  }

  allRoleGrants(): RoleGrants[] {
    return this.#list<RoleGrants>(rolePrefix).sort((a, b) => a.role.localeCompare(b.role));
  }

  /**
   * Sets the grants of a role; an empty list removes the role's entry.
   * NOTE: subscriptions that are open already keep the grants they were checked with.
   */
  async setRoleGrants(role: string, grants: Grant[], actor: Principal): Promise<RoleGrants> {
    if (!rolePattern.test(role)) {
      throw errors.invalidInput('role', role, "1 to 128 of A-Z, a-z, 0-9, '.', '_', ':', '@' and '-'");
    }
    const entry: RoleGrants = { role, grants, updatedAt: Date.now() };
    if (grants.length === 0) await this.#records.delete(`${rolePrefix}${role}`);
    else await this.#records.put(`${rolePrefix}${role}`, JSON.stringify(entry));
    this.#audit.changed('updated', 'role grants', role, actor, { grants: grants.length });
    return entry;
  }

  #read<T>(key: string): T | null {
    const value = this.#records.get(key);
    return value === null ? null : (JSON.parse(value) as T);
  }

  #list<T>(prefix: string): T[] {
    return this.#records.list(prefix).map((record) => JSON.parse(record.value) as T);
  }

  #onRecordChange(key: string): void {
    if (!key.startsWith(serviceAccountPrefix) && !key.startsWith(queueKeyRecordPrefix)) return;
    for (const listener of this.#listeners) listener(key);
  }
}

function queueKeyNotFound(id: string): EvqError {
  return new EvqError('BAD_USER_INPUT', `Queue key ${describeValue(id)} was not found.`, { field: 'id', value: id });
}
