import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefix of a service account's API key. */
export const apiKeyPrefix = 'evq_sk_';
/** Prefix of a queue key's secret. */
export const queueKeyPrefix = 'evq_qk_';

/** A credential string split into the id that finds its record and the secret that proves it. */
export interface ParsedCredential {
  id: string;
  secret: string;
}

/** Returns a new random id of 16 base64url characters for a service account or queue key. */
export function newCredentialId(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * Returns a new credential string `<prefix><id>.<secret>` with 256 random bits of secret. The id
 * in it lets evq find the record without scanning; only the SHA-256 digest of the whole string is
 * stored. A fast digest is enough because the secret is random, not a password.
 */
export function newCredential(prefix: string, id: string): string {
  return `${prefix}${id}.${randomBytes(32).toString('base64url')}`;
}

/** Splits `<prefix><id>.<secret>`; returns null when the string does not have that form. */
export function parseCredential(prefix: string, credential: string): ParsedCredential | null {
  if (!credential.startsWith(prefix)) return null;
  const rest = credential.slice(prefix.length);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot === rest.length - 1) return null;
  return { id: rest.slice(0, dot), secret: rest.slice(dot + 1) };
}

/** Returns the stored form of a credential: the hex SHA-256 digest of the whole string. */
export function digestCredential(credential: string): string {
  return hash('sha256', credential, 'hex');
}

/** Compares a credential with a stored digest in constant time. */
export function credentialMatches(credential: string, storedDigest: string): boolean {
  const actual = Buffer.from(digestCredential(credential), 'hex');
  const expected = Buffer.from(storedDigest, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
