import { createPublicKey, hkdfSync, type KeyObject, randomUUID } from 'node:crypto';
import {
  createRemoteJWKSet,
  errors as joseErrors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  type JWTVerifyOptions,
  SignJWT,
} from 'jose';
import type { UserTokenConfig } from '../config.ts';
import { EvqError, describeValue } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';

/** `iss` and `aud` of the tokens that `issueToken` signs; an identity provider's tokens never carry it. */
export const serviceTokenIssuer = 'urn:evq:service';

/** Allowed clock difference between evq instances for service tokens, in seconds. */
export const serviceTokenClockToleranceSeconds = 5;

/** Bounds of `issueToken(ttlSeconds)`. */
export const serviceTokenTtl = { min: 60, max: 24 * 3600, default: 3600 } as const;

/** How long the JWKS is cached before a refetch, in ms. */
const jwksCacheMaxAgeMs = 10 * 60_000;
/** Min time between two JWKS fetches caused by an unknown `kid`, in ms; bounds the fetch rate. */
const jwksCooldownMs = 30_000;
/** How long a JWKS fetch may take, in ms. */
const jwksTimeoutMs = 5000;

/** A token that failed verification; `expired` is true when only its time ran out. */
export class TokenRejected extends Error {
  readonly expired: boolean;

  constructor(reason: string, expired = false) {
    super(reason);
    this.name = 'TokenRejected';
    this.expired = expired;
  }
}

/**
 * Verifies user tokens, the JWTs that the application's identity provider signs, with `jose`. The
 * algorithm must be one of the configured ones. The key comes from the secret (HS*), the PEM
 * public key or the JWKS, which is fetched again for an unknown `kid` at most every 30 s. `iss`,
 * `aud`, `exp` and `nbf` are checked with the configured clock tolerance.
 */
export class UserTokenVerifier {
  readonly #options: JWTVerifyOptions;
  readonly #secret: Uint8Array | null;
  readonly #publicKey: KeyObject | null;
  readonly #jwks: JWTVerifyGetKey | null;
  readonly #logger: Logger;
  /** Allowed clock difference, in ms; a token stays valid this long after its `exp`. */
  readonly clockToleranceMs: number;

  constructor(config: UserTokenConfig, logger: Logger) {
    this.clockToleranceMs = config.clockToleranceSeconds * 1000;
    this.#options = {
      algorithms: config.algorithms,
      issuer: config.issuer,
      audience: config.audience,
      clockTolerance: config.clockToleranceSeconds,
      requiredClaims: ['exp', 'sub'],
    };
    this.#secret = config.secret === null ? null : new TextEncoder().encode(config.secret);
    this.#publicKey = config.publicKey === null ? null : createPublicKey(config.publicKey);
    this.#jwks =
      config.jwksUrl === null
        ? null
        : createRemoteJWKSet(new URL(config.jwksUrl), {
            cacheMaxAge: jwksCacheMaxAgeMs,
            cooldownDuration: jwksCooldownMs,
            timeoutDuration: jwksTimeoutMs,
          });
    this.#logger = logger.child({ component: 'user-tokens' });
  }

  /** Returns the verified claims, or throws TokenRejected with the reason. */
  async verify(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, (header, input) => this.#keyFor(header.alg ?? '', header.kid, header, input), this.#options);
      return payload;
    } catch (error) {
      throw this.#rejection(error);
    }
  }

  #keyFor(
    algorithm: string,
    kid: string | undefined,
    header: Parameters<JWTVerifyGetKey>[0],
    input: Parameters<JWTVerifyGetKey>[1],
  ): Uint8Array | KeyObject | ReturnType<JWTVerifyGetKey> {
    if (algorithm.startsWith('HS')) {
      if (this.#secret === null) throw new TokenRejected(`algorithm ${algorithm} has no configured secret`);
      return this.#secret;
    }
    if (this.#jwks !== null && (kid !== undefined || this.#publicKey === null)) return this.#jwks(header, input);
    if (this.#publicKey !== null) return this.#publicKey;
    throw new TokenRejected(`algorithm ${algorithm} has no configured key`);
  }

  #rejection(error: unknown): Error {
    if (error instanceof TokenRejected) return error;
    if (error instanceof joseErrors.JWTExpired) return new TokenRejected(`the token expired (exp ${String(error.payload.exp)})`, true);
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      return new TokenRejected(`the token's ${error.claim} claim is invalid: ${error.reason === 'check_failed' ? error.message : error.reason}`);
    }
    if (error instanceof joseErrors.JOSEAlgNotAllowed) {
      return new TokenRejected(`the token's algorithm is not allowed; accepted: ${this.#options.algorithms!.join(', ')}`);
    }
    if (error instanceof joseErrors.JWKSNoMatchingKey) return new TokenRejected('no key in the JWKS matches the token\'s kid');
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenRejected('signature verification failed');
    // jose 6 lets the fetch's own TypeError ("fetch failed") through when the JWKS host cannot be reached.
    const fetchFailed = error instanceof TypeError && error.message === 'fetch failed';
    if (fetchFailed || error instanceof joseErrors.JWKSTimeout || (error instanceof joseErrors.JOSEError && error.code === 'ERR_JOSE_GENERIC')) {
      this.#logger.error({ err: error }, 'fetching the JWKS failed');
      return new EvqError('INTERNAL', 'Could not fetch the identity provider\'s JWKS to verify the token; retry later.');
    }
    if (error instanceof joseErrors.JOSEError || error instanceof TypeError) {
      return new TokenRejected(`the token is malformed or uses an unsupported key (${(error as Error).message})`);
    }
    this.#logger.error({ err: error }, 'verifying a user token failed unexpectedly');
    return new EvqError('INTERNAL', 'Verifying the token failed; retry later.');
  }
}

/**
 * Signs and verifies the short-lived HS256 tokens that a service trades its API key for. The key
 * is derived from the master key with HKDF-SHA256, so every instance with the same master key
 * accepts a token that another one issued.
 */
export class ServiceTokens {
  readonly #key: Uint8Array;

  constructor(masterKey: Buffer) {
    this.#key = new Uint8Array(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'evq service token v1', 32));
  }

  /** Returns a token for the service account that expires after `ttlSeconds`. */
  async issue(accountId: string, ttlSeconds: number): Promise<{ token: string; expiresAt: Date }> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < serviceTokenTtl.min || ttlSeconds > serviceTokenTtl.max) {
      throw new EvqError(
        'BAD_USER_INPUT',
        `Invalid ttlSeconds: ${describeValue(ttlSeconds)}; expected an integer from ${serviceTokenTtl.min} to ${serviceTokenTtl.max}.`,
        { field: 'ttlSeconds', value: ttlSeconds, min: serviceTokenTtl.min, max: serviceTokenTtl.max },
      );
    }
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(serviceTokenIssuer)
      .setAudience(serviceTokenIssuer)
      .setSubject(accountId)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(this.#key);
    return { token, expiresAt: new Date((now + ttlSeconds) * 1000) };
  }

  /** Returns the verified claims, or throws TokenRejected. */
  async verify(token: string): Promise<JWTPayload & { sub: string; exp: number }> {
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        issuer: serviceTokenIssuer,
        audience: serviceTokenIssuer,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: serviceTokenClockToleranceSeconds,
      });
      return payload as JWTPayload & { sub: string; exp: number };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new TokenRejected('the service token expired', true);
      if (error instanceof joseErrors.JOSEError) throw new TokenRejected(`the service token is invalid (${error.code})`);
      throw error;
    }
  }
}
