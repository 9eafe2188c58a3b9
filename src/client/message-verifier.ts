import { type StoredFields, storageCanonicalString } from './canonical.ts';
import { fromBase64Url } from './encoding.ts';
import { EvqConnectionError, MessageVerificationError, isRetryableStatus } from './errors.ts';
import type { Message } from './operations.ts';
import { type MessageSignature, verifyV1a, verifyV1m } from './signing.ts';

export interface MessageVerifierOptions {
  /** Base URL of the evq server. The verifier reads its keys from `<url>/.well-known/jwks.json`. */
  url: string;
  /** fetch implementation, the global one by default. */
  fetch?: typeof fetch;
  /**
   * Min time in ms between the last fetch of the JWKS and one that an unknown key id causes,
   * 30 000 by default. It bounds the requests that messages signed with unknown keys can cause.
   */
  minRefetchIntervalMs?: number;
  /** Max age of the fetched keys in ms, 600 000 (10 min) by default. Older keys are fetched again before the next verification. */
  maxAgeMs?: number;
}

/**
 * The fields of a message that evq's storage signature covers, and the signature. A `v1m`
 * signature needs its `proof`, which a `v1a` signature does not have. `deliverAt` is the ISO 8601
 * string that evq's GraphQL API returns.
 */
export type VerifiableMessage = Pick<Message, 'queue' | 'id' | 'data' | 'producer' | 'key' | 'headers' | 'deliverAt'> & {
  signature: (MessageSignature & { proof?: string | null }) | null;
  cursor?: string | null;
};

/** The ids that a MessageVerificationError carries. */
type VerificationIds = ConstructorParameters<typeof MessageVerificationError>[2];

interface JsonWebKey {
  kty?: unknown;
  crv?: unknown;
  kid?: unknown;
  x?: unknown;
}

/**
 * Verifies evq's storage signature on received messages with the Ed25519 keys that evq publishes
 * at /.well-known/jwks.json. It caches the keys and fetches them again when they are older than
 * `maxAgeMs`, or when a message names an unknown key id, but then at most once per
 * `minRefetchIntervalMs`. Concurrent verifications share one fetch.
 */
export class MessageVerifier {
  readonly #jwksUrl: string;
  readonly #fetch: typeof fetch;
  readonly #minRefetchIntervalMs: number;
  readonly #maxAgeMs: number;
  #keys = new Map<string, CryptoKey>();
  /** When the last successful fetch started, in ms since the epoch, or null before the first. */
  #fetchedAt: number | null = null;
  /** When the last fetch started, successful or not. */
  #attemptedAt = -Infinity;
  #pending: Promise<void> | null = null;

  constructor(options: MessageVerifierOptions) {
    this.#jwksUrl = `${options.url.replace(/\/+$/, '')}/.well-known/jwks.json`;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#minRefetchIntervalMs = options.minRefetchIntervalMs ?? 30_000;
    this.#maxAgeMs = options.maxAgeMs ?? 600_000;
  }

  /**
   * Resolves when the message carries a valid evq signature: `v1a`, over its storage canonical
   * string, or `v1m`, over the Merkle root that the string and the signature's proof lead to.
   * Rejects with MessageVerificationError when the signature or the proof of a `v1m` signature is
   * missing, the key is not in the JWKS, or the signature does not verify. Rejects with
   * EvqConnectionError when the JWKS cannot be fetched. Throws TypeError when the message lacks
   * `key`, `headers` or `deliverAt`, which the query must request. It does not check the
   * signature's age, because a consumer may receive a message long after evq stored it.
   */
  async verify(message: VerifiableMessage): Promise<void> {
    const ids = { queue: message.queue, messageId: message.id, keyId: message.signature?.keyId ?? null, cursor: message.cursor ?? null };
    const where = `Message ${JSON.stringify(message.id)} in queue ${JSON.stringify(message.queue)}`;
    const signature = message.signature;
    if (signature === null || signature === undefined || signature.value === '') {
      throw new MessageVerificationError('MISSING_SIGNATURE', `${where} has no evq signature; request the signature field with the message.`, ids);
    }
    const isV1m = signature.value.startsWith('v1m=');
    const proof = signature.proof ?? null;
    if (isV1m && (proof === null || proof === '')) {
      throw new MessageVerificationError(
        'MISSING_SIGNATURE',
        `${where} has a v1m signature without its Merkle proof; request signature { proof } with the message.`,
        ids,
      );
    }

    const publicKey = await this.#publicKey(signature.keyId);
    if (publicKey === null) {
      throw new MessageVerificationError(
        'UNKNOWN_KEY_ID',
        `${where} is signed with key ${JSON.stringify(signature.keyId)}, which ${this.#jwksUrl} does not list.`,
        ids,
      );
    }

    const canonical = await storageCanonicalString(
      { queue: message.queue, id: message.id, timestamp: signature.timestamp, data: message.data },
      storedFields(message, where, ids),
    );
    // A v1a signature covers the canonical string itself and comes without a proof. One with a
    // proof is invalid, as in the server's verifyStorageSignature.
    let valid: boolean;
    if (proof === null) valid = await verifyV1a(publicKey, canonical, signature.value);
    else valid = isV1m && (await verifyV1m(publicKey, canonical, signature.value, proof));
    if (!valid) {
      throw new MessageVerificationError(
        'INVALID_SIGNATURE',
        `${where} does not match its evq signature by key ${JSON.stringify(signature.keyId)}: it was changed after evq signed it, ` +
          'or the signature is neither v1a without a proof nor v1m with a valid proof.',
        ids,
      );
    }
  }

