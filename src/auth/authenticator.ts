import { hash, timingSafeEqual } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import { EvqError, errors, isEvqError } from '../errors.ts';
import { type AccessStore, queueKeyRecord, serviceAccountRecord } from './access-store.ts';
import type { AuditLog } from './audit.ts';
import { apiKeyPrefix, credentialMatches, parseCredential, queueKeyPrefix } from './credentials.ts';
import { parseGrants } from './grants.ts';
import { adminPrincipal, type Grant, type Principal } from './principal.ts';
import {
  type ServiceTokens,
  TokenRejected,
  type UserTokenVerifier,
  serviceTokenClockToleranceSeconds,
  serviceTokenIssuer,
} from './tokens.ts';

/** Transport and request of a credential, for the audit log. */
export interface CredentialSource {
  transport: 'http' | 'websocket';
  requestId?: string | undefined;
  remote?: string | undefined;
}

export interface AuthenticatorOptions {
  adminToken: string;
  store: AccessStore;
  serviceTokens: ServiceTokens;
  /** Null when no user-token key source is configured. */
  userTokens: UserTokenVerifier | null;
  audit: AuditLog;
}

/** A failed authentication before it is turned into an UNAUTHENTICATED error. */
interface Rejection {
  credential: string;
  id?: string | undefined;
  reason: string;
  expired?: boolean;
}

/**
 * Turns a bearer credential into a principal: the admin token, a service account's API key
 * (`evq_sk_…`), a queue key (`evq_qk_…`), a service token from `issueToken`, or a user token from
 * the application's identity provider. Every rejection is written to the audit log.
 */
export class Authenticator {
  readonly #adminDigest: Buffer;
  readonly #store: AccessStore;
  readonly #serviceTokens: ServiceTokens;
  readonly #userTokens: UserTokenVerifier | null;
  readonly #audit: AuditLog;

  constructor(options: AuthenticatorOptions) {
    this.#adminDigest = digest(options.adminToken);
    this.#store = options.store;
    this.#serviceTokens = options.serviceTokens;
    this.#userTokens = options.userTokens;
    this.#audit = options.audit;
  }

  /**
   * Returns the principal for an `Authorization` header value (`Bearer <token>`), or for a bare
   * token as graphql-ws connection params may carry it. Throws UNAUTHENTICATED, with
   * `details.expired: true` when the credential was valid until its time ran out.
   */
  async authenticate(authorization: unknown, source: CredentialSource): Promise<Principal> {
    const token = bearerToken(authorization);
    if (token === null) {
      throw this.#reject({ credential: 'none', reason: 'missing bearer token; send Authorization: Bearer <token>' }, source);
    }
    const result = await this.#principalFor(token);
    if ('reason' in result) throw this.#reject(result, source);
    return result;
  }

  async #principalFor(token: string): Promise<Principal | Rejection> {
    if (timingSafeEqual(digest(token), this.#adminDigest)) return adminPrincipal;
    if (token.startsWith(apiKeyPrefix)) return this.#apiKeyPrincipal(token);
    if (token.startsWith(queueKeyPrefix)) return this.#queueKeyPrincipal(token);
    if (token.split('.').length !== 3) return { credential: 'unknown', reason: 'the bearer token is not valid' };

    let claims: JWTPayload;
    try {
      decodeProtectedHeader(token);
      claims = decodeJwt(token);
    } catch {
      return { credential: 'unknown', reason: 'the bearer token is not a well-formed JWT' };
    }
    try {
      return claims.iss === serviceTokenIssuer ? await this.#serviceTokenPrincipal(token) : await this.#userPrincipal(token, claims);
    } catch (error) {
      if (!(error instanceof TokenRejected)) throw error;
      const credential = claims.iss === serviceTokenIssuer ? 'service token' : 'user token';
      return { credential, id: typeof claims.sub === 'string' ? claims.sub : undefined, reason: error.message, expired: error.expired };
    }
  }

  #apiKeyPrincipal(token: string): Principal | Rejection {
    const parsed = parseCredential(apiKeyPrefix, token);
    const account = parsed === null ? null : this.#store.serviceAccount(parsed.id);
    if (parsed === null || account === null || !credentialMatches(token, account.digest)) {
      return { credential: 'api key', id: parsed?.id, reason: 'the API key is not valid or its service account was deleted' };
    }
    return servicePrincipal(account.id, account.grants, 'apiKey', null, {});
  }

