/** An action that a grant allows on a queue. */
export type QueueAction = 'PUBLISH' | 'CONSUME' | 'MANAGE';

export const queueActions: readonly QueueAction[] = ['PUBLISH', 'CONSUME', 'MANAGE'];

/**
 * Permission to act on the queues whose names match `queue`. `queue` is a pattern where `*` matches
 * any run of characters. `key`, when set, is a template such as `user-${sub}` that the message
 * keys of the caller's publishes and subscriptions must match once its variables are filled in.
 */
export interface Grant {
  queue: string;
  actions: QueueAction[];
  key: string | null;
}

export type PrincipalKind = 'admin' | 'user' | 'service' | 'queueKey';

/** The kind of credential that a principal presented. */
export type CredentialType = 'adminToken' | 'apiKey' | 'serviceToken' | 'userToken' | 'queueKey';

/** The caller of an operation, built by the authenticator from its credential. */
export interface Principal {
  kind: PrincipalKind;
  /** A service presents its API key or a token from `issueToken`; the other kinds have one credential type each. */
  credentialType: CredentialType;
  /**
   * Stable id recorded as a message's `producer`: `admin`, `user:<sub>`, `service:<account id>` or
   * `queue-key:<key id>`.
   */
  id: string;
  /** The token's `sub` for users, the account id for services, the key id for queue keys. */
  subject: string;
  /** Grants in force for this principal; the admin needs none. */
  grants: Grant[];
  /** Roles named in a user token's `evq.roles` claim. */
  roles: string[];
  /** Claims of a user or service token, for key templates; empty for keys and the admin. */
  claims: Record<string, unknown>;
  /** When the credential stops being valid, in ms since the epoch; null when it does not expire. */
  expiresAt: number | null;
  /**
   * Shared-record key of the stored credential (a service account or queue key). Its deletion or
   * revocation ends this principal's open sockets. Null for user tokens and the admin.
   */
  credential: string | null;
}

/** The bootstrap admin, allowed every operation. */
export const adminPrincipal: Principal = Object.freeze({
  kind: 'admin',
  credentialType: 'adminToken',
  id: 'admin',
  subject: 'admin',
  grants: [],
  roles: [],
  claims: {},
  expiresAt: null,
  credential: null,
}) as Principal;
