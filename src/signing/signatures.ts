import { createHmac, createPrivateKey, createPublicKey, type KeyObject, sign, timingSafeEqual, verify } from 'node:crypto';

/** DER prefix of a PKCS #8 Ed25519 private key, followed by the 32-byte seed (RFC 8410). */
const pkcs8Ed25519Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
/** DER prefix of an SPKI Ed25519 public key, followed by the 32 raw key bytes (RFC 8410). */
const spkiEd25519Prefix = Buffer.from('302a300506032b6570032100', 'hex');

/** Returns `v1=` + base64 HMAC-SHA256 of the canonical string, keyed with the secret's UTF-8 bytes. */
export function signV1(secret: string, canonical: string): string {
  return `v1=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(canonical, 'utf8').digest('base64')}`;
}

/** Returns `v1a=` + base64 Ed25519 signature of the canonical string. */
export function signV1a(privateKey: KeyObject, canonical: string): string {
  return `v1a=${sign(null, Buffer.from(canonical, 'utf8'), privateKey).toString('base64')}`;
}

/** Checks a `v1=` value in constant time; false for any other form. */
export function verifyV1(secret: string, canonical: string, value: string): boolean {
  const expected = Buffer.from(signV1(secret, canonical), 'utf8');
  const actual = Buffer.from(value, 'utf8');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Checks a `v1a=` value; false for a malformed value or a wrong signature. */
export function verifyV1a(publicKey: KeyObject, canonical: string, value: string): boolean {
  const signature = decodeSignature(value, 'v1a=');
  return signature !== null && signature.length === 64 && verify(null, Buffer.from(canonical, 'utf8'), publicKey, signature);
}

/** Returns the bytes of `<prefix><standard base64>`, or null when it is not that form. */
export function decodeSignature(value: string, prefix: string): Buffer | null {
  if (!value.startsWith(prefix)) return null;
  const text = value.slice(prefix.length);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  return Buffer.from(text, 'base64');
}

/** Returns the Ed25519 private key whose 32-byte seed is given. */
export function ed25519PrivateKeyFromSeed(seed: Buffer): KeyObject {
  if (seed.length !== 32) throw new RangeError(`An Ed25519 seed has 32 bytes, not ${seed.length}.`);
  return createPrivateKey({ key: Buffer.concat([pkcs8Ed25519Prefix, seed]), format: 'der', type: 'pkcs8' });
}

/** Returns the Ed25519 public key with the given 32 raw bytes. */
export function ed25519PublicKeyFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new RangeError(`An Ed25519 public key has 32 bytes, not ${raw.length}.`);
  return createPublicKey({ key: Buffer.concat([spkiEd25519Prefix, raw]), format: 'der', type: 'spki' });
}

/** Returns the 32 raw bytes of an Ed25519 public key. */
export function ed25519RawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(spkiEd25519Prefix.length);
}
