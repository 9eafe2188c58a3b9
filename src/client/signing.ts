/**
 * Producer signatures (`v1` HMAC-SHA256 and `v1a` Ed25519) and verification of Ed25519 `v1a` and
 * `v1m` signatures with WebCrypto (`globalThis.crypto.subtle`), which browsers and Node.js 22 and
 * later provide.
 */
import { canonicalString } from './canonical.ts';
import { fromBase64, toBase64, utf8Bytes } from './encoding.ts';
import { merkleRootFromProof, signedRootText } from './merkle.ts';

/** A signature as `PublishInput.signature` takes it. */
export interface MessageSignature {
  keyId: string;
  /** Unix time in seconds. */
  timestamp: number;
  /** Empty in evq's own signatures. */
  nonce: string;
  /** `v1=`, `v1a=` or, in evq's own signatures, `v1m=` followed by the standard base64 signature. */
  value: string;
}

/** evq's signature of a stored message, as `Message.signature` returns it. */
export interface StorageSignature extends MessageSignature {
  /**
   * The Merkle proof of a `v1m` signature, `<index>:<size>:<standard base64 of the audit path>`,
   * or null for a `v1a` signature.
   */
  proof: string | null;
}

/**
 * The key that signs a publish: a queue key's id and secret (`evq_qk_…`) for `v1`, or the id of a
 * key registered with `registerSigningKey` and its Ed25519 private key for `v1a`.
 */
export type SigningKey = { keyId: string; secret: string; privateKey?: never } | { keyId: string; privateKey: CryptoKey; secret?: never };

export type SignMessageOptions = SigningKey & {
  queue: string;
  /** The message id, which the signed publish must send. */
  id: string;
  data: unknown;
  /** Unix time in seconds, now by default. evq rejects a timestamp more than 300 s from its clock. */
  timestamp?: number;
  /** A value that the key never signed with before, a random UUID by default. */
  nonce?: string;
};

/** DER prefix of a PKCS #8 Ed25519 private key, followed by the 32-byte seed (RFC 8410). */
const pkcs8Ed25519Prefix = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/**
 * Signs a message for `PublishInput.signature`: `v1` with a queue key's secret, `v1a` with an
 * Ed25519 private key. Throws for data that has no JSON form.
 */
export async function signMessage(options: SignMessageOptions): Promise<MessageSignature> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const nonce = options.nonce ?? globalThis.crypto.randomUUID();
  const canonical = await canonicalString({ queue: options.queue, id: options.id, timestamp, nonce, data: options.data });
  const value = options.privateKey === undefined ? await signV1(options.secret, canonical) : await signV1a(options.privateKey, canonical);
  return { keyId: options.keyId, timestamp, nonce, value };
}

/** Returns `v1=` + base64 HMAC-SHA256 of the canonical string, keyed with the secret's UTF-8 bytes. */
export async function signV1(secret: string, canonical: string): Promise<string> {
  const key = await globalThis.crypto.subtle.importKey('raw', utf8Bytes(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await globalThis.crypto.subtle.sign('HMAC', key, utf8Bytes(canonical));
  return `v1=${toBase64(new Uint8Array(mac))}`;
}

/** Returns `v1a=` + base64 Ed25519 signature of the canonical string. */
export async function signV1a(privateKey: CryptoKey, canonical: string): Promise<string> {
  const signature = await globalThis.crypto.subtle.sign('Ed25519', privateKey, utf8Bytes(canonical));
  return `v1a=${toBase64(new Uint8Array(signature))}`;
}

/** Checks a `v1a=` value. Returns false for a malformed value or a wrong signature. */
export async function verifyV1a(publicKey: CryptoKey, canonical: string, value: string): Promise<boolean> {
  if (!value.startsWith('v1a=')) return false;
  const signature = fromBase64(value.slice('v1a='.length));
  if (signature === null || signature.length !== 64) return false;
  return globalThis.crypto.subtle.verify('Ed25519', publicKey, signature, utf8Bytes(canonical));
}

/**
 * Checks a `v1m=` value: the Ed25519 signature of the Merkle root that the storage canonical string
 * and its proof lead to. Returns false for a malformed value or proof, or a wrong signature.
 */
export async function verifyV1m(publicKey: CryptoKey, canonical: string, value: string, proof: string): Promise<boolean> {
  if (!value.startsWith('v1m=')) return false;
  const signature = fromBase64(value.slice('v1m='.length));
  if (signature === null || signature.length !== 64) return false;
  const root = await merkleRootFromProof(canonical, proof);
  if (root === null) return false;
  return globalThis.crypto.subtle.verify('Ed25519', publicKey, signature, utf8Bytes(signedRootText(root)));
}

/** Imports the Ed25519 private key whose 32-byte seed is given, for `v1a` signing. */
export async function importEd25519PrivateKey(seed: Uint8Array): Promise<CryptoKey> {
  if (seed.length !== 32) throw new RangeError(`An Ed25519 seed has 32 bytes, not ${seed.length}.`);
  const pkcs8 = new Uint8Array([...pkcs8Ed25519Prefix, ...seed]);
  return globalThis.crypto.subtle.importKey('pkcs8', pkcs8, 'Ed25519', false, ['sign']);
}

/** Imports an Ed25519 public key from its 32 raw bytes, for verification. */
export async function importEd25519PublicKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== 32) throw new RangeError(`An Ed25519 public key has 32 bytes, not ${raw.length}.`);
  return globalThis.crypto.subtle.importKey('raw', new Uint8Array(raw), 'Ed25519', true, ['verify']);
}

/** Returns the 32 raw bytes of an Ed25519 public key in standard base64, as `registerSigningKey` takes it. */
export async function exportEd25519PublicKey(publicKey: CryptoKey): Promise<string> {
  return toBase64(new Uint8Array(await globalThis.crypto.subtle.exportKey('raw', publicKey)));
}
