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
 * NOTE: it does not cover the message's key, headers or deliverAt; evq's storage signature does.
 */
export function canonicalString(fields: SignedFields): string {
  return [canonicalVersion, fields.queue, fields.id, String(fields.timestamp), fields.nonce, dataDigest(fields.data)].join('\n');
}

/** The fields of a stored message that evq's storage signature covers besides the signed fields. */
export interface StoredFields {
  producer: string | null;
  key: string | null;
  /** The producer's headers, without evq's own `evq-` headers; empty when there are none. */
  headers: Record<string, string>;
  /** When a work-queue receiver may first get the message, in ms since the epoch; null for at once. */
  deliverAt: number | null;
}

/**
 * Returns the string that evq's storage signature covers: the canonical string with an empty
 * nonce, then four lines. The producer id and the key come as JCS strings, so a line feed in them
 * cannot shift the lines, and as empty lines when absent. Then the hex SHA-256 of the JCS form of
 * the headers (`{}` when there are none), and deliverAt in ms since the epoch, empty when absent.
 */
export function storageCanonicalString(fields: Omit<SignedFields, 'nonce'>, stored: StoredFields): string {
  return [
    canonicalString({ ...fields, nonce: '' }),
    stored.producer === null ? '' : canonicalJson(stored.producer),
    stored.key === null ? '' : canonicalJson(stored.key),
    headersDigest(stored.headers),
    stored.deliverAt === null ? '' : String(stored.deliverAt),
  ].join('\n');
}

/** Digest of `{}`, the headers of most messages, computed once. */
const emptyHeadersDigest = dataDigest({});

function headersDigest(headers: Record<string, string>): string {
  return Object.keys(headers).length === 0 ? emptyHeadersDigest : dataDigest(headers);
}
