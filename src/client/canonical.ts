/**
 * The canonical strings that producer and evq signatures cover (docs/signatures.md), computed with
 * WebCrypto so they run in browsers. They match src/signing/canonical.ts byte for byte, and both
 * pass sdk/vectors/signatures.json.
 */
import canonicalize from 'canonicalize';
import { toHex, utf8Bytes } from './encoding.ts';

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
 * Returns the RFC 8785 (JCS) serialization of a JSON value. Throws for values that JSON cannot
 * carry (undefined, NaN, Infinity, lone surrogates).
 */
export function canonicalJson(data: unknown): string {
  const text = canonicalize(data);
  if (text === undefined) throw new TypeError('The value has no JSON form.');
  return text;
}

/** Returns the lowercase hex SHA-256 of the JCS serialization of `data`. */
export async function dataDigest(data: unknown): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', utf8Bytes(canonicalJson(data)));
  return toHex(new Uint8Array(digest));
}

/** Returns the canonical string of a producer signature: six lines joined by `\n`. */
export async function canonicalString(fields: SignedFields): Promise<string> {
  const digest = await dataDigest(fields.data);
  return [canonicalVersion, fields.queue, fields.id, String(fields.timestamp), fields.nonce, digest].join('\n');
}

/**
 * Returns the string that evq's storage signature covers: the canonical string with an empty
 * nonce, then a line with the producer id (empty when there is none).
 */
export async function storageCanonicalString(fields: Omit<SignedFields, 'nonce'>, producer: string | null): Promise<string> {
  return `${await canonicalString({ ...fields, nonce: '' })}\n${producer ?? ''}`;
}
