import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  canonicalString,
  dataDigest,
  importEd25519PrivateKey,
  importEd25519PublicKey,
  MessageVerificationError,
  MessageVerifier,
  merkleLeafHash,
  merkleRootFromPath,
  merkleRootFromProof,
  parseMerkleProof,
  signedRootText,
  signV1,
  signV1a,
  storageCanonicalString,
  type VerifiableMessage,
  verifyV1a,
  verifyV1m,
} from '../../src/client/index.ts';
import { loadSignatureVectors, type VectorCase } from '../helpers/signature-vectors.ts';

const vectors = loadSignatureVectors();
const { keys } = vectors;
const producerPrivate = await importEd25519PrivateKey(Buffer.from(keys.producerEd25519.seedHex, 'hex'));
const producerPublic = await importEd25519PublicKey(Buffer.from(keys.producerEd25519.publicKeyHex, 'hex'));
const evqPrivate = await importEd25519PrivateKey(Buffer.from(keys.evqEd25519.seedHex, 'hex'));
const evqPublic = await importEd25519PublicKey(Buffer.from(keys.evqEd25519.publicKeyHex, 'hex'));

const casesByName = new Map(vectors.cases.map((entry) => [entry.name, entry]));

/** Returns the vector case with this name, failing the test when the file has none. */
function vectorCase(name: string): VectorCase {
  const entry = casesByName.get(name);
  if (entry === undefined) throw new Error(`sdk/vectors/signatures.json has no case named ${JSON.stringify(name)}.`);
  return entry;
}

/** A JWKS that lists only the vectors' evq key, so the verifier makes no network request. */
const vectorJwks = {
  keys: [{ kty: 'OKP', crv: 'Ed25519', kid: keys.evqEd25519.kid, x: Buffer.from(keys.evqEd25519.publicKeyHex, 'hex').toString('base64url') }],
};

function vectorVerifier(): MessageVerifier {
  return new MessageVerifier({ url: 'http://evq.invalid', fetch: () => Promise.resolve(Response.json(vectorJwks)) });
}

/**
 * Returns a vector case as a consumer receives it from evq's GraphQL API, with deliverAt as an
 * ISO 8601 string and evq's signature `value` and `proof`.
 */
function storedMessage(entry: VectorCase, value: string, proof: string | null | undefined): VerifiableMessage {
  return {
    queue: entry.queue,
    id: entry.id,
    data: JSON.parse(entry.dataJson) as unknown,
    producer: entry.producer,
    key: entry.key,
    headers: entry.headers,
    deliverAt: entry.deliverAt === null ? null : new Date(entry.deliverAt).toISOString(),
    signature: { keyId: keys.evqEd25519.kid, timestamp: entry.timestamp, nonce: '', value, proof },
  };
}

async function verificationFailure(verifier: MessageVerifier, message: VerifiableMessage): Promise<MessageVerificationError> {
  const error = await verifier.verify(message).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MessageVerificationError);
  return error as MessageVerificationError;
}

/**
 * Returns changed copies of a proof that must not verify: another position in the same tree,
 * a size that cannot hold the index, a changed, missing, extra or reordered path hash, and
 * malformed text.
 */
function tamperedProofs(proof: string): Array<[string, string]> {
  const parsed = parseMerkleProof(proof)!;
  const { index, size, path } = parsed;
  const encode = (hashes: Uint8Array[]) => Buffer.concat(hashes).toString('base64');
  const encodedPath = encode(path);
  const tampered: Array<[string, string]> = [
    ['size not above the index', `${index}:${index}:${encodedPath}`],
    ['size 0', `${index}:0:${encodedPath}`],
    ['extra path hash', `${index}:${size}:${encode([...path, new Uint8Array(32)])}`],
    ['path with a partial hash', `${index}:${size}:${encode([...path, new Uint8Array(1)])}`],
    ['negative index', `-${index + 1}:${size}:${encodedPath}`],
    ['index with a leading zero', `0${index}:${size}:${encodedPath}`],
    ['missing path field', `${index}:${size}`],
    ['path not base64', `${index}:${size}:${'!'.repeat(44)}`],
    ['empty', ''],
  ];
  for (let other = 0; other < size; other++) {
    if (other !== index) tampered.push([`index ${other}`, `${other}:${size}:${encodedPath}`]);
  }
  for (let position = 0; position < path.length; position++) {
    const changed = path.map((hash) => Uint8Array.from(hash));
    changed[position]![31]! ^= 0x01;
    tampered.push([`changed path hash ${position}`, `${index}:${size}:${encode(changed)}`]);
    tampered.push([`missing path hash ${position}`, `${index}:${size}:${encode(path.filter((_hash, kept) => kept !== position))}`]);
  }
  if (encodedPath.endsWith('=')) tampered.push(['path without base64 padding', `${index}:${size}:${encodedPath.replace(/=+$/, '')}`]);
  if (path.length >= 2) tampered.push(['reversed path', `${index}:${size}:${encode([...path].reverse())}`]);
  return tampered;
}

