import type { AccessStore } from '../auth/access-store.ts';
import type { NewMessage, NonceClaims, QueueConfig } from '../engines/engine.ts';
import { EvqError, describeValue, errors } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { PublishInput } from '../queues/validation.ts';
import { canonicalString } from './canonical.ts';
import type { ProducerKeys } from './producer-keys.ts';
import { verifyV1, verifyV1a } from './signatures.ts';

/** A producer signature as `PublishInput.signature` carries it. */
export interface ProducerSignature {
  keyId: string;
  /** Unix time in seconds. */
  timestamp: number;
  nonce: string;
  value: string;
}

export interface ProducerSignatureOptions {
  queueKeys: AccessStore;
  producerKeys: ProducerKeys;
  nonces: NonceClaims;
  /** How far a signature's timestamp may be from evq's clock, in seconds. */
  maxSkewSeconds: number;
  metrics: Metrics;
  logger: Logger;
}

type SignatureErrorCode = 'SIGNATURE_INVALID' | 'SIGNATURE_EXPIRED' | 'REPLAYED';

/**
 * Checks producer signatures on publish: `v1` HMAC-SHA256 with a queue key's secret and `v1a`
 * Ed25519 with a registered key. It also checks the timestamp against evq's clock, and that no
 * other message used the same (keyId, nonce) within the window at any instance on the storage.
 * Each rejection is counted in `evq_signature_rejections_total` and logged with the key id.
 */
export class ProducerSignatures {
  readonly #options: ProducerSignatureOptions;
  readonly #logger: Logger;

  /** How long a signature with a given timestamp is accepted, in seconds: twice the allowed skew. */
  readonly windowSeconds: number;

  constructor(options: ProducerSignatureOptions) {
    this.#options = options;
    this.windowSeconds = 2 * options.maxSkewSeconds;
    this.#logger = options.logger.child({ component: 'producer-signatures' });
  }