  async #serviceTokenPrincipal(token: string): Promise<Principal | Rejection> {
    const claims = await this.#serviceTokens.verify(token);
    const account = this.#store.serviceAccount(claims.sub);
    if (account === null) return { credential: 'service token', id: claims.sub, reason: 'the service account was deleted' };
    return servicePrincipal(account.id, account.grants, 'serviceToken', (claims.exp + serviceTokenClockToleranceSeconds) * 1000, claims);
  }

  #queueKeyPrincipal(token: string): Principal | Rejection {
    const parsed = parseCredential(queueKeyPrefix, token);
    const key = parsed === null ? null : this.#store.queueKey(parsed.id);
    const rejection = (reason: string, expired = false): Rejection => ({ credential: 'queue key', id: parsed?.id, reason, expired });
    if (parsed === null || key === null) return rejection('the queue key is not valid');
    if (key.revokedAt !== null) return rejection('the queue key was revoked');
    const now = Date.now();
    if (key.expiresAt !== null && key.expiresAt <= now) return rejection('the queue key expired', true);
    const secret = key.secrets.find((entry) => credentialMatches(token, entry.digest));
    if (secret === undefined) return rejection('the queue key is not valid');
    if (secret.validUntil !== null && secret.validUntil <= now) {
      return rejection('this secret of the queue key was replaced by a rotation and its grace period ended', true);
    }
    const ends = [key.expiresAt, secret.validUntil].filter((time) => time !== null);
    return {
      kind: 'queueKey',
      credentialType: 'queueKey',
      id: `queue-key:${key.id}`,
      subject: key.id,
      grants: [{ queue: key.queue, actions: key.actions, key: null }],
      roles: [],
      claims: {},
      expiresAt: ends.length === 0 ? null : Math.min(...ends),
      credential: queueKeyRecord(key.id),
    };
  }

  async #userPrincipal(token: string, unverified: JWTPayload): Promise<Principal | Rejection> {
    if (this.#userTokens === null) {
      return {
        credential: 'user token',
        id: typeof unverified.sub === 'string' ? unverified.sub : undefined,
        reason: 'user tokens are not accepted because no EVQ_AUTH_JWT_SECRET, EVQ_AUTH_PUBLIC_KEY or EVQ_AUTH_JWKS_URL is configured',
      };
    }
    const claims = await this.#userTokens.verify(token);
    if (typeof claims.sub !== 'string' || claims.sub.length === 0) {
      return { credential: 'user token', reason: "the token's sub claim is not a non-empty string" };
    }
    const subject = claims.sub;
    let access: { grants: Grant[]; roles: string[] };
    try {
      access = parseEvqClaim(claims.evq);
    } catch (error) {
      if (!isEvqError(error)) throw error;
      return { credential: 'user token', id: subject, reason: `the token's evq claim is invalid: ${error.message.replace(/\.+$/, '')}` };
    }
    const { grants, roles } = access;
    for (const role of roles) grants.push(...(this.#store.roleGrants(role)?.grants ?? []));
    return {
      kind: 'user',
      credentialType: 'userToken',
      id: `user:${subject}`,
      subject,
      grants,
      roles,
      claims,
      // The verifier accepts the token until exp plus the clock tolerance, so sessions end then too.
      expiresAt: claims.exp! * 1000 + this.#userTokens.clockToleranceMs,
      credential: null,
    };
  }

  #reject(rejection: Rejection, source: CredentialSource): EvqError {
    this.#audit.rejected({ credential: rejection.credential, id: rejection.id, reason: rejection.reason, ...source });
    return new EvqError('UNAUTHENTICATED', `Authentication failed: ${rejection.reason}.`, rejection.expired ? { expired: true } : {});
  }
}

/**
 * Reads a user token's `evq` claim, `{ grants?: Grant[], roles?: string[] }`; an absent claim
 * gives neither. Throws BAD_USER_INPUT naming the invalid part, so the token is rejected rather
 * than accepted with less access than its issuer meant.
 */
function parseEvqClaim(claim: unknown): { grants: Grant[]; roles: string[] } {
  if (claim === undefined) return { grants: [], roles: [] };
  if (typeof claim !== 'object' || claim === null || Array.isArray(claim)) {
    throw errors.invalidInput('evq', claim, 'an object { grants, roles }');
  }
  const { grants, roles } = claim as { grants?: unknown; roles?: unknown };
  if (roles !== undefined && (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string'))) {
    throw errors.invalidInput('evq.roles', roles, 'a list of role names');
  }
  return { grants: grants === undefined ? [] : parseGrants(grants, 'evq.grants'), roles: (roles as string[] | undefined) ?? [] };
}

function servicePrincipal(
  id: string,
  grants: Grant[],
  credentialType: 'apiKey' | 'serviceToken',
  expiresAt: number | null,
  claims: Record<string, unknown>,
): Principal {
  return {
    kind: 'service',
    credentialType,
    id: `service:${id}`,
    subject: id,
    grants,
    roles: [],
    claims,
    expiresAt,
    credential: serviceAccountRecord(id),
  };
}

/** Returns the token of `Bearer <token>` or of a bare token, or null when there is none. */
function bearerToken(authorization: unknown): string | null {
  if (typeof authorization !== 'string') return null;
  const text = authorization.trim();
  if (text === '') return null;
  const match = /^Bearer\s+(\S+)$/i.exec(text);
  if (match) return match[1]!;
  return /^Bearer$/i.test(text) ? null : text;
}

function digest(token: string): Buffer {
  return hash('sha256', token, 'buffer');
}