/**
 * Returns changed copies of a message whose key, headers or deliverAt differ from what evq signed,
 * including an empty key for none, a key or header with a line feed, and deliverAt 1 ms off.
 */
function storedFieldChanges(message: VerifiableMessage): Array<[string, VerifiableMessage]> {
  const changes: Array<[string, VerifiableMessage]> = [
    ['key', { ...message, key: `${message.key ?? ''}x` }],
    ['key with a line feed', { ...message, key: `${message.key ?? ''}\n` }],
    ['added header', { ...message, headers: { ...message.headers, 'x-added': '1' } }],
    ['header name case', { ...message, headers: { ...message.headers, 'X-Added': '1' } }],
    ['deliverAt 1 ms later', { ...message, deliverAt: new Date((message.deliverAt === null ? 0 : Date.parse(message.deliverAt)) + 1).toISOString() }],
  ];
  changes.push(message.key === null ? ['empty key for none', { ...message, key: '' }] : ['key removed', { ...message, key: null }]);
  if (message.deliverAt !== null) changes.push(['deliverAt removed', { ...message, deliverAt: null }]);
  for (const [name, value] of Object.entries(message.headers)) {
    const { [name]: _removed, ...rest } = message.headers;
    changes.push([`header ${name} removed`, { ...message, headers: rest }]);
    changes.push([`header ${name} changed`, { ...message, headers: { ...message.headers, [name]: `${value}x` } }]);
  }
  return changes;
}