  /**
   * Throws SIGNATURE_INVALID, SIGNATURE_EXPIRED or REPLAYED for the first message of a batch that
   * fails, so nothing of the batch is stored. Messages without a signature pass unless the queue
   * requires signatures. `messages` are the validated forms of `inputs`, in the same order.
   */
  async verify(queue: QueueConfig, inputs: PublishInput[], messages: NewMessage[], now: number): Promise<void> {
    const signed: { id: string; signature: ProducerSignature }[] = [];
    for (const [index, input] of inputs.entries()) {
      const where = inputs.length === 1 ? '' : `messages[${index}].`;
      const signature = input.signature ?? null;
      if (signature === null) {
        if (queue.requireSignature) {
          throw this.#reject('SIGNATURE_INVALID', queue.name, null, messages[index]!.id, `queue ${describeValue(queue.name)} requires signed messages`);
        }
        continue;
      }
      checkShape(signature, where);
      if (input.id == null) {
        throw new EvqError('BAD_USER_INPUT', `Missing ${where}id: a signed message needs an id, because its signature covers the id.`, {
          field: `${where}id`,
        });
      }
      const id = messages[index]!.id;
      this.#verifyOne(queue.name, id, input.data, signature, now);
      signed.push({ id, signature });
    }
    // Nonces are claimed only once every signature verified, and every claim is awaited, so no
    // claim of a rejected batch is left running without a handler.
    const outcomes = await Promise.allSettled(signed.map(({ id, signature }) => this.#claimNonce(queue.name, id, signature)));
    const failure = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failure) throw failure.reason;
  }

  #verifyOne(queue: string, id: string, data: unknown, signature: ProducerSignature, now: number): void {
    const canonical = canonicalString({ queue, id, timestamp: signature.timestamp, nonce: signature.nonce, data });
    const problem = signature.value.startsWith('v1=')
      ? this.#checkV1(queue, canonical, signature)
      : signature.value.startsWith('v1a=')
        ? this.#checkV1a(queue, canonical, signature)
        : 'the value must start with v1= or v1a=';
    if (problem !== null) throw this.#reject('SIGNATURE_INVALID', queue, signature.keyId, id, problem);

    const skew = Math.abs(now / 1000 - signature.timestamp);
    if (skew > this.#options.maxSkewSeconds) {
      throw this.#reject(
        'SIGNATURE_EXPIRED',
        queue,
        signature.keyId,
        id,
        `timestamp ${signature.timestamp} is ${Math.round(skew)} s from evq's clock, more than the ${this.#options.maxSkewSeconds} s allowed`,
      );
    }
  }

  #checkV1(queue: string, canonical: string, signature: ProducerSignature): string | null {
    const key = this.#options.queueKeys.queueKey(signature.keyId);
    if (key === null) return `no queue key has id ${describeValue(signature.keyId)}`;
    if (key.queue !== queue) return `queue key ${describeValue(signature.keyId)} belongs to another queue`;
    if (key.revokedAt !== null) return `queue key ${describeValue(signature.keyId)} is revoked`;
    if (!key.actions.includes('PUBLISH')) return `queue key ${describeValue(signature.keyId)} does not grant PUBLISH, so it cannot sign messages`;
    const secrets = this.#options.queueKeys.signingSecrets(key.id);
    if (secrets.length === 0) return `queue key ${describeValue(signature.keyId)} has expired or has no secret for signing; rotate it`;
    return secrets.some((secret) => verifyV1(secret, canonical, signature.value)) ? null : 'the HMAC does not match';
  }

  #checkV1a(queue: string, canonical: string, signature: ProducerSignature): string | null {
    const key = this.#options.producerKeys.get(signature.keyId);
    if (key === null) return `no signing key has id ${describeValue(signature.keyId)}`;
    if (key.queue !== queue) return `signing key ${describeValue(signature.keyId)} belongs to another queue`;
    if (key.revokedAt !== null) return `signing key ${describeValue(signature.keyId)} is revoked`;
    return verifyV1a(this.#options.producerKeys.keyObject(key), canonical, signature.value) ? null : 'the Ed25519 signature does not verify';
  }

  async #claimNonce(queue: string, id: string, signature: ProducerSignature): Promise<void> {
    // A nonce stays claimed for twice the skew, the span of evq clock times that accept its timestamp.
    const windowMs = this.windowSeconds * 1000;
    const owner = await this.#options.nonces.claim(`${signature.keyId}\n${signature.nonce}`, id, windowMs);
    if (owner !== id) {
      throw this.#reject('REPLAYED', queue, signature.keyId, id, `nonce ${describeValue(signature.nonce)} already signed message ${describeValue(owner)}`);
    }
  }

  #reject(code: SignatureErrorCode, queue: string, keyId: string | null, id: string, reason: string): EvqError {
    this.#options.metrics.signatureRejections.inc({ queue, code });
    this.#logger.warn({ queue, keyId, id, code, reason }, 'signature rejected');
    return new EvqError(code, `Signature rejected: ${reason}.`, { queue, keyId, id });
  }
}

function checkShape(signature: ProducerSignature, where: string): void {
  const field = `${where}signature`;
  if (typeof signature.keyId !== 'string' || signature.keyId.length === 0 || signature.keyId.length > 256) {
    throw errors.invalidInput(`${field}.keyId`, signature.keyId, 'a key id of 1 to 256 characters');
  }
  if (!Number.isSafeInteger(signature.timestamp) || signature.timestamp < 0) {
    throw errors.invalidInput(`${field}.timestamp`, signature.timestamp, 'unix time in whole seconds');
  }
  if (typeof signature.nonce !== 'string' || signature.nonce.length === 0 || signature.nonce.length > 256 || signature.nonce.includes('\n')) {
    throw errors.invalidInput(`${field}.nonce`, signature.nonce, 'a nonce of 1 to 256 characters without a newline');
  }
  if (typeof signature.value !== 'string' || signature.value.length > 1024) {
    throw new EvqError('SIGNATURE_INVALID', `Signature rejected: ${field}.value must be a string of at most 1024 characters.`, { field: `${field}.value` });
  }
}
