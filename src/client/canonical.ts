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

/** The fields of a stored message that evq's storage signature covers besides the signed fields. */
export interface StoredFields {
  producer: string | null;
  key: string | null;
  /** The producer's headers without evq's own `evq-` headers, empty when there are none. */
  headers: Record<string, string>;
  /** When a work-queue receiver may first get the message, in ms since the epoch, or null for at once. */
  deliverAt: number | null;
}

/**
 * Returns the string that evq's storage signature covers, which is the canonical string with an
 * empty nonce and four more lines. The producer id and the key come as JCS strings, so a line feed
 * in them cannot shift the lines, or as an empty line when absent. Then come the hex SHA-256 of
 * the JCS form of the headers (`{}` when there are none) and deliverAt in ms since the epoch,
 * empty when absent. Throws RangeError when deliverAt is not an integer.
 */
export async function storageCanonicalString(fields: Omit<SignedFields, 'nonce'>, stored: StoredFields): Promise<string> {
  if (stored.deliverAt !== null && !Number.isSafeInteger(stored.deliverAt)) {
    throw new RangeError(`Invalid deliverAt ${stored.deliverAt}; expected an integer number of ms since the epoch.`);
  }
  return [
    await canonicalString({ ...fields, nonce: '' }),
    stored.producer === null ? '' : canonicalJson(stored.producer),
    stored.key === null ? '' : canonicalJson(stored.key),
    await dataDigest(stored.headers),
    stored.deliverAt === null ? '' : String(stored.deliverAt),
  ].join('\n');
}
