import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  canonicalString,
  dataDigest,
  importEd25519PrivateKey,
  importEd25519PublicKey,
  signV1,
  signV1a,
  storageCanonicalString,
  verifyV1a,
} from '../../src/client/index.ts';

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
const producerPrivate = await importEd25519PrivateKey(Buffer.from(keys.producerEd25519.seedHex, 'hex'));
const producerPublic = await importEd25519PublicKey(Buffer.from(keys.producerEd25519.publicKeyHex, 'hex'));
const evqPrivate = await importEd25519PrivateKey(Buffer.from(keys.evqEd25519.seedHex, 'hex'));
const evqPublic = await importEd25519PublicKey(Buffer.from(keys.evqEd25519.publicKeyHex, 'hex'));

describe('client signature vectors', () => {
  describe.each(vectors.cases.map((entry) => [entry.name, entry] as const))('%s', (_name, entry) => {
    const data = JSON.parse(entry.dataJson) as unknown;
    const fields = { queue: entry.queue, id: entry.id, timestamp: entry.timestamp, nonce: entry.nonce, data };

    it('canonical strings match', async () => {
      expect(canonicalJson(data)).toBe(entry.jcs);
      expect(await dataDigest(data)).toBe(entry.dataSha256);
      expect(await canonicalString(fields)).toBe(entry.canonical);
      expect(await storageCanonicalString(fields, entry.producer)).toBe(entry.storage.canonical);
    });

    it('signatures match', async () => {
      expect(await signV1(keys.hmacSecret, entry.canonical)).toBe(entry.v1);
      expect(await signV1a(producerPrivate, entry.canonical)).toBe(entry.v1a);
      expect(await signV1a(evqPrivate, entry.storage.canonical)).toBe(entry.storage.signature);
    });

    it('signatures verify', async () => {
      expect(await verifyV1a(producerPublic, entry.canonical, entry.v1a)).toBe(true);
      expect(await verifyV1a(evqPublic, entry.storage.canonical, entry.storage.signature)).toBe(true);
      expect(await verifyV1a(evqPublic, `${entry.storage.canonical}x`, entry.storage.signature)).toBe(false);
    });
  });

  it('rejects malformed v1a values', async () => {
    const entry = vectors.cases[0]!;
    const signature = entry.v1a.slice('v1a='.length);
    expect(await verifyV1a(producerPublic, entry.canonical, `v1=${signature}`)).toBe(false);
    expect(await verifyV1a(producerPublic, entry.canonical, `v1a=${signature.slice(4)}`)).toBe(false);
    expect(await verifyV1a(producerPublic, entry.canonical, 'v1a=!!!!')).toBe(false);
    expect(await verifyV1a(producerPublic, entry.canonical, 'v1a=')).toBe(false);
  });
});
