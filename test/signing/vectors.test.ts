import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalString, dataDigest, storageCanonicalString } from '../../src/signing/canonical.ts';
import {
  ed25519PrivateKeyFromSeed,
  ed25519PublicKeyFromRaw,
  signV1,
  signV1a,
  verifyV1,
  verifyV1a,
} from '../../src/signing/signatures.ts';

interface VectorCase {
  name: string;
  queue: string;
  id: string;
  timestamp: number;
  nonce: string;
  dataJson: string;
  producer: string | null;
  jcs: string;
  dataSha256: string;
  canonical: string;
  v1: string;
  v1a: string;
  storage: { canonical: string; signature: string };
}

const vectors = JSON.parse(readFileSync(new URL('../../sdk/vectors/signatures.json', import.meta.url), 'utf8')) as {
  keys: { hmacSecret: string; producerEd25519: { seedHex: string; publicKeyHex: string }; evqEd25519: { seedHex: string; publicKeyHex: string } };
  cases: VectorCase[];
};
const { keys } = vectors;
const producerPrivate = ed25519PrivateKeyFromSeed(Buffer.from(keys.producerEd25519.seedHex, 'hex'));
const producerPublic = ed25519PublicKeyFromRaw(Buffer.from(keys.producerEd25519.publicKeyHex, 'hex'));
const evqPrivate = ed25519PrivateKeyFromSeed(Buffer.from(keys.evqEd25519.seedHex, 'hex'));
const evqPublic = ed25519PublicKeyFromRaw(Buffer.from(keys.evqEd25519.publicKeyHex, 'hex'));

describe('signature vectors', () => {
  it('cover the required kinds of data', () => {
    expect(vectors.cases.map((entry) => entry.name)).toEqual(
      expect.arrayContaining(['unicode strings and keys', 'numbers', 'nested objects and arrays', 'empty strings']),
    );
  });

  describe.each(vectors.cases.map((entry) => [entry.name, entry] as const))('%s', (_name, entry) => {
    const data = JSON.parse(entry.dataJson) as unknown;
    const fields = { queue: entry.queue, id: entry.id, timestamp: entry.timestamp, nonce: entry.nonce, data };

    it('canonical bytes match', () => {
      expect(canonicalJson(data)).toBe(entry.jcs);
      expect(dataDigest(data)).toBe(entry.dataSha256);
      expect(canonicalString(fields)).toBe(entry.canonical);
      expect(storageCanonicalString(fields, entry.producer)).toBe(entry.storage.canonical);
    });

    it('signatures match', () => {
      expect(signV1(keys.hmacSecret, entry.canonical)).toBe(entry.v1);
      expect(signV1a(producerPrivate, entry.canonical)).toBe(entry.v1a);
      expect(signV1a(evqPrivate, entry.storage.canonical)).toBe(entry.storage.signature);
    });

    it('signatures verify', () => {
      expect(verifyV1(keys.hmacSecret, entry.canonical, entry.v1)).toBe(true);
      expect(verifyV1a(producerPublic, entry.canonical, entry.v1a)).toBe(true);
      expect(verifyV1a(evqPublic, entry.storage.canonical, entry.storage.signature)).toBe(true);
    });

    it('changed canonical fails', () => {
      expect(verifyV1(keys.hmacSecret, `${entry.canonical}x`, entry.v1)).toBe(false);
      expect(verifyV1a(producerPublic, `${entry.canonical}x`, entry.v1a)).toBe(false);
    });
  });
});