describe('client signature vectors', () => {
  describe.each(vectors.cases.map((entry) => [entry.name, entry] as const))('%s', (_name, entry) => {
    const data = JSON.parse(entry.dataJson) as unknown;
    const fields = { queue: entry.queue, id: entry.id, timestamp: entry.timestamp, nonce: entry.nonce, data };

    it('canonical strings match', async () => {
      expect(canonicalJson(data)).toBe(entry.jcs);
      expect(await dataDigest(data)).toBe(entry.dataSha256);
      expect(await canonicalString(fields)).toBe(entry.canonical);
      expect(await storageCanonicalString(fields, entry)).toBe(entry.storage.canonical);
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

    it('verifier accepts the v1a storage signature', async () => {
      const verifier = vectorVerifier();
      await expect(verifier.verify(storedMessage(entry, entry.storage.signature, null))).resolves.toBeUndefined();
      await expect(verifier.verify(storedMessage(entry, entry.storage.signature, undefined))).resolves.toBeUndefined();
    });

    it('verifier rejects changed stored fields', async () => {
      const verifier = vectorVerifier();
      const message = storedMessage(entry, entry.storage.signature, null);
      for (const [change, changed] of storedFieldChanges(message)) {
        const error = await verificationFailure(verifier, changed);
        expect(error.code, change).toBe('INVALID_SIGNATURE');
      }
    });
  });

  it('verifier reads deliverAt as an instant', async () => {
    const entry = vectors.cases.find((candidate) => candidate.deliverAt !== null)!;
    const message = storedMessage(entry, entry.storage.signature, null);
    const offset = new Date(entry.deliverAt! + 3_600_000).toISOString().replace('Z', '+01:00');
    await expect(vectorVerifier().verify({ ...message, deliverAt: offset })).resolves.toBeUndefined();
  });

  it('verifier rejects an invalid deliverAt', async () => {
    const entry = vectors.cases[0]!;
    const error = await verificationFailure(vectorVerifier(), { ...storedMessage(entry, entry.storage.signature, null), deliverAt: 'tomorrow' });
    expect(error.code).toBe('INVALID_SIGNATURE');
    expect(error.message).toContain('"tomorrow"');
  });

  it('verifier takes null headers as none', async () => {
    const entry = vectors.cases.find((candidate) => Object.keys(candidate.headers).length === 0)!;
    const message = { ...storedMessage(entry, entry.storage.signature, null), headers: null } as unknown as VerifiableMessage;
    await expect(vectorVerifier().verify(message)).resolves.toBeUndefined();
  });

  it.each(['key', 'headers', 'deliverAt'] as const)('verifier throws without %s', async (field) => {
    const entry = vectors.cases[0]!;
    const message: Partial<VerifiableMessage> = { ...storedMessage(entry, entry.storage.signature, null) };
    delete message[field];
    const error = await vectorVerifier()
      .verify(message as VerifiableMessage)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toContain(`is missing ${field}.`);
  });

  it('storage canonical string rejects a fractional deliverAt', async () => {
    const entry = vectors.cases[0]!;
    const fields = { queue: entry.queue, id: entry.id, timestamp: entry.timestamp, data: JSON.parse(entry.dataJson) as unknown };
    await expect(storageCanonicalString(fields, { ...entry, deliverAt: 1.5 })).rejects.toThrow(RangeError);
    await expect(storageCanonicalString(fields, { ...entry, deliverAt: Number.NaN })).rejects.toThrow(RangeError);
  });

  it('rejects malformed v1a values', async () => {
    const entry = vectors.cases[0]!;
    const signature = entry.v1a.slice('v1a='.length);
    expect(await verifyV1a(producerPublic, entry.canonical, `v1=${signature}`)).toBe(false);
    expect(await verifyV1a(producerPublic, entry.canonical, `v1a=${signature.slice(4)}`)).toBe(false);
    expect(await verifyV1a(producerPublic, entry.canonical, 'v1a=!!!!')).toBe(false);
    expect(await verifyV1a(producerPublic, entry.canonical, 'v1a=')).toBe(false);
  });

  it('rejects a v1a value with a proof', async () => {
    const entry = vectors.cases[0]!;
    for (const proof of ['0:1:', '']) {
      const error = await verificationFailure(vectorVerifier(), storedMessage(entry, entry.storage.signature, proof));
      expect(error.code).toBe('INVALID_SIGNATURE');
    }
  });

  it('rejects a v1m value without its proof', async () => {
    const batch = vectors.storageBatches[0]!;
    const entry = vectorCase(batch.cases[0]!);
    for (const proof of [null, undefined, '']) {
      const error = await verificationFailure(vectorVerifier(), storedMessage(entry, batch.signature, proof));
      expect(error.code).toBe('MISSING_SIGNATURE');
      expect(error.message).toContain('proof');
    }
  });
});

describe('client storage batch vectors', () => {
  it('vectors cover every tree shape', () => {
    const sizes = vectors.storageBatches.map((batch) => batch.leaves.length);
    expect(sizes).toContain(1);
    expect(sizes.some((size) => size > 2 && (size & (size - 1)) !== 0)).toBe(true);
    expect(new Set(vectors.storageBatches.flatMap((batch) => batch.cases))).toEqual(new Set(casesByName.keys()));
  });

  describe.each(vectors.storageBatches.map((batch) => [batch.name, batch] as const))('%s', (_name, batch) => {
    const entries = batch.cases.map(vectorCase);

    it('leaves, proofs and root match', async () => {
      expect(batch.leaves).toHaveLength(entries.length);
      expect(batch.proofs).toHaveLength(entries.length);
      for (const [index, entry] of entries.entries()) {
        const leaf = await merkleLeafHash(entry.storage.canonical);
        expect(Buffer.from(leaf).toString('hex')).toBe(batch.leaves[index]);

        const proof = parseMerkleProof(batch.proofs[index]!);
        expect(proof).not.toBeNull();
        expect(proof!.index).toBe(index);
        expect(proof!.size).toBe(entries.length);
        const root = await merkleRootFromPath(leaf, proof!.index, proof!.size, proof!.path);
        expect(root).not.toBeNull();
        expect(Buffer.from(root!).toString('hex')).toBe(batch.root);
        expect(signedRootText(root!)).toBe(batch.signedRoot);
      }
    });

    it('paths of the wrong length give no root', async () => {
      for (const [index, entry] of entries.entries()) {
        const leaf = await merkleLeafHash(entry.storage.canonical);
        const { size, path } = parseMerkleProof(batch.proofs[index]!)!;
        expect(await merkleRootFromPath(leaf, index, size, [...path, new Uint8Array(32)])).toBeNull();
        if (path.length > 0) expect(await merkleRootFromPath(leaf, index, size, path.slice(0, -1))).toBeNull();
      }
    });

    it('signature matches', async () => {
      const signature = await globalThis.crypto.subtle.sign('Ed25519', evqPrivate, new TextEncoder().encode(batch.signedRoot));
      expect(`v1m=${Buffer.from(signature).toString('base64')}`).toBe(batch.signature);
    });

    it('every proof verifies', async () => {
      const verifier = vectorVerifier();
      for (const [index, entry] of entries.entries()) {
        const proof = batch.proofs[index]!;
        expect(await verifyV1m(evqPublic, entry.storage.canonical, batch.signature, proof)).toBe(true);
        await expect(verifier.verify(storedMessage(entry, batch.signature, proof))).resolves.toBeUndefined();
      }
    });

    it('tampered proofs fail', async () => {
      const verifier = vectorVerifier();
      for (const [index, entry] of entries.entries()) {
        for (const [change, proof] of tamperedProofs(batch.proofs[index]!)) {
          const root = await merkleRootFromProof(entry.storage.canonical, proof);
          expect(root === null ? null : Buffer.from(root).toString('hex'), `${change} of proof ${index}`).not.toBe(batch.root);
          expect(await verifyV1m(evqPublic, entry.storage.canonical, batch.signature, proof), `${change} of proof ${index}`).toBe(false);

          const message = storedMessage(entry, batch.signature, proof);
          const error = await verificationFailure(verifier, message);
          expect(error.code, `${change} of proof ${index}`).toBe(proof === '' ? 'MISSING_SIGNATURE' : 'INVALID_SIGNATURE');
        }
      }
    });

    it('proofs fail for another message', async () => {
      const verifier = vectorVerifier();
      for (const [index, entry] of entries.entries()) {
        const other = vectors.cases.find((candidate) => candidate.storage.canonical !== entry.storage.canonical)!;
        expect(await verifyV1m(evqPublic, other.storage.canonical, batch.signature, batch.proofs[index]!)).toBe(false);
        expect(await verifyV1m(evqPublic, `${entry.storage.canonical}x`, batch.signature, batch.proofs[index]!)).toBe(false);
        expect((await verificationFailure(verifier, storedMessage(other, batch.signature, batch.proofs[index]!))).code).toBe('INVALID_SIGNATURE');
      }
    });

    it('rejects malformed v1m values', async () => {
      const entry = entries[0]!;
      const proof = batch.proofs[0]!;
      const signature = batch.signature.slice('v1m='.length);
      expect(await verifyV1m(evqPublic, entry.storage.canonical, `v1a=${signature}`, proof)).toBe(false);
      expect(await verifyV1m(evqPublic, entry.storage.canonical, `v1m=${signature.slice(4)}`, proof)).toBe(false);
      expect(await verifyV1m(evqPublic, entry.storage.canonical, 'v1m=!!!!', proof)).toBe(false);
      expect(await verifyV1m(evqPublic, entry.storage.canonical, 'v1m=', proof)).toBe(false);
      expect(await verifyV1a(evqPublic, batch.signedRoot, batch.signature)).toBe(false);

      const otherBatch = vectors.storageBatches.find((candidate) => candidate.root !== batch.root)!;
      expect(await verifyV1m(evqPublic, entry.storage.canonical, otherBatch.signature, proof)).toBe(false);
      expect((await verificationFailure(vectorVerifier(), storedMessage(entry, otherBatch.signature, proof))).code).toBe('INVALID_SIGNATURE');
    });
  });
});
