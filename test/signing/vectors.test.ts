import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalString, dataDigest, storageCanonicalString } from '../../src/signing/canonical.ts';
import { leafHash, MerkleTree, signedRoot, verifyStorageSignature } from '../../src/signing/merkle.ts';
import {
  ed25519PrivateKeyFromSeed,
  ed25519PublicKeyFromRaw,
  signV1,
  signV1a,
  verifyV1,
  verifyV1a,
} from '../../src/signing/signatures.ts';
import { loadSignatureVectors } from '../helpers/signature-vectors.ts';

const vectors = loadSignatureVectors();
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
      expect(storageCanonicalString(fields, entry)).toBe(entry.storage.canonical);
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

describe('storage batch vectors', () => {
  const canonicalOf = (name: string) => vectors.cases.find((entry) => entry.name === name)!.storage.canonical;

  describe.each(vectors.storageBatches.map((batch) => [batch.name, batch] as const))('%s', (_name, batch) => {
    const canonicals = batch.cases.map(canonicalOf);

    it('tree and signature match', () => {
      const tree = new MerkleTree(canonicals.map(leafHash));
      expect(canonicals.map((canonical) => leafHash(canonical).toString('hex'))).toEqual(batch.leaves);
      expect(tree.root.toString('hex')).toBe(batch.root);
      expect(signedRoot(tree.root)).toBe(batch.signedRoot);
      expect(`v1m=${signV1a(evqPrivate, batch.signedRoot).slice(4)}`).toBe(batch.signature);
      expect(batch.proofs).toEqual(canonicals.map((_canonical, index) => `${index}:${canonicals.length}:${Buffer.concat(tree.path(index)).toString('base64')}`));
    });

    it('every proof verifies', () => {
      for (const [index, canonical] of canonicals.entries()) {
        expect(verifyStorageSignature(evqPublic, canonical, batch.signature, batch.proofs[index]!)).toBe(true);
      }
    });

    it('tampered proofs fail', () => {
      const [index, size, path] = batch.proofs[0]!.split(':') as [string, string, string];
      const bytes = Buffer.from(path, 'base64');
      const flipped = Buffer.from(bytes);
      if (flipped.length > 0) flipped[0]! ^= 1;
      // A different size can lead to the same root without proving anything new, because the
      // leaf hash is what binds the message. Only changes that alter the hashes must fail.
      const tampered = [
        `${Number(index) + 1}:${size}:${path}`,
        `${index}:${size}:${Buffer.concat([bytes, Buffer.alloc(32)]).toString('base64')}`,
        ...(bytes.length > 0
          ? [`${index}:${size}:${flipped.toString('base64')}`, `${index}:${size}:${bytes.subarray(32).toString('base64')}`]
          : []),
      ];
      for (const proof of tampered) expect(verifyStorageSignature(evqPublic, canonicals[0]!, batch.signature, proof)).toBe(false);
      expect(verifyStorageSignature(evqPublic, `${canonicals[0]!}x`, batch.signature, batch.proofs[0]!)).toBe(false);
    });
  });
});