  /** Fetches the JWKS now, unless a fetch is under way, and returns the key ids it lists. */
  async refresh(): Promise<string[]> {
    await this.#fetchShared();
    return [...this.#keys.keys()];
  }

  async #publicKey(keyId: string): Promise<CryptoKey | null> {
    if (this.#fetchedAt === null || Date.now() - this.#fetchedAt > this.#maxAgeMs) await this.#fetchShared();
    const key = this.#keys.get(keyId);
    if (key !== undefined) return key;
    if (Date.now() - this.#attemptedAt < this.#minRefetchIntervalMs) return null;
    await this.#fetchShared();
    return this.#keys.get(keyId) ?? null;
  }

  #fetchShared(): Promise<void> {
    this.#pending ??= this.#fetchKeys().finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }

  async #fetchKeys(): Promise<void> {
    const startedAt = Date.now();
    this.#attemptedAt = startedAt;
    let body: { keys?: unknown };
    try {
      const response = await this.#fetch(this.#jwksUrl, { headers: { accept: 'application/jwk-set+json, application/json' } });
      if (!response.ok) {
        const { status } = response;
        throw new EvqConnectionError(`Fetching evq's keys from ${this.#jwksUrl} failed with HTTP ${status}.`, { status, retryable: isRetryableStatus(status) });
      }
      body = (await response.json()) as { keys?: unknown };
    } catch (error) {
      if (error instanceof EvqConnectionError) throw error;
      throw new EvqConnectionError(`Fetching evq's keys from ${this.#jwksUrl} failed: ${(error as Error).message}.`, { retryable: true }, { cause: error });
    }
    this.#keys = await importJwks(body, this.#jwksUrl);
    this.#fetchedAt = startedAt;
  }
}

/**
 * Returns the fields besides the payload that the storage signature covers, with deliverAt in ms.
 * A null `headers` counts as no headers, which evq signs as `{}`.
 */
function storedFields(message: VerifiableMessage, where: string, ids: VerificationIds): StoredFields {
  const missing = (['key', 'headers', 'deliverAt'] as const).filter((field) => message[field] === undefined);
  if (missing.length > 0) {
    throw new TypeError(`${where} is missing ${missing.join(', ')}. Request key, headers and deliverAt with the message, because evq's signature covers them.`);
  }

  let deliverAt: number | null = null;
  if (message.deliverAt !== null) {
    deliverAt = typeof message.deliverAt === 'string' ? Date.parse(message.deliverAt) : Number.NaN;
    if (Number.isNaN(deliverAt)) {
      throw new MessageVerificationError(
        'INVALID_SIGNATURE',
        `${where} has deliverAt ${JSON.stringify(message.deliverAt)}, which is not an ISO 8601 date-time, so it cannot match its evq signature.`,
        ids,
      );
    }
  }
  return { producer: message.producer ?? null, key: message.key, headers: message.headers ?? {}, deliverAt };
}

/** Imports the Ed25519 keys of a JWK set (RFC 7517, RFC 8037), skipping keys of other types. */
async function importJwks(body: { keys?: unknown }, url: string): Promise<Map<string, CryptoKey>> {
  if (!Array.isArray(body.keys)) throw new TypeError(`The JWKS at ${url} has no "keys" array.`);
  const keys = new Map<string, CryptoKey>();
  for (const jwk of body.keys as JsonWebKey[]) {
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') continue;
    const raw = typeof jwk.x === 'string' ? fromBase64Url(jwk.x) : null;
    if (typeof jwk.kid !== 'string' || jwk.kid === '' || raw === null || raw.length !== 32) {
      throw new TypeError(`The JWKS at ${url} has an invalid Ed25519 key ${JSON.stringify(jwk.kid)}: it needs a kid and an x of 32 bytes in base64url.`);
    }
    keys.set(jwk.kid, await globalThis.crypto.subtle.importKey('raw', raw, 'Ed25519', false, ['verify']));
  }
  return keys;
}
