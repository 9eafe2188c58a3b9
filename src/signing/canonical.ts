import { hash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** First line of every canonical string, naming this version of the format. */
export const canonicalVersion = 'evq-v1';

/** The fields that a producer or evq signs. */
export interface SignedFields {
  queue: string;
  id: string;
  /** Unix time in seconds. */
  timestamp: number;
  nonce: string;
  /** The message's JSON payload, parsed. */
  data: unknown;
}

/**
 * Returns the RFC 8785 (JCS) serialization of a JSON value. Throws TypeError for values that JSON
 * cannot carry (NaN, Infinity, lone surrogates).
 */
export function canonicalJson(data: unknown): string {
  const text = canonicalize(data);
  if (text === undefined) throw new TypeError('The value has no JSON form.');
  return text;
}

/** Returns the lowercase hex SHA-256 of the JCS serialization of `data`. */
export function dataDigest(data: unknown): string {
  return hash('sha256', canonicalJson(data), 'hex');
}

/**
 * Returns the canonical string of a producer signature: six lines joined by `\n`.
 * NOTE: the key, headers and deliverAt of a message are not covered (docs/signatures.md).
 */
export function canonicalString(fields: SignedFields): string {
  return [canonicalVersion, fields.queue, fields.id, String(fields.timestamp), fields.nonce, dataDigest(fields.data)].join('\n');
}

/**
 * Returns the string that evq's storage signature covers: the canonical string with an empty
 * nonce, then a line with the producer id (empty when there is none).
 */
export function storageCanonicalString(fields: Omit<SignedFields, 'nonce'>, producer: string | null): string {
  return `${canonicalString({ ...fields, nonce: '' })}\n${producer ?? ''}`;
}
